package dev.baton.supervisor;

import static org.assertj.core.api.Assertions.assertThat;

import dev.baton.os.Fd;
import dev.baton.os.Poller;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The supervisor's one thread: descriptors, timers and posted tasks, and nothing that ends it by
 * accident.
 */
class LoopTest {
  private final ManualClock clock = new ManualClock(Harness.T0);
  private final FakeOs os = new FakeOs(clock);
  private final FakePoller poller = (FakePoller) os.poller();
  private final List<Runnable> blockingWork = new ArrayList<>();
  private final Loop loop = new Loop(poller, clock, blockingWork::add);
  private final List<String> ran = new ArrayList<>();

  /** A pipe with something in it: a descriptor that is readable until read. */
  private Fd readablePipe() {
    var pipe = new FakePipe(os, 1);
    pipe.write("x");
    return os.open(pipe);
  }

  @Test
  void timersRunInTheOrderTheyAreDueThenInTheOrderTheyWereSet() {
    loop.after(Duration.ofMillis(30), () -> ran.add("a"));
    loop.after(Duration.ofMillis(10), () -> ran.add("b"));
    loop.after(Duration.ofMillis(10), () -> ran.add("c"));
    loop.after(Duration.ofMillis(20), () -> ran.add("d"));
    loop.after(Duration.ZERO, () -> ran.add("e"));
    loop.runOnce(0);
    assertThat(ran).containsExactly("e");
    clock.advance(Duration.ofMillis(30));
    loop.runOnce(0);
    assertThat(ran).containsExactly("e", "b", "c", "d", "a");
  }

  @Test
  void theLoopWaitsExactlyUntilItsNextTimer() {
    loop.after(Duration.ofMillis(25), () -> ran.add("a"));
    clock.advance(Duration.ofMillis(5));
    loop.runOnce(-1);
    assertThat(poller.lastTimeout()).isEqualTo(20);
    assertThat(ran).isEmpty();
  }

  @Test
  void withNothingToDoTheLoopWouldWaitWithoutALimit() {
    loop.runOnce(-1);
    assertThat(poller.lastTimeout()).isEqualTo(-1);
  }

  @Test
  void aCancelledTimerIsSkippedAndNotWaitedFor() {
    var cancelled = loop.after(Duration.ofMillis(10), () -> ran.add("cancelled"));
    loop.after(Duration.ofMillis(20), () -> ran.add("kept"));
    cancelled.cancel();
    loop.runOnce(-1);
    assertThat(poller.lastTimeout()).isEqualTo(20);
    clock.advance(Duration.ofMillis(20));
    loop.runOnce(0);
    assertThat(ran).containsExactly("kept");
  }

  @Test
  void postedTasksRunInOrderAndThoseTheyPostRunInTheSameTurn() {
    loop.post(
        () -> {
          ran.add("first");
          loop.post(() -> ran.add("posted by first"));
        });
    loop.post(() -> ran.add("second"));
    loop.runOnce(0);
    assertThat(ran).containsExactly("first", "second", "posted by first");
  }

  @Test
  void aHandlerATaskOrATimerThatThrowsDoesNotEndTheLoop() {
    var fd = readablePipe();
    loop.watch(
        fd,
        Poller.READABLE,
        events -> {
          ran.add("handler");
          throw new IllegalStateException("handler");
        });
    loop.post(
        () -> {
          ran.add("task");
          throw new IllegalStateException("task");
        });
    loop.post(() -> ran.add("next task"));
    loop.after(
        Duration.ZERO,
        () -> {
          ran.add("timer");
          throw new StackOverflowError();
        });
    loop.after(Duration.ZERO, () -> ran.add("next timer"));
    assertThat(loop.caught()).isZero();
    assertThat(loop.lastCaught()).isEmpty();
    loop.runOnce(0);
    assertThat(ran).containsExactly("handler", "task", "next task", "timer", "next timer");
    assertThat(loop.caught()).isEqualTo(3);
    assertThat(loop.lastCaught()).containsInstanceOf(StackOverflowError.class);
    loop.runOnce(0);
    assertThat(ran).endsWith("handler");
    assertThat(loop.caught()).isEqualTo(4);
    assertThat(loop.lastCaught().orElseThrow()).hasMessage("handler");
  }

  @Test
  void aHandlerGetsTheEventsItsInterestAsksForUntilItIsUnwatched() {
    var fd = readablePipe();
    var events = new ArrayList<Integer>();
    loop.watch(fd, Poller.READABLE | Poller.WRITABLE, events::add);
    loop.runOnce(0);
    loop.interest(fd, 0);
    loop.runOnce(0);
    loop.interest(fd, Poller.READABLE);
    loop.runOnce(0);
    loop.unwatch(fd);
    loop.runOnce(0);
    assertThat(events).containsExactly(Poller.READABLE, Poller.READABLE);
    assertThat(poller.watches(fd)).isFalse();
  }

  @Test
  void blockingWorkRunsOffTheLoopAndItsResultComesBackOnTheLoop() throws Exception {
    loop.runOnce(0); // the test's thread is the loop's from here on
    var loopThread = Thread.currentThread();
    var result =
        loop.offLoop(() -> Thread.currentThread().getName())
            .thenApply(worker -> worker + " then " + Thread.currentThread().getName());
    var failed =
        loop.offLoop(
            () -> {
              throw new IllegalStateException("probe failed");
            });
    assertThat(blockingWork).hasSize(2);
    var worker =
        Thread.ofPlatform().name("worker").start(() -> blockingWork.forEach(Runnable::run));
    worker.join();
    assertThat(result).isNotDone();
    assertThat(poller.wakeups()).as("posted from another thread: the poll is woken").isEqualTo(2);
    loop.runOnce(0);
    assertThat(result.join()).isEqualTo("worker then " + loopThread.getName());
    assertThat(failed).isCompletedExceptionally();
  }

  @Test
  void callFromAnotherThreadRunsOnTheLoopAndFromTheLoopRunsAtOnce() throws Exception {
    loop.runOnce(0);
    var fromLoop = loop.call(() -> CompletableFuture.completedFuture(Thread.currentThread()));
    assertThat(fromLoop.join()).isSameAs(Thread.currentThread());
    var fromElsewhere = new CompletableFuture<CompletableFuture<Thread>>();
    var other =
        Thread.ofPlatform()
            .start(
                () ->
                    fromElsewhere.complete(
                        loop.call(
                            () -> CompletableFuture.completedFuture(Thread.currentThread()))));
    other.join();
    assertThat(fromElsewhere.join()).isNotDone();
    loop.runOnce(0);
    assertThat(fromElsewhere.join().join()).isSameAs(Thread.currentThread());
  }

  /** A poller with nothing to watch that really waits, until wakeup() or its timeout. */
  private static final class WaitingPoller implements Poller {
    private final Semaphore woken = new Semaphore(0);
    private final CountDownLatch waiting = new CountDownLatch(1);
    private volatile boolean closed;

    @Override
    public void watch(Fd fd, int interest, long token) {
      throw new UnsupportedOperationException();
    }

    @Override
    public void unwatch(Fd fd) {}

    @Override
    public int poll(long[] tokens, int[] events, long timeoutMillis) {
      try {
        if (timeoutMillis < 0) {
          waiting.countDown();
          woken.acquire();
        } else {
          woken.tryAcquire(timeoutMillis, TimeUnit.MILLISECONDS);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      woken.drainPermits();
      return 0;
    }

    @Override
    public void wakeup() {
      woken.release();
    }

    @Override
    public void close() {
      closed = true;
    }
  }

  @Test
  void aTaskPostedFromAnotherThreadWakesALoopWaitingInItsPoll() throws Exception {
    var waiting = new WaitingPoller();
    var realLoop = new Loop(waiting, clock, Runnable::run);
    var thread = realLoop.start("test-loop");
    assertThat(waiting.waiting.await(10, TimeUnit.SECONDS))
        .as("the loop waits in its poll")
        .isTrue();
    var ranOn = new CompletableFuture<Thread>();
    realLoop.post(() -> ranOn.complete(Thread.currentThread()));
    assertThat(ranOn.get(10, TimeUnit.SECONDS)).isSameAs(thread);
    realLoop.stop();
    thread.join(10_000);
    assertThat(thread.isAlive()).isFalse();
    assertThat(waiting.closed).as("run() closes its poller when it ends").isTrue();
  }
}
