package dev.baton.supervisor;

import dev.baton.os.Os;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * What a restarted supervisor needs to take its service back: which generations run, which sockets
 * and pipes (by identity) they hold for it, and which one is active. Rewritten whole, by rename, at
 * every change of state, so a reader never sees half of one; it lives next to the control socket
 * and is removed by a clean stop.
 *
 * <p>A restarted supervisor signals the processes it names and takes descriptors from them, so it
 * is trusted only as far as it can be shown to be this service's own: the file and its directory
 * belong to this uid (or root) and nobody else may write them, and its first line is an HMAC of the
 * rest under a key only this uid can read ({@code <socket>.key}, 0600, made once). So a journal can
 * carry only what a supervisor of this service wrote: its commands included, those of {@code deploy
 * --argv}. {@link Recovery} then checks every pid against /proc before using it.
 */
final class StateJournal {
  /**
   * A listener and its socket's identity, "socket:[inode]", to find it among a generation's fds.
   */
  record ListenerEntry(String name, String address, String socket) {}

  /**
   * {@code session}: the session the generation was in when first written down, which it keeps for
   * life; {@code child}: whether it was then the writing process's own child (spawned by it, not
   * adopted after a crash), which it stays across an upgrade's execve. They tell a restarted
   * supervisor this generation from any other process with its pid and start time. {@code sockets}:
   * per steered listener, the identity of the socket that is this generation's own; {@code paused}:
   * parked by a PAUSE on BATON_CONTROL, so a rollback must resume it.
   */
  record GenerationEntry(
      int number,
      int pid,
      long startTime,
      int session,
      boolean child,
      String state,
      List<String> command,
      Map<String, String> env,
      String workdir,
      List<String> outputPipes,
      List<String> pendingOutput,
      Optional<String> probeAddress,
      Instant started,
      Optional<Instant> promoted,
      Optional<Instant> parkedUntil,
      Optional<Instant> bakeUntil,
      Map<String, String> sockets,
      boolean paused) {}

  record State(
      String bootId,
      int uid,
      int supervisorPid,
      long supervisorStartTime,
      int nextNumber,
      List<ListenerEntry> listeners,
      List<GenerationEntry> generations) {}

  /** Why a journal is not trusted, in one line that names the check and what to do. */
  static StartException refused(Path path, String check, String fix) {
    return new StartException(
        "the state journal "
            + path
            + " is refused: "
            + check
            + "; nothing was signalled or taken back. "
            + fix);
  }

  /** Why a journal cannot be read, in one line that says what to do. */
  static StartException unreadable(Path path, @Nullable String why) {
    return new StartException(
        "the state journal "
            + path
            + " cannot be read ("
            + why
            + "); if no generation of this service is running any more, delete it and start again");
  }

  /** 0600, for the journal (every generation's env) and its key alike. */
  static final FileAttribute<?> OWNER_ONLY =
      PosixFilePermissions.asFileAttribute(
          EnumSet.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE));

  private final Path path;
  private final JournalTrust trust;
  private final JournalKey key;
  private final StateCapture capture;

  StateJournal(Path path, Os os) {
    this.path = path.toAbsolutePath();
    this.trust = new JournalTrust(this.path, os);
    this.key =
        new JournalKey(
            this.path,
            this.path.resolveSibling(
                path.getFileName().toString().replaceFirst("\\.state$", "") + ".key"),
            trust);
    this.capture = new StateCapture(os);
  }

  Path path() {
    return path;
  }

  Path keyPath() {
    return key.path();
  }

  /** A recovered generation's park deadline, from the journal it was recovered from. */
  void parkedUntil(int generation, Instant until) {
    capture.parkedUntil(generation, until);
  }

  /**
   * Writes what {@code supervisor} runs now; {@code carried}: per generation, what its output
   * readers hold of an unfinished line (an upgrade's).
   */
  void write(Supervisor supervisor, ListenerSet bound, Map<Integer, List<String>> carried) {
    write(capture.of(supervisor, bound, carried));
  }

  /**
   * Replaces the journal with {@code state}: a new file of a unique name, created exclusively (so
   * never through a symlink someone left there) with mode 0600, since it holds every generation's
   * env; written and fsynced, renamed over the old one, and the rename fsynced with the directory.
   *
   * @throws UncheckedIOException when it cannot be written; the old journal is then left as it was
   */
  void write(State state) {
    var dir = Objects.requireNonNull(path.getParent(), "the journal's path is absolute");
    Path temp = null;
    try {
      var bytes = key.sign(JournalJson.write(state)).getBytes(StandardCharsets.UTF_8);
      temp = Files.createTempFile(dir, path.getFileName() + ".", ".tmp", OWNER_ONLY);
      try (var out = FileChannel.open(temp, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS)) {
        var buffer = ByteBuffer.wrap(bytes);
        while (buffer.hasRemaining()) {
          out.write(buffer);
        }
        out.force(true);
      }
      Files.move(temp, path, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      temp = null;
      fsync(dir);
    } catch (IOException | UncheckedIOException | StartException e) {
      // One kind of failure for every caller: an upgrade refuses on it, the loop logs it.
      var cause = e instanceof IOException io ? io : new IOException(e.getMessage(), e);
      var why =
          cause instanceof java.nio.file.FileSystemException f
              ? f.getFile()
                  + ": "
                  + (f.getReason() != null ? f.getReason() : f.getClass().getSimpleName())
              : cause.getMessage();
      throw new UncheckedIOException(
          "cannot write the state journal " + path + " (" + why + ")", cause);
    } finally {
      if (temp != null) {
        deleteQuietly(temp);
      }
    }
  }

  /**
   * The last state written, if any, once the file has shown it is this service's own.
   *
   * @throws StartException when it may have been written by someone else, or when the file is there
   *     but unreadable: recovery must not guess
   */
  Optional<State> read() {
    String text;
    try {
      // A fresh start (no journal) does not depend on the directory: only trusting one does.
      if (!trust.checkOwned(path, false)) {
        return Optional.empty();
      }
      trust.checkOwned(Objects.requireNonNull(path.getParent()), true);
      text = Files.readString(path);
    } catch (IOException e) {
      throw unreadable(path, e.toString());
    }
    if (text.startsWith("{")) {
      return Optional.of(trust.olderBatons(text));
    }
    var json = key.verified(text);
    try {
      return Optional.of(JournalJson.read(json));
    } catch (IllegalArgumentException e) {
      throw unreadable(path, e.getMessage());
    }
  }

  private static void fsync(Path dir) throws IOException {
    try (var channel = FileChannel.open(dir, StandardOpenOption.READ)) {
      channel.force(true);
    }
  }

  private static void deleteQuietly(Path file) {
    try {
      Files.deleteIfExists(file);
    } catch (IOException e) {
      // A leftover temp file holds nothing a reader would take: the name is not the journal's.
    }
  }

  void delete() {
    try {
      Files.deleteIfExists(path);
    } catch (IOException e) {
      // A stale journal only names processes that are gone; recovery checks each one.
    }
  }
}
