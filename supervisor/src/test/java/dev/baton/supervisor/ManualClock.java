package dev.baton.supervisor;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;

/** A clock that moves only when the test moves it. */
final class ManualClock implements InstantSource {
  private Instant now;

  ManualClock(Instant start) {
    this.now = start;
  }

  @Override
  public Instant instant() {
    return now;
  }

  void set(Instant instant) {
    if (instant.isBefore(now)) {
      throw new IllegalArgumentException("time does not go back: " + instant + " is before " + now);
    }
    now = instant;
  }

  void advance(Duration duration) {
    set(now.plus(duration));
  }
}
