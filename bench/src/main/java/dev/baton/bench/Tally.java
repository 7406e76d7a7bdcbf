package dev.baton.bench;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * What one worker counted: outcomes, latencies, the timeline and the first failure messages. Only
 * its worker thread writes it, without locks; {@link LoadReport} reads it once that thread is done.
 */
final class Tally {
  /** Latencies are recorded in nanoseconds, up to a minute, to three significant digits. */
  static final long MAX_LATENCY_NANOS = TimeUnit.SECONDS.toNanos(60);

  /** How many failure messages each worker keeps; a failure storm must not allocate. */
  static final int MESSAGES = 10;

  final Histogram latency = new Histogram(MAX_LATENCY_NANOS, 3);
  final long[] failures = new long[FailureKind.values().length];
  final long[] statuses = new long[1000];
  final Timeline timeline;
  final long[] okPerSecond;
  final long[] failedPerSecond;
  final List<Message> messages = new ArrayList<>();

  /** 2xx responses by their body's head, when the load counts answers. */
  final Map<String, Long> answers = new HashMap<>();

  long ok;
  long connects;

  /** When the worker finished, in {@link System#nanoTime()}. */
  long finishedNanos;

  private final long loadStartNanos;

  /** A failure message, with the time it happened for ordering across workers. */
  record Message(long atNanos, String text) {}

  Tally(long loadStartNanos, Load load, int timelineLimit) {
    this.loadStartNanos = loadStartNanos;
    this.timeline = new Timeline(timelineLimit);
    // Requests in flight when the load ends are waited for, up to the timeout; one more bucket
    // catches the rounding.
    int seconds =
        (int)
            (load.duration().toSeconds()
                + load.timeout().toSeconds()
                + load.pause().toSeconds()
                + 2);
    this.okPerSecond = new long[seconds];
    this.failedPerSecond = new long[seconds];
  }

  /** A complete response: ok when 2xx, else a {@link FailureKind#NON_2XX} failure. */
  void response(int status, long startNanos, long endNanos) {
    statuses[status]++;
    if (status >= 200 && status < 300) {
      ok++;
      latency.recordValue(Math.min(endNanos - startNanos, MAX_LATENCY_NANOS));
      okPerSecond[second(endNanos)]++;
      timeline.add(micros(startNanos - loadStartNanos), micros(endNanos - startNanos), 0);
    } else {
      failed(FailureKind.NON_2XX, startNanos, endNanos);
    }
  }

  void answer(String bodyHead) {
    answers.merge(bodyHead, 1L, Long::sum);
  }

  void failed(FailureKind kind, long startNanos, long endNanos) {
    failures[kind.ordinal()]++;
    failedPerSecond[second(endNanos)]++;
    timeline.add(
        micros(startNanos - loadStartNanos),
        micros(endNanos - startNanos),
        Timeline.outcomeOf(kind));
  }

  /** Whether a failure message would still be kept; check before building one. */
  boolean wantsMessage() {
    return messages.size() < MESSAGES;
  }

  void message(long atNanos, String text) {
    if (wantsMessage()) {
      messages.add(new Message(atNanos, text));
    }
  }

  /** Seconds since the load started, as a string like "+5.3 s", for messages. */
  String offset(long atNanos) {
    return String.format("+%.1f s", (atNanos - loadStartNanos) / 1e9);
  }

  private int second(long atNanos) {
    long second = (atNanos - loadStartNanos) / 1_000_000_000L;
    return (int) Math.max(0, Math.min(second, okPerSecond.length - 1));
  }

  private static long micros(long nanos) {
    return Math.max(0, nanos / 1000);
  }
}
