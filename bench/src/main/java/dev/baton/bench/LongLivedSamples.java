package dev.baton.bench;

import java.util.ArrayList;
import java.util.List;

/**
 * What a long-lived run saw, as it went: the generations every 100 ms, and every second what the
 * fleet counted in it, the generations and the memory.
 */
final class LongLivedSamples {
  /** The generations every 100 ms are enough to catch one that outstays its turn. */
  static final long TICK_MILLIS = 100;

  /**
   * One look at the supervisor's status.
   *
   * @param at seconds since the fleet began to open
   * @param serving generations active or draining: those that may hold client connections
   * @param live generations with a live process, whatever their state
   */
  record Tick(double at, int serving, int live) {}

  /**
   * One second.
   *
   * @param at seconds since the fleet began to open, at the second's end
   * @param reconnects connections the fleet opened again in it
   * @param attempts reconnects the clients set out to make in it: what arrives at the server
   * @param politeEnds connections the server ended politely in it
   * @param abnormalEnds connections that ended any other way in it
   * @param sent messages sent in it
   * @param answered messages answered in it
   * @param failed messages lost in it
   * @param open connections open at its end
   * @param serving the most generations serving at once in its ticks
   * @param live the most live generations in its ticks
   * @param rssBytes the supervisor's resident memory at its end
   * @param memAvailableBytes the host's MemAvailable at its end
   */
  record Second(
      double at,
      long reconnects,
      long attempts,
      long politeEnds,
      long abnormalEnds,
      long sent,
      long answered,
      long failed,
      long open,
      int serving,
      int live,
      long rssBytes,
      long memAvailableBytes) {

    /** The second between {@code before} and {@code after}, the fleet's tallies from its start. */
    static Second between(
        double at,
        LongLivedTally before,
        LongLivedTally after,
        int clients,
        int serving,
        int live,
        long rssBytes,
        long memAvailableBytes) {
      return new Second(
          at,
          after.reconnects(clients) - before.reconnects(clients),
          after.reconnectAttempts(clients) - before.reconnectAttempts(clients),
          after.politeEnds() - before.politeEnds(),
          after.abnormalEnds() - before.abnormalEnds(),
          after.sent() - before.sent(),
          after.answered() - before.answered(),
          after.failed() - before.failed(),
          after.open(),
          serving,
          live,
          rssBytes,
          memAvailableBytes);
    }
  }

  private final List<Tick> ticks = new ArrayList<>();
  private final List<Second> seconds = new ArrayList<>();

  synchronized void add(Tick tick) {
    ticks.add(tick);
  }

  synchronized void add(Second second) {
    seconds.add(second);
  }

  synchronized List<Tick> ticks() {
    return List.copyOf(ticks);
  }

  synchronized List<Second> seconds() {
    return List.copyOf(seconds);
  }

  /** The ticks from {@code from} seconds to {@code to}. */
  synchronized List<Tick> ticks(double from, double to) {
    return ticks.stream().filter(t -> t.at() >= from && t.at() <= to).toList();
  }

  /** The seconds that ended from {@code from} to {@code to}, whole ones only. */
  synchronized List<Second> seconds(double from, double to) {
    return seconds.stream().filter(s -> s.at() - 1 >= from - 1e-3 && s.at() <= to + 1e-3).toList();
  }
}
