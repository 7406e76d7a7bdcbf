package dev.baton.bench;

import java.util.List;

/**
 * The median of per-round values, their quartiles, and a 95 % interval for the median.
 *
 * <p>The quartiles say how far one round's value scatters; more rounds do not narrow them, only a
 * quieter machine or longer slices do. The interval says how well the median is known; it narrows
 * as the rounds grow, about as one over their square root. It is distribution-free: the order
 * statistics whose ranks a Binomial(n, 1/2) puts the median between with 95 % or more.
 *
 * @param n how many values
 * @param q1 the lower quartile (linear interpolation between order statistics, as R's type 7)
 * @param lower the median's 95 % interval; NaN below 6 values, which cannot give one
 */
record SteadyStats(int n, double median, double q1, double q3, double lower, double upper) {

  static SteadyStats of(List<Double> values) {
    var sorted = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    int n = sorted.length;
    if (n == 0) {
      return new SteadyStats(0, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN);
    }
    int rank = lowerRank(n);
    return new SteadyStats(
        n,
        quantile(sorted, 0.5),
        quantile(sorted, 0.25),
        quantile(sorted, 0.75),
        rank < 1 ? Double.NaN : sorted[rank - 1],
        rank < 1 ? Double.NaN : sorted[n - rank]);
  }

  /** The quantile {@code p} of sorted values, interpolated between the two nearest ranks. */
  static double quantile(double[] sorted, double p) {
    double h = (sorted.length - 1) * p;
    int below = (int) Math.floor(h);
    int above = Math.min(below + 1, sorted.length - 1);
    return sorted[below] + (h - below) * (sorted[above] - sorted[below]);
  }

  /**
   * The largest 1-based rank j with P(X &lt; j) &le; 2.5 % for X ~ Binomial(n, 1/2): the interval
   * from the j-th to the (n+1-j)-th value then holds the median with 95 % or more. 0 when none
   * does.
   */
  static int lowerRank(int n) {
    // The probabilities in logs: 0.5^n underflows a double from n = 1075.
    double logHalfN = n * Math.log(0.5);
    double cumulative = 0;
    double logChoose = 0;
    for (int k = 0; k < n; k++) {
      cumulative += Math.exp(logChoose + logHalfN);
      if (cumulative > 0.025) {
        return k;
      }
      logChoose += Math.log((double) (n - k) / (k + 1));
    }
    return 0;
  }

  /** Whether both quartiles lie within ±{@code percent} % of 1: how an A/A ratio must look. */
  boolean quartilesWithin(double percent) {
    return q1 >= 1 - percent / 100 && q3 <= 1 + percent / 100;
  }

  @Override
  public String toString() {
    return String.format(
        java.util.Locale.ROOT, "%.3f (quartiles %.3f to %.3f, n=%d)", median, q1, q3, n);
  }
}
