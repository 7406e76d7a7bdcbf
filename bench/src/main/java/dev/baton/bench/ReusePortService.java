package dev.baton.bench;

import java.io.Writer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.concurrent.CompletableFuture;

/**
 * Each generation with its own SO_REUSEPORT socket on the same port: the new one is started, and
 * once it listens the old one is sent SIGTERM. Every such socket has its own accept queue, and
 * closing it resets what is queued there, unless {@code net.ipv4.tcp_migrate_req} moves it.
 *
 * <p>Each generation binds its socket itself ({@code --reuse-port}) once it is up, as apps that
 * replace themselves this way do, so no connection waits in the queue of one still starting.
 */
final class ReusePortService extends OwnPortService {

  private ReusePortService(
      Children children, Sample sample, Path dir, Writer log, int port, List<String> options) {
    super(children, sample, dir, log, port, options, List.of("--port=" + port, "--reuse-port"));
  }

  static ReusePortService start(
      Children children, Sample sample, Path dir, Writer log, int port, List<String> options) {
    return new ReusePortService(children, sample, dir, log, port, options);
  }

  @Override
  public CompletableFuture<Reload> redeploy() {
    long asked = System.nanoTime();
    var old = current();
    var next = spawnNext();
    long listening;
    try {
      listening = next.awaitListening();
    } catch (IllegalStateException e) {
      next.child.end(Duration.ZERO);
      return CompletableFuture.completedFuture(
          new Reload(
              next.number,
              asked,
              System.nanoTime(),
              OptionalDouble.of((next.spawnedNanos - asked) / 1e6),
              OptionalDouble.empty(),
              OptionalDouble.empty(),
              OptionalDouble.empty(),
              Optional.of(String.valueOf(e.getMessage()))));
    }
    switchTo(next);
    long switched = System.nanoTime();
    return old.drain(DRAIN)
        .thenApply(
            drained ->
                new Reload(
                    next.number,
                    asked,
                    switched,
                    OptionalDouble.of((next.spawnedNanos - asked) / 1e6),
                    OptionalDouble.of((listening - asked) / 1e6),
                    OptionalDouble.empty(),
                    OptionalDouble.of((drained - asked) / 1e6),
                    Optional.empty()));
  }
}
