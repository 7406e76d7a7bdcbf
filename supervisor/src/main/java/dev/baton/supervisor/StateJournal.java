package dev.baton.supervisor;

import dev.baton.os.Os;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
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
   * supervisor this generation from any other process with its pid and start time.
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
      Optional<Instant> bakeUntil) {}

  record State(
      String bootId,
      int uid,
      int supervisorPid,
      long supervisorStartTime,
      int nextNumber,
      List<ListenerEntry> listeners,
      List<GenerationEntry> generations) {}

  /** Per generation, what /proc said of it when it was first written down. */
  private record Lineage(int session, boolean child) {}

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

  private static final String HMAC = "HmacSHA256";
  private static final int KEY_BYTES = 32;
  private static final java.nio.file.attribute.FileAttribute<?> OWNER_ONLY =
      PosixFilePermissions.asFileAttribute(
          EnumSet.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE));

  private final Path path;
  private final Path keyPath;
  private final Os os;
  private byte @Nullable [] key;

  /**
   * The listeners as the journal names them; they never change once bound, so /proc is read once.
   */
  private @Nullable List<ListenerEntry> listeners;

  private String bootId = "";

  /** When each parked generation is due to be drained at {@code [park] ttl}: a restart keeps it. */
  private final Map<Integer, Instant> parkedUntil = new HashMap<>();

  private final Map<Integer, Lineage> lineage = new HashMap<>();

  StateJournal(Path path, Os os) {
    this.path = path.toAbsolutePath();
    this.keyPath =
        this.path.resolveSibling(
            path.getFileName().toString().replaceFirst("\\.state$", "") + ".key");
    this.os = os;
  }

  Path path() {
    return path;
  }

  Path keyPath() {
    return keyPath;
  }

  /** A recovered generation's park deadline, from the journal it was recovered from. */
  void parkedUntil(int generation, Instant until) {
    parkedUntil.put(generation, until);
  }

  /**
   * Writes what {@code supervisor} runs now; {@code carried}: per generation, what its output
   * readers hold of an unfinished line (an upgrade's).
   */
  void write(Supervisor supervisor, ListenerSet bound, Map<Integer, List<String>> carried) {
    if (listeners == null) {
      listeners =
          bound.all().stream()
              .map(
                  b ->
                      new ListenerEntry(
                          b.config().name(), b.config().address().toString(), os.link(b.fd())))
              .toList();
      bootId = os.bootId();
    }
    var now = supervisor.loop().now();
    var config = supervisor.config();
    var live = supervisor.generations().live();
    // A deadline is noted in the turn that parked the generation, when Retire set its timer.
    parkedUntil
        .keySet()
        .retainAll(
            live.stream().filter(g -> g.is(GenerationState.PARKED)).map(g -> g.number).toList());
    live.stream()
        .filter(g -> g.is(GenerationState.PARKED))
        .forEach(g -> parkedUntil.putIfAbsent(g.number, now.plus(config.park().ttl())));
    int pid = os.pid();
    lineage.keySet().retainAll(live.stream().map(g -> g.number).toList());
    var entries =
        live.stream()
            .map(
                g ->
                    new GenerationEntry(
                        g.number,
                        g.pid(),
                        g.startTime,
                        lineageOf(g, pid).session(),
                        lineageOf(g, pid).child(),
                        g.state().label(),
                        g.app.command(),
                        g.app.env(),
                        g.app.workdir().toString(),
                        g.process.outputPipes(),
                        carried.getOrDefault(g.number, List.of()),
                        g.probeAddress.map(
                            a -> a.getAddress().getHostAddress() + ":" + a.getPort()),
                        g.started,
                        g.promotedAt,
                        Optional.ofNullable(parkedUntil.get(g.number)),
                        // Bake.start runs in the promotion's turn, so its end is the promotion plus
                        // its duration.
                        g.baking
                            ? g.promotedAt.flatMap(
                                p -> config.bake().map(b -> p.plus(b.duration())))
                            : Optional.<Instant>empty()))
            .toList();
    write(
        new State(
            bootId,
            os.uid(),
            pid,
            os.startTime(pid).orElse(0),
            supervisor.generations().nextNumber(),
            listeners,
            entries));
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
      var json = JournalJson.write(state);
      var bytes =
          (HexFormat.of().formatHex(mac(key(), json)) + "\n" + json)
              .getBytes(StandardCharsets.UTF_8);
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
      if (!checkOwned(path, false)) {
        return Optional.empty();
      }
      checkOwned(Objects.requireNonNull(path.getParent()), true);
      text = Files.readString(path);
    } catch (IOException e) {
      throw unreadable(e.toString());
    }
    if (text.startsWith("{")) {
      return Optional.of(olderBatons(text));
    }
    int newline = text.indexOf('\n');
    byte[] expected;
    try {
      var stored =
          loadKey()
              .orElseThrow(
                  () ->
                      refused(
                          path,
                          "there is no key " + keyPath + " to check it with",
                          "Remove " + path + " if you did not write it, and start again"));
      expected = newline < 0 ? new byte[0] : mac(stored, text.substring(newline + 1));
    } catch (IOException e) {
      throw unreadable(e.toString());
    }
    byte[] found;
    try {
      found = HexFormat.of().parseHex(newline < 0 ? "" : text.substring(0, newline));
    } catch (IllegalArgumentException e) {
      found = new byte[0];
    }
    if (!MessageDigest.isEqual(expected, found)) {
      throw refused(
          path,
          "its HMAC does not match "
              + keyPath
              + ", so this service's supervisor did not write it"
              + " as it is",
          "Remove " + path + " if you did not write it, and start again");
    }
    try {
      return Optional.of(JournalJson.read(text.substring(newline + 1)));
    } catch (IllegalArgumentException e) {
      throw unreadable(e.getMessage());
    }
  }

  /**
   * A journal as baton versions before the HMAC wrote it, plain JSON: taken only by the process
   * that wrote it, just re-executed by `baton upgrade` (so upgrading to this version keeps the
   * service), and then only its own children (Recovery checks each parent), as after any upgrade.
   */
  private State olderBatons(String text) {
    State old;
    try {
      old = JournalJson.read(text);
    } catch (IllegalArgumentException e) {
      throw unreadable(e.getMessage());
    }
    var from = os.environment().get("BATON_UPGRADED_FROM");
    if (old.supervisorPid() != os.pid() || !Integer.toString(os.pid()).equals(from)) {
      throw refused(
          path,
          "it has no HMAC, as an older baton wrote it, and this process is not that baton upgraded",
          "Remove "
              + path
              + " if you did not write it, stop this service's generations, and start again");
    }
    var generations =
        old.generations().stream()
            .map(
                g ->
                    new GenerationEntry(
                        g.number(),
                        g.pid(),
                        g.startTime(),
                        0,
                        true,
                        g.state(),
                        g.command(),
                        g.env(),
                        g.workdir(),
                        g.outputPipes(),
                        g.pendingOutput(),
                        g.probeAddress(),
                        g.started(),
                        g.promoted(),
                        Optional.empty(),
                        Optional.empty()))
            .toList();
    return new State(
        os.bootId(),
        os.uid(),
        os.pid(),
        os.startTime(os.pid()).orElse(0),
        old.nextNumber(),
        old.listeners(),
        generations);
  }

  /** Read from /proc once per generation: its session and parent do not change while it lives. */
  private Lineage lineageOf(Generation g, int supervisorPid) {
    return lineage.computeIfAbsent(
        g.number,
        n ->
            os.processStat(g.pid())
                .map(p -> new Lineage(p.session(), p.parent() == supervisorPid))
                .orElse(new Lineage(0, false)));
  }

  private StartException unreadable(@Nullable String why) {
    return new StartException(
        "the state journal "
            + path
            + " cannot be read ("
            + why
            + "); if no generation of this service is running any more, delete it and start again");
  }

  /**
   * Checks that {@code file} is no symlink, is owned by this uid or root, and is writable by nobody
   * else; returns false if it does not exist (only a file may be missing).
   */
  private boolean checkOwned(Path file, boolean directory) throws IOException {
    PosixFileAttributes attributes;
    try {
      attributes = Files.readAttributes(file, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    } catch (NoSuchFileException e) {
      if (directory) {
        throw e;
      }
      return false;
    }
    var what = directory ? "its directory " + file : "it";
    if (attributes.isSymbolicLink()
        || (directory ? !attributes.isDirectory() : !attributes.isRegularFile())) {
      throw refused(
          path,
          what + " is not a " + (directory ? "directory" : "regular file"),
          "Remove " + file + " if you did not make it, and start again");
    }
    int owner = os.fileOwner(file);
    if (owner != os.uid() && owner != 0) {
      throw refused(
          path,
          what
              + " is owned by uid "
              + owner
              + ", not by this supervisor's uid "
              + os.uid()
              + " or root",
          "Remove " + path + " if you did not write it, and start again");
    }
    var mode = attributes.permissions();
    if (mode.contains(PosixFilePermission.GROUP_WRITE)
        || mode.contains(PosixFilePermission.OTHERS_WRITE)) {
      throw refused(
          path,
          what + " may be written by others (mode " + PosixFilePermissions.toString(mode) + ")",
          "Remove "
              + path
              + " if you did not write it, run chmod go-w "
              + file
              + ", and start again");
    }
    return true;
  }

  /** The HMAC key: read once, or made once (0600, exclusively) when there is none yet. */
  private byte[] key() throws IOException {
    if (key == null) {
      var stored = loadKey();
      if (stored.isPresent()) {
        key = stored.get();
      } else {
        var fresh = new byte[KEY_BYTES];
        new SecureRandom().nextBytes(fresh);
        // Made 0600 by the open itself: never readable by others, not even for a moment.
        try (var out =
            Files.newByteChannel(
                keyPath,
                java.util.Set.of(
                    StandardOpenOption.CREATE_NEW,
                    StandardOpenOption.WRITE,
                    StandardOpenOption.SYNC),
                OWNER_ONLY)) {
          out.write(ByteBuffer.wrap(fresh));
        }
        key = fresh;
      }
    }
    return key;
  }

  private Optional<byte[]> loadKey() throws IOException {
    if (!checkOwned(keyPath, false)) {
      return Optional.empty();
    }
    var mode = Files.getPosixFilePermissions(keyPath, LinkOption.NOFOLLOW_LINKS);
    if (!mode.equals(EnumSet.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE))) {
      throw refused(
          path,
          "its key "
              + keyPath
              + " may be read by others (mode "
              + PosixFilePermissions.toString(mode)
              + ")",
          "Remove " + path + " and " + keyPath + " if you did not write them, and start again");
    }
    var bytes = Files.readAllBytes(keyPath);
    if (bytes.length != KEY_BYTES) {
      throw refused(
          path,
          "its key " + keyPath + " is " + bytes.length + " bytes, not " + KEY_BYTES,
          "Remove " + path + " and " + keyPath + ", and start again");
    }
    return Optional.of(bytes);
  }

  private static byte[] mac(byte[] key, String text) {
    try {
      var mac = Mac.getInstance(HMAC);
      mac.init(new SecretKeySpec(key, HMAC));
      return mac.doFinal(text.getBytes(StandardCharsets.UTF_8));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("the JDK has no " + HMAC, e);
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
