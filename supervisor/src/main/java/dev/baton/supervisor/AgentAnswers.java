package dev.baton.supervisor;

import java.net.InetAddress;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The answer to each agent-check poll. Remembers which agent-checks heard "drain", so that each of
 * them, and only each of them, hears "ready" once afterwards.
 *
 * <p>An agent-check is told apart by its source address and its {@code agent-send} text. The source
 * address alone is not enough: one HAProxy checks every server line of every backend from the same
 * address, and two HAProxy processes on one host share it too, so a server in two backends is
 * polled twice from one address, and with the address as the key the first poll after a deploy took
 * the one {@code ready} and the other server line stayed in DRAIN. Nothing else HAProxy sends tells
 * its server lines apart (the source port changes on every poll), so each server line needs its own
 * {@code agent-send}, e.g. {@code agent-send "web/app1\n"}; lines without one share the address's
 * key, as before.
 */
final class AgentAnswers {
  /** Who heard "drain" and has not heard "ready" since. Bounded: any client may pick a new text. */
  static final int MAX_DRAINED = 4096;

  /** An agent-check: where it comes from and what it sent first ("" when nothing). */
  record Key(InetAddress peer, String send) {}

  private final int weight;
  // The oldest is forgotten first: a key that stopped polling (a server line removed) must not hold
  // a place that a live one needs.
  private final Map<Key, Boolean> drained =
      new LinkedHashMap<>() {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Key, Boolean> eldest) {
          return size() > MAX_DRAINED;
        }
      };

  AgentAnswers(int weight) {
    this.weight = weight;
  }

  /** The line for {@code key}, given whether this host is to be drained now. */
  String next(Key key, boolean drain) {
    if (drain) {
      drained.remove(key);
      drained.put(key, Boolean.TRUE);
      return "drain\n";
    }
    var word = drained.remove(key) != null ? "ready" : "up";
    return weight == 100 ? word + "\n" : word + " " + weight + "%\n";
  }

  int drainedCount() {
    return drained.size();
  }
}
