package dev.baton.app;

import java.io.IOException;
import java.io.PrintStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * The Unix stream connection behind {@link Baton}, kept up across supervisor restarts.
 *
 * <p>One daemon thread, {@code baton-control}, connects, reads the supervisor's lines and runs its
 * commands on the {@link Baton.Acceptor} (and DRAIN-NOW's actions) in order, and reconnects when
 * the connection drops. Any thread may send READY and STATUS.
 */
final class ControlConnection {

  private final Path path;
  private final String generation;
  private final Baton.Acceptor acceptor;
  private final PrintStream log;
  private final Duration retry;
  private final Duration giveUp;

  /** Counted down once the supervisor first answers HELLO, or refuses us, or we give up waiting. */
  private final CountDownLatch greeted = new CountDownLatch(1);

  // Guarded by this: the connection, what was said on it that a new one must say again, and
  // whether the supervisor refused us or the app closed us (either ends the thread).
  private @Nullable SocketChannel channel;
  private boolean readySent;
  private @Nullable String status;
  private boolean refused;
  private boolean closed;

  /** Whether the supervisor ever said OK to us, and whether open() has returned. */
  private boolean welcomed;

  private boolean opened;

  private final DrainNow drainNow;

  ControlConnection(
      Path path,
      String generation,
      Baton.Acceptor acceptor,
      PrintStream log,
      Duration retry,
      Duration giveUp) {
    this.path = path;
    this.generation = generation;
    this.acceptor = acceptor;
    this.log = log;
    this.retry = retry;
    this.giveUp = giveUp;
    this.drainNow = new DrainNow(this::say);
  }

  /**
   * Starts the thread and waits up to {@code wait} for the supervisor's answer to HELLO, so that
   * the supervisor knows this generation can be paused before the app accepts anything.
   *
   * @return false if the supervisor refused this process; the connection is then closed for good
   */
  boolean open(Duration wait) {
    Thread thread = new Thread(this::run, "baton-control");
    thread.setDaemon(true);
    thread.start();
    try {
      greeted.await(wait.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    synchronized (this) {
      opened = true;
      return !refused;
    }
  }

  void ready() {
    synchronized (this) {
      readySent = true;
      sendLocked(ControlWord.READY.line());
    }
  }

  void status(String text) {
    String line = ControlWord.STATUS.line(text);
    synchronized (this) {
      status = line;
      sendLocked(line);
    }
  }

  /**
   * Runs {@code action} on DRAIN-NOW; at once, on this thread, if the supervisor said it already.
   */
  void onDrainNow(Runnable action) {
    drainNow.add(action);
  }

  void close() {
    SocketChannel open;
    synchronized (this) {
      closed = true;
      open = channel;
      channel = null;
    }
    closeQuietly(open);
  }

  @Override
  public String toString() {
    return "BATON_CONTROL " + path + ", generation " + generation;
  }

  private void run() {
    long lostNanos = System.nanoTime();
    boolean complained = false;
    while (true) {
      SocketChannel connected;
      try {
        connected = connect();
      } catch (IOException e) {
        if (stopped()) {
          return;
        }
        if (System.nanoTime() - lostNanos > giveUp.toNanos()) {
          say("gave up reconnecting to " + path + " after " + giveUp.toMinutes() + " min: " + e);
          greeted.countDown();
          return;
        }
        if (!complained) {
          // One line, not one per attempt: the supervisor may take a few seconds to come back.
          say("cannot reach the supervisor at " + path + " (" + e + "); retrying");
          complained = true;
        }
        sleep(retry);
        continue;
      }
      if (complained) {
        say("reconnected to the supervisor at " + path);
        complained = false;
      }
      serve(connected);
      if (stopped()) {
        return;
      }
      lostNanos = System.nanoTime();
    }
  }

  /** A new connection that has said HELLO, and READY and STATUS again if they were said before. */
  private SocketChannel connect() throws IOException {
    SocketChannel connected = SocketChannel.open(StandardProtocolFamily.UNIX);
    try {
      connected.connect(UnixDomainSocketAddress.of(path));
      synchronized (this) {
        if (closed) {
          throw new IOException("closed");
        }
        try {
          write(connected, ControlWord.HELLO.line(generation));
          if (readySent) {
            write(connected, ControlWord.READY.line());
          }
          if (status != null) {
            write(connected, status);
          }
        } catch (IOException e) {
          // The supervisor may have refused us and closed before we spoke (EPIPE): serve() still
          // reads why, or sees the end of the stream and reconnects.
        }
        channel = connected;
      }
      return connected;
    } catch (IOException | RuntimeException e) {
      closeQuietly(connected);
      throw e;
    }
  }

  /** Reads and obeys the supervisor's lines until the connection drops. */
  private void serve(SocketChannel connected) {
    LineReader lines = new LineReader(connected);
    try {
      for (String line = lines.next(); line != null; line = lines.next()) {
        obey(line);
        if (stopped()) {
          break;
        }
      }
    } catch (IOException e) {
      // dropped: the supervisor died or is re-executing itself; run() reconnects
    } finally {
      synchronized (this) {
        if (channel == connected) {
          channel = null;
        }
      }
      closeQuietly(connected);
    }
  }

  private void obey(String line) {
    Optional<ControlWord.Message> message = ControlWord.parse(line);
    if (!message.isPresent()) {
      // From a newer supervisor; ignoring it keeps this version working with it.
      return;
    }
    switch (message.get().word()) {
      case OK -> {
        synchronized (this) {
          welcomed = true;
        }
        greeted.countDown();
      }
      case ERROR -> refused(message.get().argument());
      case PAUSE -> {
        if (run("pause", acceptor::pause)) {
          send(ControlWord.PAUSED.line());
        }
      }
      case RESUME -> {
        if (run("resume", acceptor::resume)) {
          send(ControlWord.RESUMED.line());
        }
      }
      case DRAIN_NOW -> drainNow.heard();
      default -> {
        // DRAIN: the drain signal does it. The rest are the app's own words, not the supervisor's.
      }
    }
  }

  private void refused(String why) {
    boolean lateFirstRefusal;
    synchronized (this) {
      refused = true;
      lateFirstRefusal = opened && !welcomed;
    }
    say(
        "the supervisor refused this process: "
            + why.trim()
            + "; pause and resume will not work (connect from the generation's main process, as"
            + " the same user as the supervisor)");
    greeted.countDown();
    if (lateFirstRefusal) {
      // The app may be waiting, paused, for a RESUME that will never come.
      run("resume", acceptor::resume);
    }
  }

  private interface Command {
    void run() throws Exception;
  }

  /** Runs a command; a failure is reported and not answered, so the supervisor times out. */
  private boolean run(String name, Command command) {
    try {
      command.run();
      return true;
    } catch (Exception e) {
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      say(name + " failed, so the supervisor will not be told it is done: " + e);
      return false;
    }
  }

  private void send(String line) {
    synchronized (this) {
      sendLocked(line);
    }
  }

  /** Sends on the current connection; with none, the next connection says what matters again. */
  private void sendLocked(String line) {
    if (channel == null) {
      return;
    }
    try {
      write(channel, line);
    } catch (IOException e) {
      // The reader thread sees the drop too and reconnects.
      closeQuietly(channel);
      channel = null;
    }
  }

  private static void write(SocketChannel channel, String line) throws IOException {
    ByteBuffer bytes = ByteBuffer.wrap((line + "\n").getBytes(StandardCharsets.US_ASCII));
    while (bytes.hasRemaining()) {
      channel.write(bytes);
    }
  }

  private synchronized boolean stopped() {
    return closed || refused;
  }

  private void say(String message) {
    log.println("baton-app: " + message);
    log.flush();
  }

  private static void sleep(Duration duration) {
    try {
      Thread.sleep(duration.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static void closeQuietly(@Nullable SocketChannel channel) {
    if (channel == null) {
      return;
    }
    try {
      channel.close();
    } catch (IOException e) {
      // nothing left to do with it
    }
  }
}
