package dev.baton.bench;

import dev.baton.bench.LongLivedSamples.Second;
import dev.baton.bench.LongLivedSamples.Tick;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.ToLongFunction;

/**
 * Whether a long-lived run held up: each check named, with its figure and its bound. Judged from
 * what was sampled after the fleet had opened and before it closed, and from the fleet's final
 * tally.
 *
 * @param checks every check, in the order of the report
 */
record LongLivedVerdict(List<Check> checks) {
  /** The supervisor's own memory may wobble with its heap; a leak per deploy adds up past this. */
  static final long RSS_GROWTH_BOUND = 8L << 20;

  /**
   * The host's MemAvailable moves with everything else on it (a build, a page cache flush), so its
   * bound is coarse: 512 MiB is two of the example's generations at their -Xmx256m, which is what
   * the host would lose if processes piled up unreaped or undrained; less is noise, not baton.
   */
  static final long MEM_AVAILABLE_DROP_BOUND = 512L << 20;

  /** The memory is compared between the first and the last minute, or third of a shorter run. */
  static final int MEMORY_WINDOW_SECONDS = 60;

  /** The peak second of reconnects must stay under this many times the even spread. */
  static final double RECONNECT_PEAK_FACTOR = 2.0;

  LongLivedVerdict {
    checks = List.copyOf(checks);
  }

  /**
   * One check.
   *
   * @param name what it checks
   * @param figure what the run showed
   * @param bound what it must stay within
   * @param pass whether it did
   */
  record Check(String name, String figure, String bound, boolean pass) {}

  boolean passes() {
    return checks.stream().allMatch(Check::pass);
  }

  /**
   * Judges a run.
   *
   * @param maxDraining the run's {@code [drain] max_draining}
   * @param ticks the 100 ms samples while the fleet was open, after its ramp
   * @param seconds the seconds while the deploys went on, after the ramp
   * @param end the fleet's tally once it closed
   */
  static LongLivedVerdict judge(
      int maxDraining, List<Tick> ticks, List<Second> seconds, LongLivedTally end) {
    var checks = new ArrayList<Check>();
    checks.add(serving(maxDraining, ticks));
    checks.add(
        new Check(
            "abnormal ends", Long.toString(end.abnormalEnds()), "0", end.abnormalEnds() == 0));
    checks.add(
        new Check(
            "messages answered",
            String.format(
                Locale.ROOT,
                "%d of %d answered, %d failed",
                end.answered(),
                end.sent(),
                end.failed()),
            "all answered, 0 failed",
            end.failed() == 0 && end.answered() == end.sent() && end.sent() > 0));
    checks.add(reconnectPeak(seconds));
    checks.add(rssGrowth(seconds));
    checks.add(memAvailableDrop(seconds));
    return new LongLivedVerdict(checks);
  }

  private static Check serving(int maxDraining, List<Tick> ticks) {
    int bound = maxDraining + 1;
    int max = maxServing(ticks);
    return new Check(
        "serving generations (active + draining)",
        String.format(
            Locale.ROOT,
            "max %d; above %d in %.1f %% of %d samples, longest %d ms",
            max,
            bound,
            100.0 * shareAbove(ticks, bound),
            ticks.size(),
            longestAboveMillis(ticks, bound)),
        "max ≤ " + bound + " (max_draining + 1)",
        !ticks.isEmpty() && max <= bound);
  }

  /**
   * Judged on the attempts, the rate at which clients come back: what a storm is. The connections
   * completed each second also depend on how soon the server gets to them, which on a machine that
   * is starting the next generation's JVM beside it comes in gulps; the report gives them too.
   */
  private static Check reconnectPeak(List<Second> seconds) {
    double even = evenReconnectRate(seconds);
    long peak = peakReconnects(seconds);
    return new Check(
        "reconnects, peak second",
        String.format(
            Locale.ROOT,
            "peak %d/s, even spread %.1f/s (completed: peak %d/s)",
            peak,
            even,
            peakCompleted(seconds)),
        String.format(
            Locale.ROOT, "< %.0f × even spread = %.1f/s", RECONNECT_PEAK_FACTOR, 2 * even),
        even > 0 && peak < RECONNECT_PEAK_FACTOR * even);
  }

  private static Check rssGrowth(List<Second> seconds) {
    long growth = growth(seconds, Second::rssBytes);
    return new Check(
        "supervisor RSS, last " + window(seconds) + " s vs first",
        mib(growth),
        "< " + mib(RSS_GROWTH_BOUND),
        !seconds.isEmpty() && growth < RSS_GROWTH_BOUND);
  }

  private static Check memAvailableDrop(List<Second> seconds) {
    long drop = -growth(seconds, Second::memAvailableBytes);
    return new Check(
        "host MemAvailable drop, last " + window(seconds) + " s vs first",
        mib(drop),
        "< " + mib(MEM_AVAILABLE_DROP_BOUND),
        !seconds.isEmpty() && drop < MEM_AVAILABLE_DROP_BOUND);
  }

  static int maxServing(List<Tick> ticks) {
    return ticks.stream().mapToInt(Tick::serving).max().orElse(0);
  }

  /** The share of ticks with more than {@code bound} serving, from 0 to 1. */
  static double shareAbove(List<Tick> ticks, int bound) {
    return ticks.isEmpty()
        ? 0
        : ticks.stream().filter(t -> t.serving() > bound).count() / (double) ticks.size();
  }

  /** The longest run of ticks in a row above {@code bound}, each standing for its 100 ms. */
  static long longestAboveMillis(List<Tick> ticks, int bound) {
    int longest = 0;
    int run = 0;
    for (var tick : ticks) {
      run = tick.serving() > bound ? run + 1 : 0;
      longest = Math.max(longest, run);
    }
    return longest * LongLivedSamples.TICK_MILLIS;
  }

  static long peakReconnects(List<Second> seconds) {
    return seconds.stream().mapToLong(Second::attempts).max().orElse(0);
  }

  static long peakCompleted(List<Second> seconds) {
    return seconds.stream().mapToLong(Second::reconnects).max().orElse(0);
  }

  /** The rate the reconnects would have if they were spread evenly over the seconds. */
  static double evenReconnectRate(List<Second> seconds) {
    return seconds.isEmpty()
        ? 0
        : seconds.stream().mapToLong(Second::attempts).sum() / (double) seconds.size();
  }

  /** Seconds in each of the two windows compared: a minute, or a third of a shorter run. */
  static int window(List<Second> seconds) {
    return Math.max(1, Math.min(MEMORY_WINDOW_SECONDS, seconds.size() / 3));
  }

  /** The median of the last window minus that of the first. */
  static long growth(List<Second> seconds, ToLongFunction<Second> value) {
    if (seconds.isEmpty()) {
      return 0;
    }
    int w = window(seconds);
    return median(seconds.subList(seconds.size() - w, seconds.size()), value)
        - median(seconds.subList(0, w), value);
  }

  static long median(List<Second> seconds, ToLongFunction<Second> value) {
    var sorted = seconds.stream().mapToLong(value).sorted().toArray();
    int n = sorted.length;
    return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  }

  static String mib(long bytes) {
    return String.format(Locale.ROOT, "%.1f MiB", bytes / (double) (1 << 20));
  }
}
