package dev.baton.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class RhythmTest {
  /** A service whose replacements take {@code millis} each. */
  static final class SlowService implements ServiceUnderTest {
    final long millis;
    final AtomicInteger redeploys = new AtomicInteger();

    SlowService(long millis) {
      this.millis = millis;
    }

    @Override
    public InetSocketAddress address() {
      return new InetSocketAddress("127.0.0.1", 1);
    }

    @Override
    public CompletableFuture<Reload> redeploy() {
      long asked = System.nanoTime();
      try {
        Thread.sleep(millis);
      } catch (InterruptedException e) {
        throw new AssertionError(e);
      }
      int n = redeploys.incrementAndGet();
      return CompletableFuture.completedFuture(
          new Reload(
              n,
              asked,
              System.nanoTime(),
              OptionalDouble.empty(),
              OptionalDouble.empty(),
              OptionalDouble.empty(),
              OptionalDouble.empty(),
              Optional.empty()));
    }

    @Override
    public void close() {}
  }

  @Test
  void quickReplacementsKeepTheRhythm() throws Exception {
    var service = new SlowService(1);
    var rhythm = Rhythm.start(service, Duration.ofMillis(100), Integer.MAX_VALUE, r -> {});
    Thread.sleep(1050);
    var reloads = rhythm.stop(Duration.ofSeconds(1));
    assertThat(reloads).hasSizeBetween(9, 12);
  }

  @Test
  void slowReplacementsGoBackToBack() throws Exception {
    var service = new SlowService(60);
    var rhythm = Rhythm.start(service, Duration.ofMillis(10), Integer.MAX_VALUE, r -> {});
    Thread.sleep(1000);
    var reloads = rhythm.stop(Duration.ofSeconds(1));
    assertThat(reloads).hasSizeBetween(12, 18);
    for (int i = 1; i < reloads.size(); i++) {
      double gapMs = (reloads.get(i).askedNanos() - reloads.get(i - 1).switchNanos()) / 1e6;
      assertThat(gapMs).as("gap before replacement %d", i).isLessThan(20);
    }
  }

  @Test
  void aLimitStopsTheReplacementsByItself() throws Exception {
    var service = new SlowService(1);
    var rhythm = Rhythm.start(service, Duration.ZERO, 5, r -> {});
    Thread.sleep(300);
    assertThat(rhythm.finished()).isTrue();
    assertThat(rhythm.stop(Duration.ofSeconds(1))).hasSize(5);
  }
}
