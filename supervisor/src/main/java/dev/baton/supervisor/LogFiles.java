package dev.baton.supervisor;

import dev.baton.config.Config;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The {@code [logs] file}s of this process: each opened once, and the one new generations write to.
 * A deploy that names another file moves new generations to it; those already running write on
 * where they did.
 */
public final class LogFiles {
  private static final ConcurrentHashMap<Path, LogFile> OPEN = new ConcurrentHashMap<>();

  private static volatile Optional<LogFile> ofThisProcess = Optional.empty();

  private LogFiles() {}

  /**
   * The log file {@code config} names, opened on the first call and the same object after that; it
   * becomes the file every new generation of this process writes to ({@link #ofThisProcess()}).
   * Empty when the config has no {@code [logs] file}: output then goes to the supervisor's own log.
   *
   * @throws StartException when the file cannot be opened
   */
  public static Optional<LogFile> forConfig(Config config) {
    var file = opened(config.logs());
    use(config.logs(), file);
    return file;
  }

  /**
   * The file {@code logs} names, opened, not yet written to by new generations: a deploy opens it
   * before it knows it goes ahead, then {@link #use}s it.
   *
   * @throws StartException when the file cannot be opened
   */
  static Optional<LogFile> opened(Config.Logs logs) {
    if (logs.file().isEmpty()) {
      return Optional.empty();
    }
    try {
      return Optional.of(
          OPEN.computeIfAbsent(
              logs.file().get(),
              p ->
                  LogFile.open(
                      p,
                      logs.maxSize(),
                      logs.rotateEvery().orElse(null),
                      logs.keep(),
                      InstantSource.system())));
    } catch (UncheckedIOException e) {
      throw new StartException(String.valueOf(e.getMessage()));
    }
  }

  /** From now on, new generations write to {@code file} (none: the supervisor's own log). */
  static void use(Config.Logs logs, Optional<LogFile> file) {
    file.ifPresent(f -> f.rotation(logs));
    ofThisProcess = file;
  }

  /** The file new generations write to; empty when their output goes to the supervisor's log. */
  public static Optional<LogFile> ofThisProcess() {
    return ofThisProcess;
  }
}
