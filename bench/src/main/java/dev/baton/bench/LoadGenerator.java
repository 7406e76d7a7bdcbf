package dev.baton.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;

/**
 * Puts a local HTTP/1.1 server under load and counts every request's outcome.
 *
 * <pre>{@code
 * LoadReport report = LoadGenerator.run(Load.to("127.0.0.1:8080").duration(Duration.ofSeconds(10)).build());
 * }</pre>
 *
 * <p>A few threads (see {@link Load#threads()}) each run a non-blocking selector loop over their
 * share of the connections. The load ends by itself after its duration or its request count;
 * requests in flight then are waited for, up to the request timeout, so that every request sent is
 * counted as ok or failed and none is silently dropped.
 */
public final class LoadGenerator implements AutoCloseable {
  private final Load load;
  private final long startNanos;
  private final List<Worker> workers = new ArrayList<>();
  private final List<Thread> threads = new ArrayList<>();
  private final AtomicLong requestsTaken = new AtomicLong();
  private final AtomicInteger workersRunning = new AtomicInteger();
  private final AtomicReference<@Nullable String> abortReason = new AtomicReference<>();
  private final CompletableFuture<LoadReport> report = new CompletableFuture<>();
  private volatile boolean stopping;

  private LoadGenerator(Load load) {
    this.load = load;
    this.startNanos = System.nanoTime();
  }

  /** Starts the load and returns at once; see {@link #report()}. */
  public static LoadGenerator start(Load load) {
    var generator = new LoadGenerator(load);
    generator.startWorkers();
    return generator;
  }

  /** Runs the load to its end and returns the report. */
  static LoadReport run(Load load) {
    return start(load).awaitReport();
  }

  /** Completes when the load has ended, by itself or by {@link #stop()}. */
  CompletableFuture<LoadReport> report() {
    return report;
  }

  /**
   * Ends the load early, for Ctrl-C: no new requests are sent, requests in flight are waited for
   * (up to the request timeout), and the partial report is returned. Safe to call more than once,
   * and after the load has ended by itself.
   */
  public LoadReport stop() {
    stopping = true;
    workers.forEach(Worker::wakeup);
    return awaitReport();
  }

  @Override
  public void close() {
    stop();
  }

  Load load() {
    return load;
  }

  /**
   * When the load started, in {@link System#nanoTime()}: the zero of the timeline's start offsets.
   */
  public long startNanos() {
    return startNanos;
  }

  private void startWorkers() {
    int threadCount = load.threads();
    int firstId = 0;
    try {
      for (int i = 0; i < threadCount; i++) {
        // Connections and the timeline are shared out as evenly as they divide.
        int count =
            load.connections() / threadCount + (i < load.connections() % threadCount ? 1 : 0);
        int timelineLimit =
            (int)
                ((long) load.timelineLimit() * (i + 1) / threadCount
                    - (long) load.timelineLimit() * i / threadCount);
        workers.add(new Worker(this, load, firstId, count, startNanos, timelineLimit));
        firstId += count;
      }
    } catch (IOException e) {
      throw new UncheckedIOException("could not open a selector for the load generator", e);
    }
    workersRunning.set(workers.size());
    for (int i = 0; i < workers.size(); i++) {
      var thread = new Thread(workers.get(i), "baton-bench-" + i);
      threads.add(thread);
      thread.start();
    }
  }

  /** Waits for the report and for every worker thread to be gone. */
  private LoadReport awaitReport() {
    var result = report.join();
    boolean interrupted = false;
    for (Thread thread : threads) {
      while (thread.isAlive()) {
        try {
          thread.join();
        } catch (InterruptedException e) {
          interrupted =
              true; // the threads end on their own in moments; finish waiting, then say so
        }
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
    return result;
  }

  /** The next request's number, from 1; -1 once the load's request count is used up. */
  long takeRequest() {
    long taken = requestsTaken.incrementAndGet();
    return taken <= load.requests() ? taken : -1;
  }

  boolean stopping() {
    return stopping;
  }

  /**
   * Ends the load because the generator itself cannot go on; the first reason is the one reported.
   */
  void abort(String reason) {
    abortReason.compareAndSet(null, reason);
    stopping = true;
    workers.forEach(Worker::wakeup);
  }

  /** Called by each worker as it ends; the last one builds the report. */
  void workerDone() {
    if (workersRunning.decrementAndGet() == 0) {
      try {
        report.complete(
            LoadReport.of(
                load, startNanos, workers.stream().map(w -> w.tally).toList(), abortReason.get()));
      } catch (RuntimeException e) {
        report.completeExceptionally(e);
      }
    }
  }
}
