package dev.baton.bench;

import java.util.Arrays;

/**
 * Every request's start, latency and outcome, for plots. Runs reach millions of requests, so each
 * one is a single packed long, kept in fixed chunks that are never copied as the timeline grows.
 *
 * <p>Packing, high bits to low: the start offset from the load's start in microseconds (34 bits,
 * 4.7 h, enough for {@link Load#MAX_DURATION}), the latency in microseconds (26 bits, 67 s, enough
 * for {@link Load#MAX_TIMEOUT}), and the outcome (4 bits: 0 for ok, else 1 + the failure kind's
 * ordinal). Written by one worker thread, read after that thread has finished.
 */
final class Timeline {
  private static final int CHUNK_BITS = 16;
  private static final int CHUNK_SIZE = 1 << CHUNK_BITS;
  private static final int LATENCY_BITS = 26;
  private static final int OUTCOME_BITS = 4;
  private static final long MAX_START = (1L << 34) - 1;
  private static final long MAX_LATENCY = (1L << LATENCY_BITS) - 1;
  private static final FailureKind[] KINDS = FailureKind.values();

  private final int limit;
  private long[][] chunks = new long[8][];
  private int size;
  private long dropped;

  Timeline(int limit) {
    this.limit = limit;
  }

  /** Records one request; once the limit is reached, only counts it as dropped. */
  void add(long startMicros, long latencyMicros, int outcome) {
    if (size == limit) {
      dropped++;
      return;
    }
    int chunk = size >>> CHUNK_BITS;
    if (chunk == chunks.length) {
      chunks = Arrays.copyOf(chunks, chunks.length * 2);
    }
    if (chunks[chunk] == null) {
      chunks[chunk] = new long[CHUNK_SIZE];
    }
    chunks[chunk][size & (CHUNK_SIZE - 1)] =
        (Math.min(startMicros, MAX_START) << (LATENCY_BITS + OUTCOME_BITS))
            | (Math.min(latencyMicros, MAX_LATENCY) << OUTCOME_BITS)
            | outcome;
    size++;
  }

  static int outcomeOf(FailureKind kind) {
    return 1 + kind.ordinal();
  }

  int size() {
    return size;
  }

  long dropped() {
    return dropped;
  }

  void forEach(LoadReport.RequestVisitor visitor) {
    for (int i = 0; i < size; i++) {
      long entry = chunks[i >>> CHUNK_BITS][i & (CHUNK_SIZE - 1)];
      int outcome = (int) (entry & ((1 << OUTCOME_BITS) - 1));
      visitor.visit(
          entry >>> (LATENCY_BITS + OUTCOME_BITS),
          (entry >>> OUTCOME_BITS) & MAX_LATENCY,
          outcome == 0 ? null : KINDS[outcome - 1]);
    }
  }
}
