package dev.baton.haproxy;

import java.util.Collection;
import java.util.Locale;
import java.util.Map;

/**
 * The canary's errors against the other servers', over the same period, from two {@code show stat}
 * snapshots. Errors are 5xx answers and requests that got none (HAProxy's econ and eresp).
 *
 * <p>The canary is worse when its error ratio exceeds twice the others' plus one percentage point:
 * a fleet that already fails some requests does not fail every canary, and one unlucky request
 * among many does not either.
 */
record CanaryComparison(Rate canary, Rate others) {

  /** Requests and errors in one period. */
  record Rate(long requests, long errors) {
    double ratio() {
      return requests == 0 ? 0 : (double) errors / requests;
    }

    @Override
    public String toString() {
      return String.format(
          Locale.ROOT, "%d of %d failed (%.1f%%)", errors, requests, ratio() * 100);
    }
  }

  static CanaryComparison between(
      Map<String, ServerStats> before,
      Map<String, ServerStats> after,
      String canary,
      Collection<String> others) {
    return new CanaryComparison(
        rate(before, after, java.util.List.of(canary)), rate(before, after, others));
  }

  private static Rate rate(
      Map<String, ServerStats> before, Map<String, ServerStats> after, Collection<String> servers) {
    long requests = 0;
    long errors = 0;
    for (var name : servers) {
      var a = after.get(name);
      var b = before.get(name);
      if (a == null || b == null) {
        continue;
      }
      // Counters only grow, unless HAProxy reloaded in between: then the period starts again.
      requests += a.requests() >= b.requests() ? a.requests() - b.requests() : a.requests();
      errors += a.errors() >= b.errors() ? a.errors() - b.errors() : a.errors();
    }
    return new Rate(requests, errors);
  }

  /**
   * Worse already, before the bake is over: enough requests and errors that waiting longer would
   * only fail more of them.
   */
  boolean clearlyWorse() {
    return canary.errors() >= 3 && canary.requests() >= 10 && ratioWorse();
  }

  /** Worse at the end of the bake. */
  boolean worse() {
    return canary.errors() >= 1 && ratioWorse();
  }

  private boolean ratioWorse() {
    return canary.ratio() > 2 * others.ratio() + 0.01;
  }

  @Override
  public String toString() {
    return "the canary: " + canary + "; the others: " + others;
  }
}
