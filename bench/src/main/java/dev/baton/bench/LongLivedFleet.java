package dev.baton.bench;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import org.jspecify.annotations.Nullable;

/**
 * What the WebSocket and h2c fleets share: each client a virtual thread that connects, reads its
 * connection until it ends and reconnects, and a second one that sends on it every {@code every};
 * the counters; and a close that stops sending, waits for the answers owed, and says goodbye. Only
 * the protocol, in {@link Connection}, differs.
 */
abstract class LongLivedFleet implements LongLivedClients {
  /** How long a read may wait for anything while messages are owed before the end is abnormal. */
  static final int READ_TIMEOUT_MILLIS = 10_000;

  private static final int CONNECT_TIMEOUT_MILLIS = 5_000;

  /** A pause after a failed connect, so that a server that is gone is not hammered. */
  private static final Duration RETRY = Duration.ofMillis(500);

  /** How long close waits for the answers owed, then for the goodbyes to complete. */
  private static final Duration CLOSE_WAIT = Duration.ofSeconds(1);

  /**
   * How long close waits, beyond the reconnect jitter, for the messages carried across a polite end
   * to be answered on a new connection.
   */
  private static final Duration CARRY_WAIT = Duration.ofSeconds(5);

  final InetSocketAddress address;
  private final int clients;
  private final Duration every;
  private final Duration jitter;
  private final Duration ramp;

  final LongAdder open = new LongAdder();
  final LongAdder connects = new LongAdder();
  final LongAdder attempts = new LongAdder();
  final LongAdder connectFailures = new LongAdder();
  final LongAdder politeEnds = new LongAdder();
  final LongAdder abnormalEnds = new LongAdder();
  final LongAdder sent = new LongAdder();
  final LongAdder resent = new LongAdder();
  final LongAdder answered = new LongAdder();
  final LongAdder failed = new LongAdder();

  private final Queue<Thread> threads = new ConcurrentLinkedQueue<>();
  private final Set<Connection> live = ConcurrentHashMap.newKeySet();
  private final CountDownLatch firstTries;
  private volatile boolean stopping;

  /** Set first by {@link #close}: no new messages, while those owed or carried are answered. */
  private volatile boolean quiet;

  /** Messages carried by clients between a polite end and their next connection. */
  private final LongAdder carried = new LongAdder();

  /** How a connection ended. */
  enum End {
    /** By the server, politely: its messages unanswered are sent again. */
    POLITE,
    /** Any other way while the fleet ran: its messages unanswered are lost. */
    ABNORMAL
  }

  LongLivedFleet(
      InetSocketAddress address, int clients, Duration every, Duration jitter, Duration ramp) {
    if (clients < 1 || every.isNegative() || every.isZero()) {
      throw new IllegalArgumentException("clients " + clients + ", every " + every);
    }
    this.address = address;
    this.clients = clients;
    this.every = every;
    this.jitter = jitter;
    this.ramp = ramp;
    this.firstTries = new CountDownLatch(clients);
  }

  /** One connection, its handshake done. */
  abstract static class Connection {
    final Socket socket;

    /** Messages to send again on the next connection, once {@link #read} returned POLITE. */
    List<String> carry = List.of();

    /** Messages lost with this connection, once {@link #read} returned. */
    int lost;

    Connection(Socket socket) {
      this.socket = socket;
    }

    /** Sends these again first, as new messages would be, but counted as resent. */
    abstract void resend(List<String> messages);

    /** Sends {@code message} unless the connection is ending or ended. */
    abstract void send(String message);

    /** Reads until the connection ends, answering the server as the protocol asks. */
    abstract End read();

    /** Messages sent and not yet answered. */
    abstract int owed();

    /** Stops sending and says goodbye (a close frame, GOAWAY); the server then closes. */
    abstract void goodbye();
  }

  /** Opens a connection and does its handshake. */
  abstract Connection connect(Socket socket) throws IOException;

  /** Starts every client, and waits until each has connected or failed to, once. */
  final LongLivedFleet startAll() throws InterruptedException {
    long start = System.nanoTime();
    for (int i = 0; i < clients; i++) {
      long at = start + ramp.toNanos() * i / clients;
      int index = i;
      threads.add(Thread.ofVirtual().name("fleet-" + i).start(() -> client(index, at)));
    }
    firstTries.await();
    return this;
  }

  private void client(int index, long at) {
    var current = new AtomicReference<@Nullable Connection>();
    boolean first = true;
    try {
      if (!pauseUntil(at)) {
        return;
      }
      Thread sender =
          Thread.ofVirtual().name("fleet-send-" + index).start(() -> send(index, current));
      threads.add(sender);
      List<String> carry = List.of();
      while (!stopping) {
        Connection connection;
        var socket = new Socket();
        try {
          socket.setTcpNoDelay(true);
          attempts.increment();
          socket.connect(address, CONNECT_TIMEOUT_MILLIS);
          socket.setSoTimeout(READ_TIMEOUT_MILLIS);
          connection = connect(socket);
        } catch (IOException e) {
          closeQuietly(socket);
          connectFailures.increment();
          if (first) {
            first = false;
            firstTries.countDown();
          }
          pause(RETRY.toNanos() / 2 + random(RETRY.toNanos()));
          continue;
        }
        connects.increment();
        open.increment();
        live.add(connection);
        if (first) {
          first = false;
          firstTries.countDown();
        }
        connection.resend(carry);
        carried.add(-carry.size());
        carry = List.of();
        current.set(connection);
        End end = connection.read();
        current.set(null);
        live.remove(connection);
        closeQuietly(socket);
        open.decrement();
        if (stopping) {
          return;
        }
        if (end == End.POLITE) {
          politeEnds.increment();
          carry = connection.carry;
          carried.add(carry.size());
        } else {
          abnormalEnds.increment();
          carry = List.of();
        }
        failed.add(connection.lost);
        pause(random(jitter.toNanos()));
      }
    } finally {
      if (first) {
        firstTries.countDown();
      }
    }
  }

  /** The client's rhythm, across its connections: a message every {@code every}, when connected. */
  private void send(int index, AtomicReference<@Nullable Connection> current) {
    long seq = 0;
    long next = System.nanoTime() + every.toNanos();
    while (pauseUntil(next)) {
      long now = System.nanoTime();
      next += every.toNanos();
      if (now - next > 0) {
        next = now + every.toNanos(); // behind (a pause): skip the ticks missed, not catch up
      }
      Connection connection = current.get();
      if (connection != null && !quiet) {
        connection.send(index + "-" + seq++);
      }
    }
  }

  @Override
  public final LongLivedTally tally() {
    return new LongLivedTally(
        open.sum(),
        connects.sum(),
        attempts.sum(),
        connectFailures.sum(),
        politeEnds.sum(),
        abnormalEnds.sum(),
        sent.sum(),
        resent.sum(),
        answered.sum(),
        failed.sum());
  }

  @Override
  public final void close() throws InterruptedException {
    // Clients still reconnect meanwhile: a message carried across a polite end is answered by
    // the next generation, and the run must not end before it could be.
    quiet = true;
    long deadline = System.nanoTime() + jitter.toNanos() + CARRY_WAIT.toNanos();
    while (System.nanoTime() - deadline < 0
        && (carried.sum() > 0 || live.stream().anyMatch(c -> c.owed() > 0))) {
      Thread.sleep(10);
    }
    stopping = true;
    for (Connection connection : live) {
      connection.goodbye();
    }
    deadline = System.nanoTime() + CLOSE_WAIT.toNanos();
    for (Thread thread : List.copyOf(threads)) {
      thread.join(Duration.ofNanos(Math.max(1, deadline - System.nanoTime())));
    }
    // Those that did not answer the goodbye in time.
    for (Connection connection : live) {
      closeQuietly(connection.socket);
    }
    for (Thread thread : List.copyOf(threads)) {
      thread.join(CLOSE_WAIT);
    }
    // Whatever was sent and is neither answered nor already counted as failed never will be.
    failed.add(Math.max(0, sent.sum() - answered.sum() - failed.sum()));
  }

  boolean stopping() {
    return stopping;
  }

  /** Sleeps until {@code deadline} (nanoTime); false if the fleet stopped meanwhile. */
  private boolean pauseUntil(long deadline) {
    long left;
    while (!stopping && (left = deadline - System.nanoTime()) > 0) {
      // Not interrupts: interrupting a virtual thread in a socket write would close the socket.
      LockSupport.parkNanos(Math.min(left, TimeUnit.MILLISECONDS.toNanos(500)));
    }
    return !stopping;
  }

  private boolean pause(long nanos) {
    return pauseUntil(System.nanoTime() + nanos);
  }

  /** Uniform in [0, bound), 0 if bound is not positive. */
  static long random(long bound) {
    return bound > 0 ? ThreadLocalRandom.current().nextLong(bound) : 0;
  }

  static void closeQuietly(@Nullable Socket socket) {
    if (socket != null) {
      try {
        socket.close();
      } catch (IOException e) {
        // Closing is all that was left to do with it.
      }
    }
  }
}
