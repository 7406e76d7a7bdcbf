package dev.baton.supervisor;

import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Answers HAProxy's agent-check for this host ({@code agent-check agent-addr A agent-port P
 * agent-send "<backend>/<server>\n"} on the server line). HAProxy connects every {@code
 * agent-inter}, sends its {@code agent-send} text if it has one, reads one line and applies it.
 *
 * <p>The answers, and why:
 *
 * <ul>
 *   <li>{@code drain} while a deploy is in progress, or while no generation is active (starting,
 *       crash-looping, stopping): HAProxy then sends this server no new requests.
 *   <li>{@code ready} once, to each agent-check that heard {@code drain} from us, once the deploy
 *       is over: it undoes our own drain, and nothing else. An agent-check is its source address
 *       and its {@code agent-send} text ({@link AgentAnswers}).
 *   <li>{@code up} otherwise. Unlike {@code ready}, {@code up} leaves the administrative state
 *       alone: an agent that answered {@code ready} on every poll would cancel, within one {@code
 *       agent-inter}, a drain an operator or {@code baton rollout} set on the stats socket (HAProxy
 *       2.6: {@code ready} clears both the agent's and the CLI's drain flag; measured).
 * </ul>
 *
 * <p>{@code [agent] weight} is sent as a percentage of the weight in haproxy.cfg, and only when it
 * is not 100: a percentage, too, replaces whatever {@code set weight} said, the canary weight of a
 * rollout included, on every poll.
 *
 * <p>The port is open to whoever can reach it, so it is served by one thread that never blocks on a
 * client (a non-blocking selector), at most {@link #MAX_CONNECTIONS} connections at once (a new one
 * closes the oldest), each read for at most {@link #MAX_READ} bytes and closed at most {@link
 * #DEADLINE} after it was accepted, however it trickles. The os module's poller speaks Unix sockets
 * only, so this is a selector of its own rather than the supervisor's loop; the loop is asked only
 * for its status, at most once at a time ({@link AgentExchanges}).
 */
public final class AgentCheck implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(AgentCheck.class);

  /** Connections served at once. HAProxy holds one per server line for a millisecond or so. */
  static final int MAX_CONNECTIONS = 64;

  /** From accept to close, whatever the client does: answer, then wait for HAProxy to hang up. */
  static final Duration DEADLINE = Duration.ofSeconds(1);

  /**
   * How long to wait for an {@code agent-send} line before answering without one. HAProxy sends it
   * as soon as it connects, so it arrives with the connection; a check without one waits this long.
   */
  static final Duration WAIT_FOR_SEND = Duration.ofMillis(200);

  /** What is kept of the {@code agent-send} text; the rest of a longer line is read and dropped. */
  static final int MAX_SEND = 256;

  /** What is read from one connection at most; a client that sends more is cut off. */
  static final int MAX_READ = 512;

  /**
   * The kernel's queue of connections not yet accepted. Deeper than the cap: a burst that overflows
   * it has its handshakes dropped and retried by the kernel for seconds before this thread sees
   * them, with each connection's deadline starting only then; queued, they are accepted (and the
   * oldest closed) at once.
   */
  static final int BACKLOG = 1024;

  /** How long accept rests when it fails (EMFILE and the like) instead of spinning on it. */
  static final Duration ACCEPT_BACKOFF = Duration.ofMillis(100);

  /** What happened to connections so far; written by the agent-check thread only, read by tests. */
  static final class Counters {
    final AtomicLong accepted = new AtomicLong();

    /** Closed to make room for a newer one. */
    final AtomicLong evicted = new AtomicLong();

    final AtomicLong answered = new AtomicLong();

    /** Closed at the deadline before their answer was out. */
    final AtomicLong expired = new AtomicLong();

    final AtomicLong overRead = new AtomicLong();

    /**
     * Ended by an I/O error, or by the want of a status. HAProxy resets many once it has read its
     * answer.
     */
    final AtomicLong failed = new AtomicLong();

    /** Errors that reached the thread's last guard instead of ending one connection: bugs. */
    final AtomicLong unexpected = new AtomicLong();
  }

  private final ServerSocketChannel channel;
  private final Selector selector;
  private final AgentExchanges exchanges;
  private final Counters counters = new Counters();
  private final ConcurrentLinkedQueue<Runnable> posted = new ConcurrentLinkedQueue<>();
  private final SelectionKey acceptKey;
  private long acceptResumesAt;
  private boolean acceptPaused;
  private volatile boolean closing;
  private volatile @Nullable Thread thread;

  private AgentCheck(
      ServerSocketChannel channel,
      Selector selector,
      int weight,
      Supplier<CompletableFuture<Boolean>> draining,
      Duration deadline)
      throws IOException {
    this.channel = channel;
    this.selector = selector;
    channel.configureBlocking(false);
    this.acceptKey = channel.register(selector, SelectionKey.OP_ACCEPT);
    this.exchanges =
        new AgentExchanges(
            new AgentAnswers(weight), draining, counters, this::post, deadline, WAIT_FOR_SEND);
  }

  /**
   * Binds {@code [agent] address}; answers nothing until {@link #start()}.
   *
   * @throws StartException when the address cannot be bound
   */
  public static AgentCheck bind(Supervisor supervisor) {
    var config = supervisor.config();
    var agent =
        config
            .agent()
            .orElseThrow(() -> new IllegalStateException(config.file() + " has no [agent] table"));
    try {
      return open(agent.address(), agent.weight(), () -> draining(supervisor));
    } catch (BindException e) {
      throw new StartException(
          "the agent-check responder cannot bind "
              + agent.address()
              + ": "
              + e.getMessage()
              + "; stop whatever holds it or change [agent] address in "
              + config.file());
    } catch (IOException e) {
      throw new StartException(
          "the agent-check responder cannot listen on " + agent.address() + ": " + e.getMessage());
    }
  }

  /**
   * Binds {@code address}; {@code draining} says, completing on any thread, whether to answer
   * drain.
   */
  static AgentCheck open(
      InetSocketAddress address, int weight, Supplier<CompletableFuture<Boolean>> draining)
      throws IOException {
    return open(address, weight, draining, DEADLINE);
  }

  /**
   * As above, with another deadline: tests that must hold connections for a while without racing
   * it.
   */
  static AgentCheck open(
      InetSocketAddress address,
      int weight,
      Supplier<CompletableFuture<Boolean>> draining,
      Duration deadline)
      throws IOException {
    var channel = ServerSocketChannel.open();
    try {
      channel.setOption(StandardSocketOptions.SO_REUSEADDR, true);
      channel.bind(address, BACKLOG);
      return new AgentCheck(channel, Selector.open(), weight, draining, deadline);
    } catch (IOException | RuntimeException e) {
      channel.close();
      throw e;
    }
  }

  /** Asks the loop, without waiting for it: the status is read there, where it is written. */
  private static CompletableFuture<Boolean> draining(Supervisor supervisor) {
    Supplier<CompletableFuture<Boolean>> now =
        () -> {
          var status = supervisor.status();
          return CompletableFuture.completedFuture(
              status.deploying() || status.activeGeneration().isEmpty());
        };
    var loop = supervisor.loop();
    return loop == null ? now.get() : loop.call(now);
  }

  public void start() {
    thread = Thread.ofPlatform().daemon().name("agent-check").start(this::run);
    LOG.info("agent-check responder on {}", address());
  }

  InetSocketAddress address() {
    try {
      return (InetSocketAddress) channel.getLocalAddress();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Answers take no time: there is nothing to wait for. */
  CompletableFuture<Void> drain(Duration grace) {
    close();
    return CompletableFuture.completedFuture(null);
  }

  /** Closes the port and every connection; the port is free again when this returns. */
  @Override
  public void close() {
    closing = true;
    var t = thread;
    if (t == null) {
      shutDown();
      return;
    }
    selector.wakeup();
    if (t != Thread.currentThread()) {
      try {
        t.join(Duration.ofSeconds(5));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** Whether the thread that serves the port is alive (until {@link #close()}). */
  boolean serving() {
    var t = thread;
    return t != null && t.isAlive();
  }

  Counters counters() {
    return counters;
  }

  /** Connections open now; read on the agent-check thread. */
  int openConnections() {
    return exchanges.size();
  }

  /** How many agent-checks wait for their "ready", read on the agent-check thread. */
  CompletableFuture<Integer> drainedCount() {
    var count = new CompletableFuture<Integer>();
    post(() -> count.complete(exchanges.drainedCount()));
    return count;
  }

  /** Runs {@code task} on the agent-check thread soon; safe from any thread. */
  private void post(Runnable task) {
    posted.add(task);
    selector.wakeup();
  }

  private void run() {
    while (!closing) {
      try {
        turn();
      } catch (ClosedSelectorException e) {
        break;
      } catch (IOException | RuntimeException | StackOverflowError e) {
        // Nothing a client does may end this thread; whatever got here is logged, and it goes on.
        counters.unexpected.incrementAndGet();
        LOG.error("the agent-check responder caught an unexpected error; it goes on", e);
      }
    }
    shutDown();
  }

  private void turn() throws IOException {
    long now = System.nanoTime();
    long due = exchanges.nextDue(now);
    if (acceptPaused) {
      due = Math.min(due, acceptResumesAt - now);
    }
    long waitMillis = due == Long.MAX_VALUE ? 0 : Math.max(1, (due + 999_999) / 1_000_000);
    selector.select(waitMillis);
    var selected = new ArrayList<>(selector.selectedKeys());
    selector.selectedKeys().clear();
    for (var key : selected) {
      if (key == acceptKey) {
        acceptAll();
      } else if (key.attachment() instanceof AgentExchanges.Exchange exchange) {
        exchanges.ready(exchange, key);
      }
    }
    for (var task = posted.poll(); task != null; task = posted.poll()) {
      task.run();
    }
    now = System.nanoTime();
    exchanges.expire(now);
    if (acceptPaused && now - acceptResumesAt >= 0 && acceptKey.isValid()) {
      acceptPaused = false;
      acceptKey.interestOps(SelectionKey.OP_ACCEPT);
    }
    exchanges.askIfNeeded(now);
  }

  /** Accepts what is queued, a bounded number a turn so that deadlines are kept meanwhile. */
  private void acceptAll() {
    for (int i = 0; i < 4 * MAX_CONNECTIONS; i++) {
      SocketChannel connection;
      try {
        connection = channel.accept();
      } catch (IOException e) {
        // Level-triggered readiness that accept cannot clear would spin: rest instead.
        LOG.warn(
            "agent-check accept failed: {}; trying again in {} ms",
            e.toString(),
            ACCEPT_BACKOFF.toMillis());
        acceptPaused = true;
        acceptResumesAt = System.nanoTime() + ACCEPT_BACKOFF.toNanos();
        acceptKey.interestOps(0);
        return;
      }
      if (connection == null) {
        return;
      }
      counters.accepted.incrementAndGet();
      if (exchanges.size() >= MAX_CONNECTIONS) {
        exchanges.evictOldest();
      }
      try {
        connection.configureBlocking(false);
        var key = connection.register(selector, SelectionKey.OP_READ);
        exchanges.add(connection, key, System.nanoTime());
      } catch (IOException | RuntimeException e) {
        LOG.debug("agent-check connection lost at accept: {}", e.toString());
        AgentExchanges.closeQuietly(connection);
      }
    }
  }

  private void shutDown() {
    exchanges.closeAll();
    AgentExchanges.closeQuietly(channel);
    try {
      // Closing the selector deregisters the listener, which is when its descriptor is released.
      selector.close();
    } catch (IOException e) {
      LOG.debug("closing the agent-check selector: {}", e.toString());
    }
  }
}
