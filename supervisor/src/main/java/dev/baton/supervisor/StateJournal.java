package dev.baton.supervisor;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import tools.jackson.core.JacksonException;

/**
 * What a restarted supervisor needs to take its service back: which generations run, which
 * sockets and pipes (by identity) they hold for it, and which one is active.
 * Rewritten whole, by rename, at every change of state, so a reader never sees half of one; it
 * lives next to the control socket and is removed by a clean stop.
 */
final class StateJournal {
  /** A listener and its socket's identity, "socket:[inode]", to find it among a generation's fds. */
  record ListenerEntry(String name, String address, String socket) {}

  record GenerationEntry(
      int number,
      int pid,
      long startTime,
      String state,
      List<String> command,
      Map<String, String> env,
      String workdir,
      List<String> outputPipes,
      List<String> pendingOutput,
      Optional<String> probeAddress,
      Instant started,
      Optional<Instant> promoted) {}

  record State(int supervisorPid, int nextNumber, List<ListenerEntry> listeners, List<GenerationEntry> generations) {}

  private final Path path;

  StateJournal(Path path) {
    this.path = path;
  }

  Path path() {
    return path;
  }

  void write(State state) {
    var temp = path.resolveSibling(path.getFileName() + ".tmp");
    try {
      Files.writeString(temp, ControlServer.JSON.writeValueAsString(state));
      Files.move(temp, path, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the state journal " + path, e);
    }
  }

  /**
   * The last state written, if any.
   *
   * @throws StartException when the file is there but unreadable: recovery must not guess
   */
  Optional<State> read() {
    try {
      return Optional.of(ControlServer.JSON.readValue(Files.readString(path), State.class));
    } catch (NoSuchFileException e) {
      return Optional.empty();
    } catch (IOException | JacksonException e) {
      throw new StartException("the state journal " + path + " cannot be read (" + e.getMessage()
          + "); if no generation of this service is running any more, delete it and start again");
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
