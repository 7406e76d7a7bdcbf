package dev.baton.bench;

import dev.baton.bench.SteadyServer.Role;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What the slices of a steady run measured: per load and server, the req/s of each round, and the
 * ratios taken round by round, so that what drifted between rounds falls out of each ratio.
 */
final class SteadyResults {

  /**
   * A ratio of two servers' req/s in the same round.
   *
   * @param key its JSON name
   * @param meaning what it tells, for the report
   */
  record Ratio(String key, Role over, Role under, String meaning) {
    String name() {
      return over.shortName + "/" + under.shortName;
    }
  }

  static final Ratio CONTROL =
      new Ratio(
          "control",
          Role.BARE_A2,
          Role.BARE_A,
          "the A/A control: two bare copies, as alike as two servers get");
  static final Ratio PARENT =
      new Ratio("parentOverBare", Role.PARENT, Role.BARE_A, "what a plain fork/exec parent costs");
  static final Ratio SESSION =
      new Ratio(
          "sessionOverParent",
          Role.PARENT_SETSID,
          Role.PARENT,
          "what a session of its own does: the same parent, its child calling setsid");
  static final Ratio TARGET =
      new Ratio(
          "batonOverParent",
          Role.BATON,
          Role.PARENT,
          "baton run against the plain parent: the target, >= 0.99");
  static final Ratio BATON_BARE =
      new Ratio("batonOverBare", Role.BATON, Role.BARE_A, "baton run against the bare app");
  static final List<Ratio> RATIOS = List.of(CONTROL, PARENT, SESSION, TARGET, BATON_BARE);

  /** The target: baton's median per-round ratio against the fork/exec parent. */
  static final double TARGET_RATIO = 0.99;

  /** The control's quartiles must lie within ±1 % for a 1 % margin to mean anything. */
  static final double CONTROL_PERCENT = 1.0;

  /** One server under one load: its answered requests per second, a value per round. */
  static final class Series {
    final List<Double> perSecond = new ArrayList<>();
    long requests;
    long failed;
    Optional<String> firstFailure = Optional.empty();

    void add(LoadReport report) {
      // Answered requests only: a server that refuses fast must not look fast.
      double seconds = report.duration().toNanos() / 1e9;
      perSecond.add(seconds > 0 ? report.ok() / seconds : 0);
      requests += report.requests();
      failed += report.failed();
      if (firstFailure.isEmpty() && !report.failureMessages().isEmpty()) {
        firstFailure = Optional.of(report.failureMessages().getFirst());
      }
      if (firstFailure.isEmpty() && report.aborted().isPresent()) {
        firstFailure = report.aborted();
      }
    }
  }

  private final Map<LoadMode, Map<Role, Series>> series = new LinkedHashMap<>();

  SteadyResults(List<LoadMode> modes) {
    for (var mode : modes) {
      var byRole = new EnumMap<Role, Series>(Role.class);
      for (var role : Role.values()) {
        byRole.put(role, new Series());
      }
      series.put(mode, byRole);
    }
  }

  void add(LoadMode mode, Role role, LoadReport report) {
    of(mode, role).add(report);
  }

  List<LoadMode> modes() {
    return List.copyOf(series.keySet());
  }

  Series of(LoadMode mode, Role role) {
    var byRole = series.get(mode);
    var s = byRole == null ? null : byRole.get(role);
    if (s == null) {
      throw new IllegalArgumentException("no series for " + mode + " and " + role);
    }
    return s;
  }

  /** Rounds every server finished under {@code mode}: a stopped run's last round may be short. */
  int rounds(LoadMode mode) {
    return series.getOrDefault(mode, Map.of()).values().stream()
        .mapToInt(s -> s.perSecond.size())
        .min()
        .orElse(0);
  }

  SteadyStats rate(LoadMode mode, Role role) {
    return SteadyStats.of(of(mode, role).perSecond.subList(0, rounds(mode)));
  }

  /** The ratio's value in each whole round. */
  List<Double> perRound(LoadMode mode, Ratio ratio) {
    var over = of(mode, ratio.over()).perSecond;
    var under = of(mode, ratio.under()).perSecond;
    var values = new ArrayList<Double>();
    for (int i = 0; i < rounds(mode); i++) {
      values.add(over.get(i) / under.get(i));
    }
    return values;
  }

  SteadyStats ratio(LoadMode mode, Ratio ratio) {
    return SteadyStats.of(perRound(mode, ratio));
  }

  long failed() {
    return series.values().stream()
        .flatMap(m -> m.values().stream())
        .mapToLong(s -> s.failed)
        .sum();
  }

  long requests() {
    return series.values().stream()
        .flatMap(m -> m.values().stream())
        .mapToLong(s -> s.requests)
        .sum();
  }

  /** Whether every server answered every slice it was given. */
  boolean everyServerAnswered() {
    return series.values().stream()
        .flatMap(m -> m.values().stream())
        .allMatch(s -> !s.perSecond.isEmpty() && s.perSecond.stream().allMatch(v -> v > 0));
  }
}
