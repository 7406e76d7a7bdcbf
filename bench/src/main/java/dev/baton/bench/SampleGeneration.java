package dev.baton.bench;

import java.io.Writer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One generation of the sample started by bench itself, without a supervisor: for the scenarios
 * that replace the app the ways baton exists to avoid.
 */
final class SampleGeneration {
  /**
   * The longest a generation may take to listen; a JVM on two busy cores takes well under a second.
   */
  static final Duration START_TIMEOUT = Duration.ofSeconds(30);

  final int number;
  final Child child;
  final long spawnedNanos;
  private final CompletableFuture<Long> listening;

  private SampleGeneration(
      int number, Child child, long spawnedNanos, CompletableFuture<Long> listening) {
    this.number = number;
    this.child = child;
    this.spawnedNanos = spawnedNanos;
    this.listening = listening;
  }

  /** Starts generation {@code number}, which binds its own socket: {@code options} say which. */
  static SampleGeneration start(
      Children children, Sample sample, int number, List<String> options, Path dir, Writer log) {
    var listening = new CompletableFuture<Long>();
    var argv = sample.argv(options);
    var env = Map.of("BATON_GENERATION", Integer.toString(number));
    var child =
        children.start(
            "gen " + number,
            argv,
            env,
            dir,
            List.of(),
            log,
            line -> {
              if (line.contains(Sample.LISTENING)) {
                listening.complete(System.nanoTime());
              }
            });
    var spawned = System.nanoTime();
    child
        .exit()
        .thenAccept(
            status ->
                listening.completeExceptionally(
                    new IllegalStateException(
                        "generation "
                            + number
                            + " (pid "
                            + child.pid()
                            + ") "
                            + status
                            + " before it listened")));
    return new SampleGeneration(number, child, spawned, listening);
  }

  /** Waits until it listens; returns when, in {@link System#nanoTime()}. */
  long awaitListening() {
    try {
      return listening.get(START_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      throw new IllegalStateException(
          "generation "
              + number
              + " (pid "
              + child.pid()
              + ") did not listen within "
              + START_TIMEOUT.toSeconds()
              + " s; see the scenario's log");
    } catch (ExecutionException e) {
      var cause = e.getCause() == null ? e : e.getCause();
      throw new IllegalStateException(cause.getMessage() + "; see the scenario's log", cause);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new Children.Stopped();
    }
  }

  /**
   * SIGTERM, then waits for the drain; SIGKILL to the group if it takes longer than {@code grace}.
   */
  CompletableFuture<Long> drain(Duration grace) {
    child.terminate();
    return child
        .exit()
        .orTimeout(grace.toMillis(), TimeUnit.MILLISECONDS)
        .handle(
            (status, error) -> {
              if (error != null) {
                child.end(Duration.ZERO);
              }
              return System.nanoTime();
            });
  }
}
