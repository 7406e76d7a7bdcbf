package dev.baton.bench;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;

/**
 * What a long-lived run does: a fleet of WebSocket or h2c clients held open on the Netty example
 * under baton run while it is deployed again and again, to see that the draining generations stay
 * bounded by {@code [drain] max_draining} and that no connection ends badly.
 *
 * @param kind ws or h2c
 * @param clients connections held open at once
 * @param duration how long the deploys go on, after the fleet has opened
 * @param every a deploy every this long; slower deploys go back to back
 * @param drainWindow {@code [drain] timeout}: the example ends its connections over half of it
 * @param maxDraining {@code [drain] max_draining}
 * @param jitter a client ended politely reconnects after a random delay below this
 * @param ramp the fleet's connections are opened over this long
 * @param out the report directory
 * @param json print report.json rather than the text report
 */
public record LongLivedPlan(
    String kind,
    int clients,
    Duration duration,
    Duration every,
    Duration drainWindow,
    int maxDraining,
    Duration jitter,
    Duration ramp,
    Path out,
    boolean json) {

  public static final int DEFAULT_CLIENTS = 2000;
  public static final Duration DEFAULT_DURATION = Duration.ofMinutes(5);
  public static final Duration DEFAULT_EVERY = Duration.ofSeconds(1);
  public static final Duration DEFAULT_DRAIN_WINDOW = Duration.ofSeconds(60);
  public static final int DEFAULT_MAX_DRAINING = 2;

  /**
   * Longer than the time a deploy takes here (about 2 s for the Netty example with 2,000 clients on
   * two cores). A hurried generation ends what it holds at once; with a shorter delay, those
   * clients all land in the one generation active then, which is hurried in its turn two deploys
   * later, and the fleet moves from generation to generation as a herd: with 2 s, the busiest
   * second had 3.2 times the even spread's reconnects, with 5 s 1.6 times (BENCHMARKS.md).
   */
  public static final Duration DEFAULT_JITTER = Duration.ofSeconds(5);

  /** 200 connections a second: gentle on the first generation; 2,000 are open after 10 s. */
  public static Duration ramp(int clients) {
    return Duration.ofMillis(Math.min(10_000, 5L * clients));
  }

  /** One JVM's selectors hold this many without strain; beyond, bench would measure itself. */
  static final int MAX_CLIENTS = 50_000;

  public LongLivedPlan {
    kind = kind.trim().toLowerCase(Locale.ROOT);
    if (!kind.equals("ws") && !kind.equals("h2c")) {
      throw new IllegalArgumentException("--long-lived must be ws or h2c, was '" + kind + "'");
    }
    if (clients < 1 || clients > MAX_CLIENTS) {
      throw new IllegalArgumentException(
          "--clients must be from 1 to " + MAX_CLIENTS + ", was " + clients);
    }
    if (duration.toSeconds() < 1) {
      throw new IllegalArgumentException(
          "--duration must be at least 1s, was " + duration.toMillis() + " ms");
    }
    if (every.isNegative()) {
      throw new IllegalArgumentException("--rhythm must not be negative");
    }
    // The supervisor counts [drain] timeout in whole milliseconds, and the example spreads its
    // ends over half of it: under a second there is nothing left to spread.
    if (drainWindow.toMillis() < 1000) {
      throw new IllegalArgumentException(
          "--drain-window must be at least 1s, was " + drainWindow.toMillis() + " ms");
    }
    if (maxDraining < 1) {
      throw new IllegalArgumentException("--max-draining must be at least 1, was " + maxDraining);
    }
    if (jitter.isNegative()) {
      throw new IllegalArgumentException("--reconnect-jitter must not be negative");
    }
    if (ramp.isNegative()) {
      throw new IllegalArgumentException("the ramp must not be negative");
    }
  }

  /** The fleet's kind. */
  LongLivedClients.Kind fleetKind() {
    return LongLivedClients.Kind.valueOf(kind.toUpperCase(Locale.ROOT));
  }
}
