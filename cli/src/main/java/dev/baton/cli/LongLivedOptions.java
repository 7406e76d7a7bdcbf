package dev.baton.cli;

import dev.baton.bench.LongLivedPlan;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Option;

/**
 * {@code baton bench --long-lived}'s own options; --duration, --rhythm, --out, --json are bench's.
 */
final class LongLivedOptions {
  @Option(
      names = "--long-lived",
      paramLabel = "KIND",
      description =
          "long-lived connections through constant deploys: ws (WebSockets) or h2c (HTTP/2) clients"
              + " held open on the Netty example under baton run, deployed every --rhythm (default 1s)"
              + " for --duration (default 5m); see above")
  @Nullable String kind;

  @Option(
      names = "--clients",
      paramLabel = "N",
      description = "--long-lived: connections held open at once (default: 2000)")
  @Nullable Integer clients;

  @Option(
      names = "--drain-window",
      paramLabel = "D",
      description =
          "--long-lived: [drain] timeout; the example ends its connections over the first half (default: 60s)")
  Optional<Duration> drainWindow = Optional.empty();

  @Option(
      names = "--max-draining",
      paramLabel = "N",
      description =
          "--long-lived: [drain] max_draining; the oldest draining generation beyond it is hurried (default: 2)")
  @Nullable Integer maxDraining;

  @Option(
      names = "--reconnect-jitter",
      paramLabel = "D",
      description =
          "--long-lived: a client ended politely reconnects after a random delay below this (default: 5s)")
  Optional<Duration> jitter = Optional.empty();

  boolean chosen() {
    return kind != null;
  }

  /** Whether any option of this mode was given without --long-lived. */
  boolean anyWithoutMode() {
    return kind == null
        && (clients != null
            || drainWindow.isPresent()
            || maxDraining != null
            || jitter.isPresent());
  }

  /** The plan, with bench's own --duration, --rhythm, --out and --json. */
  LongLivedPlan plan(
      Optional<Duration> duration, Optional<Duration> rhythm, Path out, boolean json) {
    return new LongLivedPlan(
        kind == null ? "" : kind,
        clients != null ? clients : LongLivedPlan.DEFAULT_CLIENTS,
        duration.orElse(LongLivedPlan.DEFAULT_DURATION),
        rhythm.orElse(LongLivedPlan.DEFAULT_EVERY),
        drainWindow.orElse(LongLivedPlan.DEFAULT_DRAIN_WINDOW),
        maxDraining != null ? maxDraining : LongLivedPlan.DEFAULT_MAX_DRAINING,
        jitter.orElse(LongLivedPlan.DEFAULT_JITTER),
        LongLivedPlan.ramp(clients != null ? clients : LongLivedPlan.DEFAULT_CLIENTS),
        out,
        json);
  }
}
