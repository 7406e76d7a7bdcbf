package dev.baton.supervisor;

import static dev.baton.supervisor.StateJournal.refused;
import static dev.baton.supervisor.StateJournal.unreadable;

import dev.baton.os.Os;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;

/**
 * Whether a state journal's files can be this service's own: each is no symlink, belongs to this
 * uid (or root) and is writable by nobody else; and whether a journal an older baton wrote, without
 * an HMAC, may be taken at all. Apart from {@link StateJournal} so that the reasons to refuse a
 * journal read in one place, each with the message that names it.
 */
final class JournalTrust {
  private final Path path;
  private final Os os;

  /** {@code path}: the journal, which every refusal names, whichever of its files failed. */
  JournalTrust(Path path, Os os) {
    this.path = path;
    this.os = os;
  }

  /**
   * Checks that {@code file} is no symlink, is owned by this uid or root, and is writable by nobody
   * else; returns false if it does not exist (only a file may be missing).
   */
  boolean checkOwned(Path file, boolean directory) throws IOException {
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

  /**
   * A journal as baton versions before the HMAC wrote it, plain JSON: taken only by the process
   * that wrote it, just re-executed by `baton upgrade` (so upgrading to this version keeps the
   * service), and then only its own children (Recovery checks each parent), as after any upgrade.
   */
  StateJournal.State olderBatons(String text) {
    StateJournal.State old;
    try {
      old = JournalJson.read(text);
    } catch (IllegalArgumentException e) {
      throw unreadable(path, e.getMessage());
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
                    new StateJournal.GenerationEntry(
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
                        Optional.empty(),
                        g.sockets(),
                        g.paused()))
            .toList();
    return new StateJournal.State(
        os.bootId(),
        os.uid(),
        os.pid(),
        os.startTime(os.pid()).orElse(0),
        old.nextNumber(),
        old.listeners(),
        generations);
  }
}
