package dev.baton.bench;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * Replaces the app at a fixed interval, on its own thread, until stopped. A replacement that takes
 * longer than the interval is followed by the next one at once, back to back: with a JVM that needs
 * more than 100 ms to start, "every 100 ms" means "as often as it can be done".
 */
final class Rhythm {
  private final ServiceUnderTest service;
  private final Duration interval;
  private final int limit;
  private final Consumer<Reload> onReload;
  private final List<CompletableFuture<Reload>> reloads = new ArrayList<>();
  private final Thread thread;
  private volatile boolean stopping;
  private volatile @Nullable RuntimeException error;

  private Rhythm(
      ServiceUnderTest service, Duration interval, int limit, Consumer<Reload> onReload) {
    this.service = service;
    this.interval = interval;
    this.limit = limit;
    this.onReload = onReload;
    this.thread = Thread.ofPlatform().name("rhythm").unstarted(this::run);
  }

  /**
   * Starts replacing at once, then every {@code interval}, at most {@code limit} times.
   *
   * @param onReload told of each replacement once its old generation has drained
   */
  static Rhythm start(
      ServiceUnderTest service, Duration interval, int limit, Consumer<Reload> onReload) {
    var rhythm = new Rhythm(service, interval, limit, onReload);
    rhythm.thread.start();
    return rhythm;
  }

  private void run() {
    long next = System.nanoTime();
    try {
      while (!stopping && reloads.size() < limit) {
        // Parked rather than slept: stop() unparks, and must never interrupt a replacement midway.
        for (long wait = next - System.nanoTime();
            wait > 0 && !stopping;
            wait = next - System.nanoTime()) {
          LockSupport.parkNanos(wait);
        }
        if (stopping) {
          break;
        }
        long began = System.nanoTime();
        var reload = service.redeploy();
        reload.thenAccept(onReload);
        synchronized (reloads) {
          reloads.add(reload);
        }
        next = Math.max(began + interval.toNanos(), System.nanoTime());
      }
    } catch (Children.Stopped e) {
      // Stopped.
    } catch (RuntimeException e) {
      error = e;
    }
  }

  /** Whether it has done its {@code limit} replacements. */
  boolean finished() {
    return !thread.isAlive();
  }

  /**
   * Stops after the replacement under way, and waits up to {@code drainTimeout} for the old
   * generations still draining; returns every replacement that finished, in order.
   */
  List<Reload> stop(Duration drainTimeout) {
    stopping = true;
    LockSupport.unpark(thread);
    try {
      thread.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (error != null) {
      throw error;
    }
    List<CompletableFuture<Reload>> all;
    synchronized (reloads) {
      all = List.copyOf(reloads);
    }
    long deadline = System.nanoTime() + drainTimeout.toNanos();
    var done = new ArrayList<Reload>();
    for (var reload : all) {
      try {
        done.add(reload.get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS));
      } catch (TimeoutException | ExecutionException e) {
        // Not drained in time, or the reload itself broke: it is left out of the timings.
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    return done;
  }
}
