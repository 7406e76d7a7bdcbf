package dev.baton.supervisor;

import dev.baton.os.NativeException;
import dev.baton.os.PeerCredentials;
import dev.baton.os.Poller;
import dev.baton.os.UnixConnection;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Unix stream connection on the supervisor's loop that speaks in lines: the control socket's JSON
 * lines and BATON_CONTROL's words. Reads never block and stop at {@code maxLine} bytes a line, so a
 * peer that sends an endless line is cut off instead of filling the heap; writes are queued and
 * flushed as the socket takes them, up to {@link #MAX_QUEUED} bytes, past which a peer that does
 * not read is cut off too.
 */
final class LineChannel {
  private static final Logger LOG = LoggerFactory.getLogger(LineChannel.class);

  /**
   * What may wait for a slow reader: status replies are a few KiB, deploy events a few hundred
   * bytes.
   */
  static final int MAX_QUEUED = 1 << 20;

  /** How long a finished connection waits for its peer to hang up first. */
  static final Duration LINGER = Duration.ofSeconds(1);

  private final Loop loop;
  private final UnixConnection connection;
  private final int maxLine;
  private final String what;
  private final ByteArrayOutputStream partial = new ByteArrayOutputStream();
  private final ArrayDeque<byte[]> queue = new ArrayDeque<>();
  private int queued;
  private int headOffset;
  private boolean reading;
  private boolean closed;
  private boolean closeWhenFlushed;
  private boolean lingering;
  private Consumer<String> onLine = line -> {};
  private Runnable onClose = () -> {};
  private Runnable whenClosed = () -> {};

  LineChannel(Loop loop, UnixConnection connection, int maxLine, String what) {
    this.loop = loop;
    this.connection = connection;
    this.maxLine = maxLine;
    this.what = what;
    // Watched from the start, for nothing until start(): a refusal written before any read still
    // gets its turn on the loop if the socket's buffer is full.
    loop.watch(connection.fd(), 0, this::ready);
  }

  PeerCredentials peer() {
    return connection.peer();
  }

  /**
   * Starts reading; {@code onLine} gets each line without its newline, {@code onClose} runs once.
   */
  void start(Consumer<String> onLine, Runnable onClose) {
    this.onLine = onLine;
    this.onClose = onClose;
    reading = true;
    watchForWhatIsNeeded();
  }

  /**
   * Runs {@code action} once when the channel closes, whoever reads it: unlike {@code onClose} it
   * survives a later {@link #start}, so a count of open connections can never miss one.
   */
  void whenClosed(Runnable action) {
    var before = whenClosed;
    whenClosed =
        () -> {
          before.run();
          action.run();
        };
  }

  /** Stops reading (the control socket takes one request a connection); writes go on. */
  void stopReading() {
    reading = false;
    partial.reset();
    watchForWhatIsNeeded();
  }

  boolean isClosed() {
    return closed;
  }

  /** Queues {@code line} and a newline. Dropped once the channel is closed. */
  void send(String line) {
    if (closed) {
      return;
    }
    var bytes = (line + "\n").getBytes(StandardCharsets.UTF_8);
    if (queued + bytes.length > MAX_QUEUED) {
      LOG.warn(
          "{} from pid {} reads too slowly ({} bytes waiting); closing it",
          what,
          connection.peer().pid(),
          queued);
      close();
      return;
    }
    queue.addLast(bytes);
    queued += bytes.length;
    flush();
  }

  /**
   * Closes once everything queued has been written and the peer has hung up, or {@link #LINGER}
   * after that. Closing at once could beat a peer that writes before it reads (HELLO before the
   * refusal), which would then see EPIPE instead of the answer; and closing with its bytes unread
   * would reset the connection, which can destroy the answer before the peer reads it.
   */
  void closeWhenFlushed() {
    closeWhenFlushed = true;
    if (queue.isEmpty()) {
      linger();
    }
  }

  private void linger() {
    if (lingering || closed) {
      return;
    }
    lingering = true;
    onLine = line -> {};
    reading = true;
    partial.reset();
    watchForWhatIsNeeded();
    loop.after(LINGER, this::close);
  }

  /**
   * Writes what is queued, waiting for the socket for up to {@code limit}: only for the moment
   * before an execve or an exit, when there is no next turn of the loop to finish the job.
   */
  void flushBlocking(Duration limit) {
    long deadline = System.nanoTime() + limit.toNanos();
    while (!closed && !queue.isEmpty() && System.nanoTime() < deadline) {
      flush();
      if (!queue.isEmpty()) {
        Thread.onSpinWait();
      }
    }
  }

  void close() {
    if (closed) {
      return;
    }
    closed = true;
    loop.unwatch(connection.fd());
    connection.close();
    queue.clear();
    partial.reset();
    onClose.run();
    whenClosed.run();
  }

  private void ready(int events) {
    if ((events & Poller.WRITABLE) != 0) {
      flush();
    }
    if ((events & Poller.READABLE) != 0 && reading && !closed) {
      read();
    }
  }

  private void read() {
    var buffer = new byte[4096];
    int n = connection.readNow(buffer, 0, buffer.length);
    if (n < 0) {
      close();
      return;
    }
    int from = 0;
    for (int i = 0; i < n && reading && !closed; i++) {
      if (buffer[i] == '\n') {
        partial.write(buffer, from, i - from);
        from = i + 1;
        var line = partial.toString(StandardCharsets.UTF_8);
        partial.reset();
        onLine.accept(line.endsWith("\r") ? line.substring(0, line.length() - 1) : line);
      }
    }
    if (lingering) {
      partial.reset(); // a finished connection's input is read only to be thrown away
    } else if (reading && !closed) {
      partial.write(buffer, from, n - from);
      if (partial.size() > maxLine) {
        LOG.warn(
            "{} from pid {} sent a line over {} bytes; closing it",
            what,
            connection.peer().pid(),
            maxLine);
        close();
      }
    }
  }

  private void flush() {
    try {
      while (!queue.isEmpty()) {
        var head = queue.peekFirst();
        int n = connection.writeNow(head, headOffset, head.length - headOffset);
        if (n == 0) {
          break;
        }
        headOffset += n;
        queued -= n;
        if (headOffset == head.length) {
          queue.removeFirst();
          headOffset = 0;
        }
      }
    } catch (NativeException e) {
      LOG.debug("{} from pid {} went away: {}", what, connection.peer().pid(), e.getMessage());
      close();
      return;
    }
    if (queue.isEmpty() && closeWhenFlushed) {
      linger();
      return;
    }
    watchForWhatIsNeeded();
  }

  private void watchForWhatIsNeeded() {
    if (!closed) {
      int interest = (reading ? Poller.READABLE : 0) | (queue.isEmpty() ? 0 : Poller.WRITABLE);
      loop.interest(connection.fd(), interest);
    }
  }
}
