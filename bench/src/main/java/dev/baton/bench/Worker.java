package dev.baton.bench;

import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.net.ProtocolFamily;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.ArrayDeque;
import java.util.function.Consumer;

/**
 * One thread's share of the load: a non-blocking selector loop over some of the connections, the
 * way wrk works. Nothing on the keep-alive path allocates: the request bytes sit in one direct
 * buffer, responses are parsed in place in one read buffer, and each connection's parser is reused.
 *
 * <p>Every request ends in exactly one outcome, counted once: a complete response (ok or NON_2XX)
 * or one failure. The load generator's own troubles (no file descriptors, no local ports) are not
 * failures of the server: they abort the whole load instead.
 */
final class Worker implements Runnable {
  private static final int READ_BUFFER = 64 * 1024;

  private final LoadGenerator generator;
  private final Load load;
  private final InetSocketAddress target;
  private final ProtocolFamily family;
  private final Connection[] connections;
  private final Selector selector;
  private final ByteBuffer request;
  private final int requestLength;
  private final ByteBuffer readBuffer = ByteBuffer.allocateDirect(READ_BUFFER);
  private final long timeoutNanos;
  private final long pauseNanos;
  private final long endNanos;
  private final Consumer<SelectionKey> onReady = this::onReady;

  /** Slots that need a request started from the loop, not from deep inside a failure. */
  private final ArrayDeque<Connection> queue;

  final Tally tally;

  /** Connections not yet retired; the worker ends when none is left. */
  private int live;

  /** Set once the duration is over or stop() was called: no new requests, in-flight ones finish. */
  private boolean ending;

  /** No connection's deadline is earlier than this; a scan of all of them happens only then. */
  private long nextDeadlineNanos = Long.MAX_VALUE;

  Worker(
      LoadGenerator generator,
      Load load,
      int firstId,
      int count,
      long startNanos,
      int timelineLimit)
      throws IOException {
    this.generator = generator;
    this.load = load;
    this.target = load.target();
    this.family =
        target.getAddress() instanceof Inet6Address
            ? StandardProtocolFamily.INET6
            : StandardProtocolFamily.INET;
    this.connections = new Connection[count];
    for (int i = 0; i < count; i++) {
      connections[i] = new Connection(firstId + i, load.countAnswers() ? Load.ANSWER_BYTES : 0);
    }
    this.live = count;
    this.queue = new ArrayDeque<>(count);
    this.selector = Selector.open();
    byte[] bytes = load.requestBytes();
    this.requestLength = bytes.length;
    this.request = ByteBuffer.allocateDirect(bytes.length).put(bytes).flip();
    this.timeoutNanos = load.timeout().toNanos();
    this.pauseNanos = load.pause().toNanos();
    this.endNanos = startNanos + load.duration().toNanos();
    this.tally = new Tally(startNanos, load, timelineLimit);
  }

  /** Makes the loop look at the stop flag now rather than at its next event. */
  void wakeup() {
    selector.wakeup();
  }

  @Override
  public void run() {
    try {
      long now = System.nanoTime();
      for (Connection c : connections) {
        startRequest(c, now);
      }
      while (live > 0) {
        now = System.nanoTime();
        if (!ending && (now >= endNanos || generator.stopping())) {
          end();
        }
        if (now >= nextDeadlineNanos) {
          onDeadlines(now);
        }
        for (int n = queue.size(); n > 0; n--) {
          Connection c = queue.poll();
          c.queued = false;
          startRequest(c, now);
        }
        if (live == 0) {
          break;
        }
        long wakeAt = ending ? nextDeadlineNanos : Math.min(nextDeadlineNanos, endNanos);
        long waitMillis = (wakeAt - now + 999_999) / 1_000_000;
        if (!queue.isEmpty() || waitMillis <= 0) {
          selector.selectNow(onReady);
        } else {
          selector.select(onReady, waitMillis);
        }
      }
    } catch (IOException | RuntimeException e) {
      generator.abort("the load generator failed: " + e);
    } finally {
      for (Connection c : connections) {
        closeChannel(c);
      }
      try {
        selector.close();
      } catch (IOException e) {
        // Nothing is left to release; the report is what matters.
      }
      tally.finishedNanos = System.nanoTime();
      generator.workerDone();
    }
  }

  /** The duration is over or the load was stopped: idle slots retire, requests in flight finish. */
  private void end() {
    ending = true;
    for (Connection c : connections) {
      if (!c.inFlight() && c.state != Connection.State.RETIRED) {
        retire(c);
      }
    }
  }

  private void startRequest(Connection c, long now) {
    if (ending || c.state == Connection.State.RETIRED) {
      if (c.state != Connection.State.RETIRED) {
        retire(c);
      }
      return;
    }
    if (c.channel != null && serverClosedIdle(c)) {
      closeChannel(c);
    }
    long number = generator.takeRequest();
    if (number < 0) {
      retire(c);
      return;
    }
    c.begin(number, now, timeoutNanos);
    scheduleDeadline(c.deadlineNanos);
    if (c.channel == null) {
      connect(c);
    } else {
      send(c);
    }
  }

  /**
   * Whether the server closed this kept-alive connection, or wrote to it unasked, since its last
   * response. Servers close idle connections (a keep-alive timeout, a drain); a request was not yet
   * sent on it, so any client would just reconnect, and that is no failure. This one read, which
   * almost always finds nothing, is what tells a close before our request from a close after it.
   */
  private boolean serverClosedIdle(Connection c) {
    readBuffer.clear();
    try {
      return c.channel().read(readBuffer) != 0;
    } catch (IOException e) {
      return true;
    }
  }

  private void connect(Connection c) {
    SocketChannel channel;
    try {
      channel = SocketChannel.open(family);
    } catch (IOException e) {
      generator.abort(localTrouble(e));
      retire(c);
      return;
    }
    c.channel = channel;
    c.requestsOnChannel = 0;
    tally.connects++;
    try {
      channel.configureBlocking(false);
      channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
      // On loopback the handshake is usually over by the time connect() returns; finishing it
      // right away saves a trip through the selector for every new connection.
      if (channel.connect(target) || channel.finishConnect()) {
        c.key = channel.register(selector, SelectionKey.OP_READ, c);
        send(c);
      } else {
        c.key = channel.register(selector, SelectionKey.OP_CONNECT, c);
        c.state = Connection.State.CONNECTING;
      }
    } catch (IOException e) {
      connectFailed(c, e);
    }
  }

  private void onConnectable(Connection c) {
    try {
      if (c.channel().finishConnect()) {
        c.key().interestOps(SelectionKey.OP_READ);
        send(c);
      }
    } catch (IOException e) {
      connectFailed(c, e);
    }
  }

  private void connectFailed(Connection c, IOException e) {
    if (isLocalTrouble(e)) {
      generator.abort(localTrouble(e));
      retire(c);
    } else {
      fail(c, FailureKind.REFUSED, "connecting: " + e.getMessage());
    }
  }

  private void send(Connection c) {
    request.limit(requestLength).position(c.written);
    try {
      c.written += c.channel().write(request);
    } catch (IOException e) {
      fail(c, FailureKind.RESET, "sending: " + e.getMessage());
      return;
    }
    if (c.written < requestLength) {
      c.state = Connection.State.WRITING;
      c.key().interestOps(SelectionKey.OP_WRITE);
    } else {
      c.state = Connection.State.READING;
      c.requestsOnChannel++;
      c.key().interestOps(SelectionKey.OP_READ);
    }
  }

  private void onReady(SelectionKey key) {
    Connection c = (Connection) key.attachment();
    if (key.isValid() && c.key == key) {
      advance(c);
    }
  }

  /** Does what the connection's socket is ready for, if anything. */
  private void advance(Connection c) {
    switch (c.state) {
      case CONNECTING -> onConnectable(c);
      case WRITING -> send(c);
      case READING -> readResponse(c);
      case PAUSED -> {
        // The server closed, or spoke, while this connection was idle: reconnect when the pause
        // ends.
        if (serverClosedIdle(c)) {
          closeChannel(c);
        }
      }
      default -> {}
    }
  }

  private void readResponse(Connection c) {
    while (true) {
      readBuffer.clear();
      int n;
      try {
        n = c.channel().read(readBuffer);
      } catch (IOException e) {
        fail(c, FailureKind.RESET, String.valueOf(e.getMessage()));
        return;
      }
      if (n < 0) {
        if (c.parser.completeAtEof()) {
          complete(c);
        } else {
          fail(
              c,
              c.bytesRead == 0 ? FailureKind.RESET : FailureKind.SHORT,
              "the server closed the connection");
        }
        return;
      }
      if (n == 0) {
        return;
      }
      c.bytesRead += n;
      readBuffer.flip();
      switch (c.parser.feed(readBuffer)) {
        case DONE -> {
          if (readBuffer.hasRemaining()) {
            fail(c, FailureKind.MALFORMED, readBuffer.remaining() + " bytes after the response");
          } else {
            complete(c);
          }
          return;
        }
        case MALFORMED -> {
          fail(c, FailureKind.MALFORMED, c.parser.error());
          return;
        }
        case MORE -> {
          if (n < READ_BUFFER) {
            return; // the socket is drained for now; the selector says when more comes
          }
        }
      }
    }
  }

  private void complete(Connection c) {
    long now = System.nanoTime();
    tally.response(c.parser.status(), c.startNanos, now);
    if (load.countAnswers() && c.parser.status() >= 200 && c.parser.status() < 300) {
      tally.answer(c.parser.bodyHead());
    }
    if (!load.keepAlive() || !c.parser.keepsConnection()) {
      closeChannel(c);
    }
    next(c, now);
  }

  private void fail(Connection c, FailureKind kind, String detail) {
    long now = System.nanoTime();
    tally.failed(kind, c.startNanos, now);
    if (tally.wantsMessage()) {
      tally.message(
          now,
          kind
              + " after "
              + c.bytesRead
              + " bytes on request "
              + c.requestNumber
              + " at "
              + tally.offset(c.startNanos)
              + ": "
              + detail
              + (load.keepAlive() && c.requestsOnChannel > 1
                  ? " (request " + c.requestsOnChannel + " on a kept-alive connection)"
                  : ""));
    }
    closeChannel(c);
    // Not started from here: a failure that comes at once (a refused connect) would recurse.
    c.state = Connection.State.CLOSED;
    if (pauseNanos > 0) {
      pause(c, now);
    } else {
      enqueue(c);
    }
  }

  private void next(Connection c, long now) {
    if (pauseNanos > 0) {
      pause(c, now);
    } else {
      startRequest(c, now);
    }
  }

  private void pause(Connection c, long now) {
    c.state = Connection.State.PAUSED;
    c.deadlineNanos = now + pauseNanos;
    scheduleDeadline(c.deadlineNanos);
    if (c.key != null) {
      c.key().interestOps(SelectionKey.OP_READ);
    }
  }

  private void enqueue(Connection c) {
    if (!c.queued) {
      c.queued = true;
      queue.add(c);
    }
  }

  /** Times out late requests and ends pauses; the rest of the time, deadlines cost nothing. */
  private void onDeadlines(long now) {
    for (Connection c : connections) {
      if (c.inFlight() && now >= c.deadlineNanos) {
        // This thread may have been starved of CPU while the response sat in the socket: look
        // before blaming the server.
        long number = c.requestNumber;
        advance(c);
        if (c.inFlight() && c.requestNumber == number) {
          fail(c, FailureKind.TIMEOUT, "no response within " + load.timeout().toMillis() + " ms");
        }
      } else if (c.state == Connection.State.PAUSED && now >= c.deadlineNanos) {
        enqueue(c);
      }
    }
    long next = Long.MAX_VALUE;
    for (Connection c : connections) {
      if (c.inFlight() || (c.state == Connection.State.PAUSED && !c.queued)) {
        next = Math.min(next, c.deadlineNanos);
      }
    }
    nextDeadlineNanos = next;
  }

  private void scheduleDeadline(long deadlineNanos) {
    nextDeadlineNanos = Math.min(nextDeadlineNanos, deadlineNanos);
  }

  private void retire(Connection c) {
    closeChannel(c);
    c.state = Connection.State.RETIRED;
    live--;
  }

  private static void closeChannel(Connection c) {
    if (c.channel != null) {
      try {
        c.channel.close(); // also cancels its key
      } catch (IOException e) {
        // Closing a socket we are done with cannot fail in a way that matters to the count.
      }
      c.channel = null;
      c.key = null;
    }
  }

  /** Errors that are this machine running short, not the server misbehaving. */
  private static boolean isLocalTrouble(IOException e) {
    var message = String.valueOf(e.getMessage());
    return message.contains("Too many open files")
        || message.contains("Cannot assign requested address")
        || message.contains("No buffer space available");
  }

  private String localTrouble(IOException e) {
    var message = String.valueOf(e.getMessage());
    if (message.contains("Too many open files")) {
      return "the load generator ran out of file descriptors ("
          + message
          + "); raise `ulimit -n`"
          + " or lower the connections ("
          + load.connections()
          + ")";
    }
    if (message.contains("Cannot assign requested address")) {
      return "the load generator ran out of local ports ("
          + message
          + "); sockets in TIME_WAIT"
          + " hold them: lower the rate, or widen net.ipv4.ip_local_port_range";
    }
    return "the load generator could not open a connection: " + message;
  }
}
