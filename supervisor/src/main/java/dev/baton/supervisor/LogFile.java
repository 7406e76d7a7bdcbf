package dev.baton.supervisor;

import dev.baton.config.Config;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.locks.ReentrantLock;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The service's log file ({@code [logs] file}): every generation's output, a whole line at a time,
 * each line stamped with its time and its generation: {@code 2025-06-01T12:00:00.123+02:00 gen 3 |
 * text} ({@code !} for stderr).
 *
 * <p>One lock ({@link #lock}) covers writing, rotating and reopening, and each batch of lines goes
 * out in one write(2) on a file opened with O_APPEND: lines from different generations never
 * interleave mid-line, and a rotation or a reopen falls only between lines.
 *
 * <p>Rotation is by size or by age, whichever comes first: app.log becomes app.log.1, app.log.1
 * becomes app.log.2, and so on up to {@code keep}; the oldest is dropped. It happens at a write, so
 * a service that prints nothing keeps its file. {@link #reopen()} (SIGHUP, {@code baton logs
 * --reopen}) lets logrotate move or truncate the file instead.
 */
public final class LogFile implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(LogFile.class);
  private static final DateTimeFormatter TIME =
      DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSXXX").withZone(ZoneId.systemDefault());

  private static final Pattern LINE = Pattern.compile("\\S+ gen (\\d{1,9}) [|!] ");

  private final Path path;
  private final InstantSource clock;

  private final ReentrantLock lock = new ReentrantLock();
  // Guarded by lock; the first three change when a deploy takes a new [logs] table.
  private long maxSize;
  private Optional<Duration> rotateEvery;
  private int keep;
  private @Nullable FileChannel channel;
  private long size;
  private Optional<Instant> rotateAt = Optional.empty();
  private Instant retryRotationAt = Instant.MIN;

  private LogFile(
      Path path, long maxSize, @Nullable Duration rotateEvery, int keep, InstantSource clock) {
    this.path = path;
    this.maxSize = maxSize;
    this.rotateEvery = Optional.ofNullable(rotateEvery);
    this.keep = keep;
    this.clock = clock;
  }

  /**
   * Opens (or appends to) a log file with these rotation settings; without {@code rotateEvery} it
   * is rotated by size only.
   *
   * @throws UncheckedIOException when the file cannot be opened, with its path and what to do
   */
  static LogFile open(
      Path path, long maxSize, @Nullable Duration rotateEvery, int keep, InstantSource clock) {
    var file = new LogFile(path, maxSize, rotateEvery, keep, clock);
    file.lock.lock();
    try {
      file.openLocked();
    } finally {
      file.lock.unlock();
    }
    return file;
  }

  /** New rotation settings, from the next write on: a deploy took a changed [logs] table. */
  void rotation(Config.Logs logs) {
    lock.lock();
    try {
      maxSize = logs.maxSize();
      keep = logs.keep();
      if (!rotateEvery.equals(logs.rotateEvery())) {
        rotateEvery = logs.rotateEvery();
        rotateAt = rotateEvery.map(clock.instant()::plus);
      }
    } finally {
      lock.unlock();
    }
  }

  public Path path() {
    return path;
  }

  /**
   * The files a log is kept in, oldest first: app.log.KEEP … app.log.1, app.log; only those that
   * exist.
   */
  public static List<Path> oldestFirst(Path path, int keep) {
    var files = new ArrayList<Path>();
    for (int i = keep; i >= 1; i--) {
      var rotated = path.resolveSibling(path.getFileName() + "." + i);
      if (Files.exists(rotated)) {
        files.add(rotated);
      }
    }
    if (Files.exists(path)) {
      files.add(path);
    }
    return files;
  }

  /**
   * The generation that wrote a line of this file: the N in "TIME gen N | text"; empty for any
   * other line.
   */
  public static OptionalInt generationOf(String line) {
    var m = LINE.matcher(line);
    return m.lookingAt() ? OptionalInt.of(Integer.parseInt(m.group(1))) : OptionalInt.empty();
  }

  /**
   * Appends whole lines of one generation's stdout ({@code mark} "|") or stderr ("!"), all stamped
   * with the time now. The lines go out together unless a rotation falls between them.
   *
   * @throws PartialWrite when writing failed, saying how many of the lines are in the file already,
   *     so that the caller sends only the rest elsewhere and no line is logged twice
   */
  void append(int generation, String mark, List<String> lines) {
    if (lines.isEmpty()) {
      return;
    }
    var prefix = " gen " + generation + " " + mark + " ";
    lock.lock();
    try {
      var now = clock.instant();
      var stamp = TIME.format(now);
      var batch = new Batch();
      for (var line : lines) {
        var bytes = (stamp + prefix + line + "\n").getBytes(StandardCharsets.UTF_8);
        if (rotationDueLocked(now, batch.bytes.size() + bytes.length)) {
          writeLocked(batch);
          rotateLocked(now);
        }
        batch.add(bytes);
      }
      writeLocked(batch);
    } finally {
      lock.unlock();
    }
  }

  /** A write that failed after {@link #written()} of the lines given to it were in the file. */
  static final class PartialWrite extends UncheckedIOException {
    private final int written;

    PartialWrite(String message, int written, IOException cause) {
      super(message, cause);
      this.written = written;
    }

    int written() {
      return written;
    }
  }

  /** The lines of one append not yet written, and where each ends, to count whole lines written. */
  private static final class Batch {
    final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    final List<Integer> ends = new ArrayList<>();

    /** Lines of this append written by earlier batches (before a rotation). */
    int writtenBefore;

    void add(byte[] line) {
      bytes.writeBytes(line);
      ends.add(bytes.size());
    }

    /** Lines whose every byte is among the first {@code accepted}. */
    int whole(long accepted) {
      int n = 0;
      while (n < ends.size() && ends.get(n) <= accepted) {
        n++;
      }
      return n;
    }
  }

  /**
   * Closes the file and opens {@link #path} again: after logrotate has moved it away (a new file is
   * created) or truncated it (writing goes on at its new end). If it cannot be opened, the old file
   * stays in use.
   *
   * @throws UncheckedIOException when the file cannot be opened, with its path and what to do
   */
  public void reopen() {
    lock.lock();
    try {
      var old = channel;
      openLocked();
      closeQuietly(old);
    } finally {
      lock.unlock();
    }
  }

  @Override
  public void close() {
    lock.lock();
    try {
      closeQuietly(channel);
    } finally {
      lock.unlock();
    }
  }

  /**
   * A rotation is due before {@code pending} more bytes when they would take a file that has
   * something in it past max_size, or when the file is old enough. An empty file takes any line,
   * however long: a line is never split.
   */
  private boolean rotationDueLocked(Instant now, long pending) {
    boolean tooBig = size > 0 && size + pending > maxSize;
    boolean tooOld = size > 0 && rotateAt.isPresent() && !now.isBefore(rotateAt.get());
    return tooBig || tooOld;
  }

  /** Writes and empties the batch. */
  private void writeLocked(Batch batch) {
    if (batch.bytes.size() == 0) {
      return;
    }
    var buffer = ByteBuffer.wrap(batch.bytes.toByteArray());
    long accepted = 0;
    try {
      while (buffer.hasRemaining()) {
        int n = open().write(buffer);
        accepted += n;
        size += n;
      }
    } catch (IOException e) {
      throw new PartialWrite(
          path
              + ": cannot write: "
              + e.getMessage()
              + "; check the disk and the file's permissions",
          batch.writtenBefore + batch.whole(accepted),
          e);
    }
    batch.writtenBefore += batch.ends.size();
    batch.bytes.reset();
    batch.ends.clear();
  }

  /**
   * app.log.(keep-1) → app.log.keep, …, app.log → app.log.1, then a new app.log. Our channel stays
   * open across the renames (they don't touch an open file), so if any step fails the lines keep
   * going to the current file, and the next try waits a minute rather than fail at every line.
   */
  private void rotateLocked(Instant now) {
    if (now.isBefore(retryRotationAt)) {
      return;
    }
    var old = channel;
    try {
      for (int i = keep - 1; i >= 1; i--) {
        if (Files.exists(rotated(i))) {
          Files.move(rotated(i), rotated(i + 1), StandardCopyOption.REPLACE_EXISTING);
        }
      }
      try {
        Files.move(path, rotated(1), StandardCopyOption.REPLACE_EXISTING);
      } catch (NoSuchFileException e) {
        // Moved away already (by logrotate, without a reopen): a new file all the same.
      }
      openLocked();
      closeQuietly(old);
      rotateAt = rotateEvery.map(now::plus);
    } catch (IOException | UncheckedIOException e) {
      retryRotationAt = now.plus(Duration.ofMinutes(1));
      LOG.warn(
          "{}: cannot rotate ({}); writing on to the same file and trying again in a minute;"
              + " check that its directory is writable",
          path,
          e.getMessage());
    }
  }

  private Path rotated(int n) {
    return path.resolveSibling(path.getFileName() + "." + n);
  }

  /** Opens {@link #path} for appending; on failure the current channel, if any, stays as it was. */
  /** The file, unless it could not be reopened: then the write fails and says so. */
  private FileChannel open() throws IOException {
    var c = channel;
    if (c == null) {
      throw new IOException(path + " is not open");
    }
    return c;
  }

  private void openLocked() {
    FileChannel opened = null;
    try {
      // 0600 from its creation: apps print secrets too, and the umask would let others read them.
      opened =
          FileChannel.open(
              path,
              java.util.Set.of(
                  StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND),
              java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                  java.nio.file.attribute.PosixFilePermissions.fromString("rw-------")));
      // Age counts from the file's creation, so that a supervisor restart does not reset it.
      var born = Files.readAttributes(path, BasicFileAttributes.class).creationTime().toInstant();
      size = opened.size();
      rotateAt = rotateEvery.map(born::plus);
      channel = opened;
    } catch (IOException e) {
      if (opened != null) {
        closeQuietly(opened);
      }
      throw new UncheckedIOException(
          path
              + ": cannot open the log file: "
              + e.getMessage()
              + "; check that its directory exists and is writable, or change [logs] file",
          e);
    }
  }

  private static void closeQuietly(@Nullable FileChannel c) {
    if (c == null) {
      return;
    }
    try {
      c.close();
    } catch (IOException e) {
      // Nothing is buffered in a FileChannel: every byte was written already.
    }
  }

  @Override
  public String toString() {
    return path.toString();
  }
}
