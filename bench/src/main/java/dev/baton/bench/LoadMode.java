package dev.baton.bench;

import java.util.ArrayList;
import java.util.List;

/**
 * How the load reaches the app: one request at a time like {@code ab -c 1}, or N at once, each on a
 * new connection or on kept-alive ones.
 *
 * @param name as the report and --modes spell it: "c=1", "c=50 per-request", "c=50 keep-alive"
 */
public record LoadMode(String name, int connections, boolean keepAlive) {

  /** The names --modes takes. */
  static final List<String> NAMES = List.of("c1", "per-request", "keep-alive");

  static LoadMode one() {
    return new LoadMode("c=1", 1, false);
  }

  static LoadMode perRequest(int connections) {
    return new LoadMode("c=" + connections + " per-request", connections, false);
  }

  static LoadMode keepAlive(int connections) {
    return new LoadMode("c=" + connections + " keep-alive", connections, true);
  }

  /**
   * Parses --modes: a comma-separated subset of {@link #NAMES}.
   *
   * @throws IllegalArgumentException naming the unknown mode and the known ones
   */
  public static List<LoadMode> parse(String list, int connections) {
    var modes = new ArrayList<LoadMode>();
    for (var word : list.split(",")) {
      var mode =
          switch (word.trim()) {
            case "c1", "c=1" -> one();
            case "per-request", "close" -> perRequest(connections);
            case "keep-alive", "keepalive" -> keepAlive(connections);
            default ->
                throw new IllegalArgumentException(
                    "unknown load mode '"
                        + word.trim()
                        + "'; use some of "
                        + String.join(",", NAMES));
          };
      if (!modes.contains(mode)) {
        modes.add(mode);
      }
    }
    return List.copyOf(modes);
  }
}
