package dev.baton.supervisor;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.Channel;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent-check's connections, on its one thread. Each goes: read the {@code agent-send} line (or
 * wait {@link AgentCheck#WAIT_FOR_SEND} for none), wait for the supervisor's status, write the
 * answer and shut output, then read and drop whatever comes until the peer hangs up; and is closed
 * at {@link AgentCheck#DEADLINE} after accept wherever it is. Closing before the peer has hung up
 * with its bytes unread would send a reset, which can destroy the answer before HAProxy reads it.
 *
 * <p>The status is asked of the supervisor at most once at a time, for every connection waiting
 * when it is asked: a flood of connections is then a few questions to the loop, not one each.
 */
final class AgentExchanges {
  private static final Logger LOG = LoggerFactory.getLogger(AgentExchanges.class);

  enum Phase {
    READING,
    ASKED,
    AWAITING,
    WRITING,
    ANSWERED
  }

  static final class Exchange {
    final SocketChannel channel;
    final SelectionKey key;
    final long acceptedAt;
    final ByteBuffer send = ByteBuffer.allocate(AgentCheck.MAX_SEND);
    Phase phase = Phase.READING;
    int read;
    boolean sendDone;
    boolean peerDone;
    AgentAnswers.@Nullable Key answersKey;
    @Nullable ByteBuffer out;

    Exchange(SocketChannel channel, SelectionKey key, long acceptedAt) {
      this.channel = channel;
      this.key = key;
      this.acceptedAt = acceptedAt;
    }
  }

  private final AgentAnswers answers;
  private final Supplier<CompletableFuture<Boolean>> draining;
  private final AgentCheck.Counters counters;
  private final Consumer<Runnable> post;
  private final long deadline;
  private final long waitForSend;
  // In accept order, which is also deadline order.
  private final ArrayDeque<Exchange> open = new ArrayDeque<>();
  private final ByteBuffer scratch = ByteBuffer.allocate(AgentCheck.MAX_READ + 1);
  private long question;
  private long askedAt;
  private boolean asking;
  // Read by tests from their own thread.
  private volatile int openCount;

  AgentExchanges(
      AgentAnswers answers,
      Supplier<CompletableFuture<Boolean>> draining,
      AgentCheck.Counters counters,
      Consumer<Runnable> post,
      Duration deadline,
      Duration waitForSend) {
    this.deadline = deadline.toNanos();
    this.waitForSend = waitForSend.toNanos();
    this.answers = answers;
    this.draining = draining;
    this.counters = counters;
    this.post = post;
  }

  int size() {
    return openCount;
  }

  int drainedCount() {
    return answers.drainedCount();
  }

  void add(SocketChannel channel, SelectionKey key, long now) {
    var exchange = new Exchange(channel, key, now);
    key.attach(exchange);
    open.addLast(exchange);
    openCount = open.size();
  }

  /** Handles what the selector said of {@code exchange}; a failure ends that connection only. */
  void ready(Exchange exchange, SelectionKey key) {
    try {
      if (!key.isValid()) {
        close(exchange);
        return;
      }
      if (key.isWritable()) {
        flush(exchange);
      }
      if (key.isValid() && key.isReadable()) {
        read(exchange);
      }
    } catch (IOException | RuntimeException e) {
      LOG.debug("agent-check connection ended: {}", e.toString());
      counters.failed.incrementAndGet();
      close(exchange);
    }
  }

  private void read(Exchange exchange) throws IOException {
    scratch.clear();
    scratch.limit(Math.min(scratch.capacity(), AgentCheck.MAX_READ - exchange.read + 1));
    int n = exchange.channel.read(scratch);
    if (n < 0) {
      exchange.peerDone = true;
      if (exchange.phase == Phase.ANSWERED) {
        close(exchange);
        return;
      }
      // EOF stays readable; watching for it again would spin until the answer is out.
      exchange.key.interestOps(exchange.key.interestOps() & ~SelectionKey.OP_READ);
      finishSend(exchange);
      return;
    }
    exchange.read += n;
    if (exchange.read > AgentCheck.MAX_READ) {
      counters.overRead.incrementAndGet();
      close(exchange);
      return;
    }
    if (exchange.sendDone) {
      return; // after the agent-send line, input is read only to be dropped
    }
    scratch.flip();
    while (scratch.hasRemaining()) {
      byte b = scratch.get();
      if (b == '\n') {
        finishSend(exchange);
        return;
      }
      if (!exchange.send.hasRemaining()) {
        finishSend(exchange); // over MAX_SEND: keyed on what fits, the rest dropped
        return;
      }
      exchange.send.put(b);
    }
  }

  /** The agent-send text is complete (a newline, a hang-up, its limit, or the wait is over). */
  private void finishSend(Exchange exchange) {
    if (exchange.sendDone) {
      return;
    }
    exchange.sendDone = true;
    var bytes = exchange.send;
    int end = bytes.position();
    if (end > 0 && bytes.get(end - 1) == '\r') {
      end--;
    }
    var text = new String(bytes.array(), 0, end, StandardCharsets.ISO_8859_1);
    var peer = exchange.channel.socket().getInetAddress();
    exchange.answersKey = new AgentAnswers.Key(peer, text);
    exchange.phase = Phase.ASKED;
  }

  /**
   * Asks the supervisor's status for every connection that waits for it, unless a question is out.
   */
  void askIfNeeded(long now) {
    if (asking) {
      if (now - askedAt < deadline) {
        return;
      }
      // The loop never answered (it is stopping): those waiting are gone by now; ask afresh.
      LOG.debug(
          "agent-check: the supervisor did not tell its status within {} ms", deadline / 1_000_000);
      for (var exchange : open) {
        if (exchange.phase == Phase.AWAITING) {
          exchange.phase = Phase.ASKED;
        }
      }
      asking = false;
    }
    boolean any = false;
    for (var exchange : open) {
      if (exchange.phase == Phase.ASKED) {
        exchange.phase = Phase.AWAITING;
        any = true;
      }
    }
    if (!any) {
      return;
    }
    asking = true;
    askedAt = now;
    long thisQuestion = ++question;
    CompletableFuture<Boolean> reply;
    try {
      reply = draining.get();
    } catch (RuntimeException e) {
      reply = CompletableFuture.failedFuture(e);
    }
    reply.whenComplete(
        (drain, error) -> post.accept(() -> told(thisQuestion, error == null ? drain : null)));
  }

  /** The answer to question {@code which}: whether to drain; null when there is none. */
  private void told(long which, @Nullable Boolean drain) {
    if (which != question || !asking) {
      return; // a late answer to a question given up on
    }
    asking = false;
    for (var exchange : new ArrayList<>(open)) {
      if (exchange.phase != Phase.AWAITING) {
        continue;
      }
      if (drain == null) {
        // Without a status any answer could be wrong; HAProxy keeps its state when it hears none.
        counters.failed.incrementAndGet();
        close(exchange);
        continue;
      }
      var key = exchange.answersKey;
      if (key == null) {
        close(exchange);
        continue;
      }
      var line = answers.next(key, drain);
      exchange.out = ByteBuffer.wrap(line.getBytes(StandardCharsets.US_ASCII));
      exchange.phase = Phase.WRITING;
      try {
        flush(exchange);
      } catch (IOException | RuntimeException e) {
        LOG.debug("agent-check connection ended before its answer: {}", e.toString());
        counters.failed.incrementAndGet();
        close(exchange);
      }
    }
  }

  private void flush(Exchange exchange) throws IOException {
    var out = exchange.out;
    if (exchange.phase != Phase.WRITING || out == null) {
      return;
    }
    exchange.channel.write(out);
    if (out.hasRemaining()) {
      exchange.key.interestOps(exchange.key.interestOps() | SelectionKey.OP_WRITE);
      return;
    }
    // Counted before the peer can see the end of the answer, so that whoever reads it sees it
    // counted.
    counters.answered.incrementAndGet();
    exchange.channel.shutdownOutput();
    exchange.phase = Phase.ANSWERED;
    if (exchange.peerDone) {
      close(exchange);
    } else {
      exchange.key.interestOps(SelectionKey.OP_READ);
    }
  }

  /**
   * Nanoseconds from {@code now} until the next connection needs a look; Long.MAX_VALUE for none.
   */
  long nextDue(long now) {
    long due = Long.MAX_VALUE;
    for (var exchange : open) {
      long at = exchange.acceptedAt + deadline;
      if (!exchange.sendDone) {
        at = exchange.acceptedAt + waitForSend;
      }
      due = Math.min(due, Math.max(0, at - now));
    }
    if (asking) {
      due = Math.min(due, Math.max(0, askedAt + deadline - now));
    }
    return due;
  }

  /** Closes connections past their deadline; stops waiting for an agent-send line past its wait. */
  void expire(long now) {
    for (var exchange : new ArrayList<>(open)) {
      if (now - exchange.acceptedAt >= deadline) {
        if (exchange.phase != Phase.ANSWERED) {
          counters.expired.incrementAndGet();
        }
        close(exchange);
      } else if (!exchange.sendDone && now - exchange.acceptedAt >= waitForSend) {
        finishSend(exchange);
      }
    }
  }

  /**
   * Makes room for a new connection by closing the oldest one already answered (it has had what it
   * came for), or else the oldest of all: it is the nearest to its deadline, and HAProxy sends its
   * agent-send line as it connects, so a check that is still unanswered after a full cap of newer
   * connections is most likely a client that trickles. Refusing the newest instead would let 64
   * such clients, renewed every wait, lock every real check out.
   */
  void evictOldest() {
    var victim = open.peekFirst();
    for (var exchange : open) {
      if (exchange.phase == Phase.ANSWERED) {
        victim = exchange;
        break;
      }
    }
    if (victim == null) {
      return;
    }
    if (victim.phase == Phase.ANSWERED) {
      try {
        // Take what it sent, so that closing does not reset the answer it has not yet read.
        scratch.clear();
        victim.channel.read(scratch);
      } catch (IOException e) {
        // closing anyway
      }
    }
    counters.evicted.incrementAndGet();
    close(victim);
  }

  void closeAll() {
    for (var exchange : new ArrayList<>(open)) {
      close(exchange);
    }
  }

  private void close(Exchange exchange) {
    open.remove(exchange);
    openCount = open.size();
    exchange.key.cancel();
    closeQuietly(exchange.channel);
  }

  static void closeQuietly(Channel channel) {
    try {
      channel.close();
    } catch (IOException e) {
      LOG.debug("closing an agent-check socket: {}", e.toString());
    }
  }
}
