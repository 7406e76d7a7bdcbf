package dev.baton.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;

class TimelineTest {

  record Entry(long startMicros, long latencyMicros, @Nullable FailureKind failure) {}

  private static List<Entry> entries(Timeline timeline) {
    var entries = new ArrayList<Entry>();
    timeline.forEach((start, latency, failure) -> entries.add(new Entry(start, latency, failure)));
    return entries;
  }

  @Test
  void keepsStartLatencyAndOutcomeAtTheEdgesOfTheirRanges() {
    var timeline = new Timeline(10);
    long fourHours = Load.MAX_DURATION.toNanos() / 1000;
    long sixtySeconds = Load.MAX_TIMEOUT.toNanos() / 1000;
    timeline.add(0, 0, 0);
    timeline.add(fourHours, sixtySeconds, Timeline.outcomeOf(FailureKind.MALFORMED));
    timeline.add(123_456, 789, Timeline.outcomeOf(FailureKind.REFUSED));

    assertThat(entries(timeline))
        .containsExactly(
            new Entry(0, 0, null),
            new Entry(fourHours, sixtySeconds, FailureKind.MALFORMED),
            new Entry(123_456, 789, FailureKind.REFUSED));
  }

  @Test
  void growsAcrossChunksWithoutLosingAnEntry() {
    var timeline = new Timeline(1_000_000);
    for (int i = 0; i < 300_000; i++) {
      timeline.add(i, i % 1000, i % 7 == 0 ? Timeline.outcomeOf(FailureKind.TIMEOUT) : 0);
    }

    var entries = entries(timeline);
    assertThat(entries).hasSize(300_000);
    assertThat(entries.get(299_998)).isEqualTo(new Entry(299_998, 998, null));
    assertThat(entries.get(70_000)).isEqualTo(new Entry(70_000, 0, FailureKind.TIMEOUT));
  }

  @Test
  void countsWhatItCannotHoldPastItsLimit() {
    var timeline = new Timeline(2);
    for (int i = 0; i < 5; i++) {
      timeline.add(i, 1, 0);
    }

    assertThat(timeline.size()).isEqualTo(2);
    assertThat(timeline.dropped()).isEqualTo(3);
  }
}
