package dev.baton.os;

import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.Optional;

/** Test helper: waits for a process's exit by calling reap(), as the event loop would. */
final class Reaping {
  private Reaping() {}

  /** The status reap() returns within 10 s. */
  static ExitStatus awaitExit(ChildProcess child) {
    return await()
        .atMost(Duration.ofSeconds(10))
        .pollDelay(Duration.ZERO)
        .pollInterval(Duration.ofMillis(10))
        .until(child::reap, Optional::isPresent)
        .orElseThrow();
  }
}
