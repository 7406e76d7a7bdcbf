package dev.baton.bench;

import java.io.Writer;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.concurrent.CompletableFuture;

/**
 * The sample binding its own port, replaced the plain way: SIGTERM, wait for it to drain and exit,
 * then start the new one, which binds the port again. While no process holds the port, connections
 * are refused. Also the baseline, {@code none}, which starts it once and never replaces it.
 */
final class StopStartService extends OwnPortService {

  private StopStartService(
      Children children, Sample sample, Path dir, Writer log, int port, List<String> appOptions) {
    super(children, sample, dir, log, port, appOptions, List.of("--port=" + port));
  }

  static StopStartService start(
      Children children, Sample sample, Path dir, Writer log, int port, List<String> appOptions) {
    return new StopStartService(children, sample, dir, log, port, appOptions);
  }

  @Override
  public CompletableFuture<Reload> redeploy() {
    long asked = System.nanoTime();
    long drained = current().drain(DRAIN).join();
    var next = spawnNext();
    switchTo(next);
    Optional<String> failure = Optional.empty();
    OptionalDouble ready = OptionalDouble.empty();
    try {
      ready = OptionalDouble.of((next.awaitListening() - asked) / 1e6);
    } catch (IllegalStateException e) {
      failure = Optional.of(String.valueOf(e.getMessage()));
    }
    return CompletableFuture.completedFuture(
        new Reload(
            next.number,
            asked,
            asked,
            OptionalDouble.of((next.spawnedNanos - asked) / 1e6),
            ready,
            OptionalDouble.empty(),
            OptionalDouble.of((drained - asked) / 1e6),
            failure));
  }
}
