package dev.baton.bench;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * What one bench run measures, checked whole before anything starts.
 *
 * @param scenarios in the order they run; {@code none} first when chosen, as the baseline
 * @param modes the loads each scenario is measured under, one after another
 * @param post POST a small body instead of GET
 * @param duration how long each load runs
 * @param requests the most requests each load sends
 * @param rhythm how often the app is replaced; a replacement that takes longer is followed at once
 * @param out where the report, the JSON and the plots go
 * @param config a running service to bench instead of the bundled sample (the {@code baton}
 *     scenario only)
 * @param crossCheck also run wrk and ab when they are installed
 * @param sample which bundled sample is replaced
 * @param appOptions extra options for the sample, e.g. --work=1ms
 */
public record BenchPlan(
    List<Scenario> scenarios,
    List<LoadMode> modes,
    boolean post,
    Duration duration,
    long requests,
    Duration rhythm,
    Path out,
    Optional<Path> config,
    boolean crossCheck,
    SampleKind sample,
    List<String> appOptions) {

  public BenchPlan {
    scenarios = List.copyOf(scenarios);
    modes = List.copyOf(modes);
    appOptions = List.copyOf(appOptions);
    if (scenarios.isEmpty()) {
      throw new IllegalArgumentException(
          "no scenario to run; use some of " + String.join(",", Scenario.NAMES));
    }
    if (modes.isEmpty()) {
      throw new IllegalArgumentException(
          "no load mode to run; use some of " + String.join(",", LoadMode.NAMES));
    }
    if (duration.isNegative() || duration.isZero()) {
      throw new IllegalArgumentException(
          "--duration must be more than 0, was " + duration.toMillis() + " ms; e.g. 10s");
    }
    if (duration.compareTo(Load.MAX_DURATION) > 0) {
      throw new IllegalArgumentException(
          "--duration must be at most " + Load.MAX_DURATION.toHours() + " h");
    }
    if (requests < 1) {
      throw new IllegalArgumentException("--requests must be at least 1, was " + requests);
    }
    if (rhythm.isNegative()) {
      throw new IllegalArgumentException("--rhythm must not be negative; 0 means back to back");
    }
    if (config.isPresent()) {
      // baton-bpf is a config bench writes for the sample; -c's service steers as its config says.
      var others =
          scenarios.stream().filter(s -> !s.supervised() || s == Scenario.BATON_BPF).toList();
      if (!others.isEmpty()) {
        throw new IllegalArgumentException(
            "with -c, bench deploys your running service: only the baton scenario"
                + " applies; "
                + others
                + " need the bundled sample (drop -c, or use --scenarios baton)");
      }
    }
  }
}
