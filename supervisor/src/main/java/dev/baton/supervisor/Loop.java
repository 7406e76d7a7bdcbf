package dev.baton.supervisor;

import dev.baton.os.Fd;
import dev.baton.os.Poller;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.PriorityQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.function.IntConsumer;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The supervisor's one thread. Everything that can wake the supervisor is a descriptor in one
 * {@link Poller} (pidfds, output pipes, the notify socket, the control sockets and their
 * connections) or a timer here, so every piece of supervisor state is read and written on this
 * thread alone and needs no lock. The loop never blocks on anything but the poll: blocking work (an
 * HTTP probe, a warm-up) runs on a virtual thread through {@link #offLoop} and its result comes
 * back as a posted task.
 *
 * <p>Tests drive it by hand with {@link #runOnce(long)} and a clock they advance.
 */
final class Loop {
  private static final Logger LOG = LoggerFactory.getLogger(Loop.class);

  /** A task due at a time; cancelled ones stay queued until due and are then skipped. */
  static final class Timer implements Comparable<Timer> {
    private final long due;
    private final long order;
    private final Runnable task;
    private boolean cancelled;

    private Timer(long due, long order, Runnable task) {
      this.due = due;
      this.order = order;
      this.task = task;
    }

    void cancel() {
      cancelled = true;
    }

    @Override
    public int compareTo(Timer other) {
      return due != other.due ? Long.compare(due, other.due) : Long.compare(order, other.order);
    }
  }

  private final Poller poller;
  private final InstantSource clock;
  private final Map<Long, IntConsumer> handlers = new HashMap<>();
  private final Map<Fd, Long> tokens = new HashMap<>();
  private final PriorityQueue<Timer> timers = new PriorityQueue<>();
  private final ConcurrentLinkedQueue<Runnable> posted = new ConcurrentLinkedQueue<>();
  private final long[] readyTokens = new long[64];
  private final int[] readyEvents = new int[64];
  private long nextToken = 1;
  private long nextOrder;
  private volatile @Nullable Thread thread;
  private volatile boolean running = true;
  private volatile boolean finished;

  /**
   * What handlers, tasks and timers threw, counted: a fuzz run or a status can tell that none did.
   */
  private long caught;

  private @Nullable Throwable lastCaught;

  /** Runs blocking work; nothing on the loop waits for it but its posted result. */
  private final Executor blocking;

  Loop(Poller poller, InstantSource clock, Executor blocking) {
    this.poller = poller;
    this.clock = clock;
    this.blocking = blocking;
  }

  Instant now() {
    return clock.instant();
  }

  /** Watches {@code fd}; {@code handler} runs on this loop with the events that are ready. */
  void watch(Fd fd, int interest, IntConsumer handler) {
    var token = tokens.get(fd);
    if (token == null) {
      token = nextToken++;
      tokens.put(fd, token);
    }
    handlers.put(token, handler);
    poller.watch(fd, interest, token);
  }

  /** Changes what {@code fd} is watched for, keeping its handler. */
  void interest(Fd fd, int interest) {
    var token = tokens.get(fd);
    if (token != null) {
      poller.watch(fd, interest, token);
    }
  }

  void unwatch(Fd fd) {
    var token = tokens.remove(fd);
    if (token != null) {
      handlers.remove(token);
      poller.unwatch(fd);
    }
  }

  /** Runs {@code task} on this loop after {@code delay}. Call on the loop. */
  Timer after(Duration delay, Runnable task) {
    var timer = new Timer(clock.millis() + Math.max(0, delay.toMillis()), nextOrder++, task);
    timers.add(timer);
    return timer;
  }

  /** Runs {@code task} on this loop soon. Safe from any thread. */
  void post(Runnable task) {
    posted.add(task);
    if (Thread.currentThread() != thread) {
      poller.wakeup();
    }
  }

  /** Runs {@code task} on this loop and completes with its result; at once when already on it. */
  <T> CompletableFuture<T> call(Supplier<CompletableFuture<T>> task) {
    // Once the loop has ended nothing else touches the state, so the caller may.
    if (inLoop() || finished) {
      return task.get();
    }
    var result = new CompletableFuture<T>();
    post(
        () -> {
          try {
            task.get()
                .whenComplete(
                    (value, error) -> {
                      if (error != null) {
                        result.completeExceptionally(error);
                      } else {
                        result.complete(value);
                      }
                    });
          } catch (RuntimeException e) {
            result.completeExceptionally(e);
          }
        });
    return result;
  }

  /**
   * Runs blocking work off the loop; the returned future completes on the loop, so whatever is
   * chained on it runs there too.
   */
  <T> CompletableFuture<T> offLoop(Supplier<T> work) {
    var result = new CompletableFuture<T>();
    blocking.execute(
        () -> {
          try {
            var value = work.get();
            post(() -> result.complete(value));
          } catch (RuntimeException e) {
            post(() -> result.completeExceptionally(e));
          }
        });
    return result;
  }

  boolean inLoop() {
    return Thread.currentThread() == thread;
  }

  /** Runs the loop on the calling thread until {@link #stop()}. */
  void run() {
    thread = Thread.currentThread();
    while (running) {
      runOnce(-1);
    }
    if (blocking instanceof ExecutorService service) {
      service.shutdownNow();
    }
    poller.close();
    finished = true;
  }

  /** Starts {@link #run()} on a platform thread of its own. */
  Thread start(String name) {
    var t = Thread.ofPlatform().name(name).unstarted(this::run);
    thread = t;
    t.start();
    return t;
  }

  /** Ends {@link #run()} after the current turn. Safe from any thread. */
  void stop() {
    running = false;
    poller.wakeup();
  }

  /**
   * One turn: waits for a descriptor, a timer or a posted task (at most {@code maxWaitMillis}; -1
   * for no limit, 0 not at all), then runs what is ready, every posted task, and every due timer.
   */
  void runOnce(long maxWaitMillis) {
    if (thread == null) {
      thread = Thread.currentThread();
    }
    long wait = posted.isEmpty() ? untilNextTimer() : 0;
    if (maxWaitMillis >= 0) {
      wait = wait < 0 ? maxWaitMillis : Math.min(wait, maxWaitMillis);
    }
    int n = poller.poll(readyTokens, readyEvents, wait);
    for (int i = 0; i < n; i++) {
      var handler = handlers.get(readyTokens[i]);
      int events = readyEvents[i];
      if (handler != null) {
        guarded(() -> handler.accept(events));
      }
    }
    for (var task = posted.poll(); task != null; task = posted.poll()) {
      guarded(task);
    }
    long now = clock.millis();
    while (!timers.isEmpty() && timers.peek().due <= now) {
      var timer = timers.poll();
      if (!timer.cancelled) {
        guarded(timer.task);
      }
    }
  }

  /** Milliseconds until the next timer, or -1 when none is set. */
  private long untilNextTimer() {
    while (!timers.isEmpty() && timers.peek().cancelled) {
      timers.poll();
    }
    return timers.isEmpty() ? -1 : Math.max(0, timers.peek().due - clock.millis());
  }

  /** How many times a handler, task or timer threw since the loop was made. Call on the loop. */
  long caught() {
    return caught;
  }

  /** The last thing a handler, task or timer threw, if any did. Call on the loop. */
  Optional<Throwable> lastCaught() {
    return Optional.ofNullable(lastCaught);
  }

  /** Nothing a handler throws may end the loop: it is logged, counted, and the loop goes on. */
  private void guarded(Runnable task) {
    try {
      task.run();
    } catch (RuntimeException | StackOverflowError e) {
      caught++;
      lastCaught = e;
      LOG.error("the supervisor's loop caught an unexpected error; it goes on", e);
    }
  }
}
