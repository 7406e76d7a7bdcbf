package dev.baton.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class IdleCloserTest {

  @Test
  void closesIdleConnectionsFromStartUntilStop() throws Exception {
    var runs = new AtomicInteger();
    var closer = new IdleCloser("test", runs::incrementAndGet);
    assertThat(closer.started()).isFalse();
    closer.start();
    // A second thread would outlive stop(), and the count below would go on.
    closer.start();
    assertThat(closer.started()).isTrue();
    await().atMost(Duration.ofSeconds(2)).until(() -> runs.get() >= 3);
    closer.stop();
    assertThat(closer.started()).isFalse();
    // A run under way when stop() came may still end; none starts after it.
    Thread.sleep(100);
    int after = runs.get();
    Thread.sleep(200);
    assertThat(runs.get()).isEqualTo(after);
  }

  @Test
  void drainCompletesOnceNoConnectionIsLeft() {
    var open = new AtomicInteger(3);
    var drained =
        IdleCloser.drain("test", open::decrementAndGet, open::get, Duration.ofSeconds(10));
    assertThat(drained).succeedsWithin(Duration.ofSeconds(2));
    assertThat(open.get()).isZero();
  }

  @Test
  void drainCompletesAtTheTimeoutWithConnectionsLeft() {
    long start = System.nanoTime();
    var drained = IdleCloser.drain("test", () -> {}, () -> 1, Duration.ofMillis(200));
    assertThat(drained).succeedsWithin(Duration.ofSeconds(2));
    assertThat(Duration.ofNanos(System.nanoTime() - start))
        .isGreaterThanOrEqualTo(Duration.ofMillis(200));
  }
}
