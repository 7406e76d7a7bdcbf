package dev.baton.bench;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * What a steady run measures: the sample's throughput bare, under a plain fork/exec parent and
 * under baton run, with no deploys, in short slices taken in turn.
 *
 * @param sample which bundled sample every server runs
 * @param modes the loads, each measured on every server in every round
 * @param post POST a small body instead of GET
 * @param rounds how many times every server gets a slice of every load; ratios are taken per round
 * @param slice how long one slice of load lasts
 * @param placement where bench places each server (or its parent)
 * @param loadThreads the load generator's selector threads; 0 for bench's default (2, or fewer
 *     cores)
 * @param out the report directory
 * @param appOptions options for the sample
 */
public record SteadyPlan(
    SampleKind sample,
    List<LoadMode> modes,
    boolean post,
    int rounds,
    Duration slice,
    Placement placement,
    int loadThreads,
    Path out,
    List<String> appOptions) {

  /** Rotation and flipping put every server in every place, in both orders, every 10 rounds. */
  static final int FULL_TURN = 10;

  /**
   * The median's 95 % interval and the quartiles need a few rounds; the binomial table, not many.
   */
  static final int MAX_ROUNDS = 1000;

  static final Duration MAX_SLICE = Duration.ofMinutes(1);

  public SteadyPlan {
    modes = List.copyOf(modes);
    appOptions = List.copyOf(appOptions);
    if (modes.isEmpty()) {
      throw new IllegalArgumentException(
          "no load mode to run; use some of " + String.join(",", LoadMode.NAMES));
    }
    if (rounds < 1 || rounds > MAX_ROUNDS) {
      throw new IllegalArgumentException(
          "--rounds must be from 1 to "
              + MAX_ROUNDS
              + ", was "
              + rounds
              + "; a multiple of "
              + FULL_TURN
              + " puts every server in every place alike");
    }
    if (loadThreads < 0 || loadThreads > 64) {
      throw new IllegalArgumentException("--load-threads must be from 1 to 64, was " + loadThreads);
    }
    if (slice.toMillis() < 100 || slice.compareTo(MAX_SLICE) > 0) {
      throw new IllegalArgumentException(
          "--slice must be from 100ms to "
              + MAX_SLICE.toSeconds()
              + "s, was "
              + slice.toMillis()
              + " ms; e.g. 1s");
    }
  }

  /** About how long the rounds take, warm-up included, for the progress line. */
  Duration estimate() {
    return slice.multipliedBy(
        (long) (rounds + 1) * modes.size() * SteadyServer.Role.values().length);
  }
}
