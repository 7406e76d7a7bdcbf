package dev.baton.bench;

import static org.assertj.core.api.Assertions.assertThat;

import dev.baton.bench.LongLivedSamples.Second;
import dev.baton.bench.LongLivedSamples.Tick;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntUnaryOperator;
import org.junit.jupiter.api.Test;

class LongLivedVerdictTest {
  private static final long MIB = 1 << 20;
  private static final LongLivedTally CLEAN =
      new LongLivedTally(0, 300, 300, 0, 100, 0, 5000, 40, 5000, 0);

  /** Ticks every 100 ms with {@code serving(i)} generations serving. */
  private static List<Tick> ticks(int n, IntUnaryOperator serving) {
    var ticks = new ArrayList<Tick>();
    for (int i = 0; i < n; i++) {
      ticks.add(new Tick(i / 10.0, serving.applyAsInt(i), serving.applyAsInt(i)));
    }
    return ticks;
  }

  /** Seconds with {@code reconnects(i)} reconnects, flat memory unless {@code rssGrowth}. */
  private static List<Second> seconds(int n, IntUnaryOperator reconnects, long rssGrowth) {
    var seconds = new ArrayList<Second>();
    for (int i = 0; i < n; i++) {
      long rss = 60 * MIB + (i >= n / 2 ? rssGrowth : 0);
      seconds.add(
          new Second(
              i + 1,
              reconnects.applyAsInt(i),
              reconnects.applyAsInt(i),
              0,
              0,
              100,
              100,
              0,
              200,
              3,
              3,
              rss,
              4096 * MIB));
    }
    return seconds;
  }

  private static LongLivedVerdict.Check check(LongLivedVerdict verdict, String prefix) {
    return verdict.checks().stream()
        .filter(c -> c.name().startsWith(prefix))
        .findFirst()
        .orElseThrow();
  }

  @Test
  void aCleanBoundedRunPasses() {
    var verdict =
        LongLivedVerdict.judge(2, ticks(600, i -> 3), seconds(60, i -> 10 + i % 3, 0), CLEAN);

    assertThat(verdict.checks()).hasSize(6).allMatch(LongLivedVerdict.Check::pass);
    assertThat(verdict.passes()).isTrue();
    assertThat(check(verdict, "serving").figure())
        .isEqualTo("max 3; above 3 in 0.0 % of 600 samples, longest 0 ms");
    assertThat(check(verdict, "serving").bound()).isEqualTo("max ≤ 3 (max_draining + 1)");
  }

  @Test
  void aMomentAboveTheBoundFailsAndIsReportedWithItsShareAndLongestStretch() {
    // Two ticks in a row at 4, then one more alone: 3 of 100 samples, longest 200 ms.
    var ticks = ticks(100, i -> i == 10 || i == 11 || i == 50 ? 4 : 3);

    var verdict = LongLivedVerdict.judge(2, ticks, seconds(30, i -> 10, 0), CLEAN);

    var serving = check(verdict, "serving");
    assertThat(serving.pass()).isFalse();
    assertThat(serving.figure())
        .isEqualTo("max 4; above 3 in 3.0 % of 100 samples, longest 200 ms");
    assertThat(verdict.passes()).isFalse();
    assertThat(LongLivedVerdict.longestAboveMillis(ticks, 3)).isEqualTo(200);
    assertThat(LongLivedVerdict.shareAbove(ticks, 3)).isEqualTo(0.03);
  }

  @Test
  void anyAbnormalEndFails() {
    var tally = new LongLivedTally(0, 300, 300, 0, 99, 1, 5000, 40, 5000, 0);

    var verdict = LongLivedVerdict.judge(2, ticks(100, i -> 3), seconds(30, i -> 10, 0), tally);

    assertThat(check(verdict, "abnormal").pass()).isFalse();
    assertThat(check(verdict, "abnormal").figure()).isEqualTo("1");
  }

  @Test
  void anUnansweredOrFailedMessageFails() {
    var unanswered = new LongLivedTally(0, 300, 300, 0, 100, 0, 5000, 40, 4999, 0);
    var failed = new LongLivedTally(0, 300, 300, 0, 100, 0, 5000, 40, 5000, 1);

    assertThat(
            check(
                    LongLivedVerdict.judge(
                        2, ticks(10, i -> 3), seconds(30, i -> 10, 0), unanswered),
                    "messages")
                .pass())
        .isFalse();
    var verdict = LongLivedVerdict.judge(2, ticks(10, i -> 3), seconds(30, i -> 10, 0), failed);
    assertThat(check(verdict, "messages").figure()).isEqualTo("5000 of 5000 answered, 1 failed");
    assertThat(check(verdict, "messages").pass()).isFalse();
  }

  @Test
  void aStormOfReconnectsFailsAgainstTwiceTheEvenSpread() {
    // 29 seconds of 10 and one of 100: even spread 13/s, twice that 26 < 100.
    var storm = seconds(30, i -> i == 7 ? 100 : 10, 0);

    var verdict = LongLivedVerdict.judge(2, ticks(10, i -> 3), storm, CLEAN);

    var peak = check(verdict, "reconnects");
    assertThat(peak.pass()).isFalse();
    assertThat(peak.figure()).isEqualTo("peak 100/s, even spread 13.0/s (completed: peak 100/s)");
    assertThat(peak.bound()).isEqualTo("< 2 × even spread = 26.0/s");
  }

  @Test
  void theReconnectsAreJudgedAsTheClientsMakeThemNotAsTheServerGetsToThem() {
    // Even attempts, 13 a second; the server, busy starting a JVM, completes them in gulps.
    var seconds = new ArrayList<Second>();
    for (int i = 0; i < 30; i++) {
      long completed = i % 10 == 9 ? 40 : 10;
      seconds.add(new Second(i + 1, completed, 13, 0, 0, 1, 1, 0, 1, 3, 3, 60 * MIB, 4096 * MIB));
    }

    var peak = check(LongLivedVerdict.judge(2, ticks(10, i -> 3), seconds, CLEAN), "reconnects");

    assertThat(peak.pass()).isTrue();
    assertThat(peak.figure()).isEqualTo("peak 13/s, even spread 13.0/s (completed: peak 40/s)");
  }

  @Test
  void noReconnectsAtAllFails() {
    var verdict = LongLivedVerdict.judge(2, ticks(10, i -> 3), seconds(30, i -> 0, 0), CLEAN);

    assertThat(check(verdict, "reconnects").pass()).isFalse();
  }

  @Test
  void theSupervisorsRssGrowingByEightMibFails() {
    var grew = LongLivedVerdict.judge(2, ticks(10, i -> 3), seconds(180, i -> 10, 8 * MIB), CLEAN);
    var wobbled =
        LongLivedVerdict.judge(2, ticks(10, i -> 3), seconds(180, i -> 10, 7 * MIB), CLEAN);

    assertThat(check(grew, "supervisor RSS").pass()).isFalse();
    assertThat(check(grew, "supervisor RSS").name())
        .isEqualTo("supervisor RSS, last 60 s vs first");
    assertThat(check(grew, "supervisor RSS").figure()).isEqualTo("8.0 MiB");
    assertThat(check(wobbled, "supervisor RSS").pass()).isTrue();
  }

  @Test
  void aShortRunComparesItsFirstAndLastThirds() {
    assertThat(LongLivedVerdict.window(seconds(20, i -> 1, 0))).isEqualTo(6);
    assertThat(LongLivedVerdict.window(seconds(600, i -> 1, 0))).isEqualTo(60);
    assertThat(LongLivedVerdict.window(seconds(2, i -> 1, 0))).isEqualTo(1);
  }

  @Test
  void theHostLosingHalfAGibibyteFails() {
    var seconds = new ArrayList<Second>();
    for (int i = 0; i < 30; i++) {
      long available = (4096 - (i >= 20 ? 512 : 0)) * MIB;
      seconds.add(new Second(i + 1, 10, 10, 0, 0, 1, 1, 0, 1, 3, 3, 60 * MIB, available));
    }

    var verdict = LongLivedVerdict.judge(2, ticks(10, i -> 3), seconds, CLEAN);

    assertThat(check(verdict, "host MemAvailable").pass()).isFalse();
    assertThat(check(verdict, "host MemAvailable").figure()).isEqualTo("512.0 MiB");
  }

  @Test
  void nothingSampledFails() {
    var verdict = LongLivedVerdict.judge(2, List.of(), List.of(), CLEAN);

    assertThat(verdict.passes()).isFalse();
  }
}
