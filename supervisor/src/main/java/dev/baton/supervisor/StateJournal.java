package dev.baton.supervisor;

import dev.baton.os.Os;
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
import tools.jackson.databind.PropertyNamingStrategies;
import tools.jackson.databind.cfg.DateTimeFeature;
import tools.jackson.databind.json.JsonMapper;

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

  record State(int supervisorPid, int nextNumber, List<ListenerEntry> listeners, List<GenerationEntry> generations) {

    /** {@code carried}: per generation, what its output readers hold of an unfinished line. */
    static State of(int supervisorPid, Generations generations, List<ListenerEntry> listeners,
        Map<Integer, List<String>> carried) {
      var entries = generations.live().stream().map(g -> new GenerationEntry(
          g.number, g.pid(), g.startTime, g.state().label(), g.app.command(), g.app.env(), g.app.workdir().toString(),
          g.process.outputPipes(), carried.getOrDefault(g.number, List.of()),
          g.probeAddress.map(a -> a.getAddress().getHostAddress() + ":" + a.getPort()), g.started, g.promotedAt)).toList();
      return new State(supervisorPid, generations.nextNumber(), listeners, entries);
    }
  }

  /** snake_case, as every JSON document baton writes. */
  private static final JsonMapper JSON = JsonMapper.builder()
      .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
      .disable(DateTimeFeature.WRITE_DATES_AS_TIMESTAMPS)
      .build();

  private final Path path;
  /** The listeners as the journal names them; they never change once bound, so /proc is read once. */
  private List<ListenerEntry> listeners;

  StateJournal(Path path) {
    this.path = path;
  }

  Path path() {
    return path;
  }

  /** {@code carried}: per generation, what its output readers hold of an unfinished line. */
  void write(Os os, ListenerSet bound, Generations generations, Map<Integer, List<String>> carried) {
    if (listeners == null) {
      listeners = bound.all().stream().map(b ->
          new ListenerEntry(b.config().name(), b.config().address().toString(), os.link(b.fd()))).toList();
    }
    write(State.of(os.pid(), generations, listeners, carried));
  }

  void write(State state) {
    var temp = path.resolveSibling(path.getFileName() + ".tmp");
    try {
      Files.writeString(temp, JSON.writeValueAsString(state));
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
      return Optional.of(JSON.readValue(Files.readString(path), State.class));
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
