package dev.baton.haproxy;

import dev.baton.protocol.Status;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.stream.Collectors;

/** What a rollout checks before it touches anything; any refusal leaves everything as it was. */
final class Preflight {
  private Preflight() {}

  /** Why the rollout cannot start, in words for the operator. */
  static final class Refused extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final String why;

    Refused(String why) {
      super(why);
      this.why = why;
    }

    @Override
    public String getMessage() {
      return why;
    }
  }

  /**
   * Checks everything a rollout needs before it touches anything: HAProxy answers, the backend has
   * every server named, each is health-checked, ready and up, one batch drained still leaves a
   * server serving, and every supervisor answers with an active generation and no deploy going on.
   * Returns each server's weight in HAProxy, to restore after a canary.
   *
   * @throws Refused naming the first thing that is not so
   */
  static Map<String, Integer> check(RolloutPlan plan, RuntimeApi api, Map<String, Host> hosts) {
    var weights = new LinkedHashMap<String, Integer>();
    List<ServerState> states;
    List<ServerStats> stats;
    try {
      states = api.servers(plan.backend());
      stats = api.stats(plan.backend());
    } catch (RuntimeApiException e) {
      var refused = String.valueOf(e.getMessage());
      var message =
          refused.contains("find backend") || refused.contains("No such backend")
              ? "HAProxy has no backend named '"
                  + plan.backend()
                  + "'; check --backend against haproxy.cfg"
              : refused;
      throw new Refused(message);
    }
    var byName =
        states.stream()
            .collect(Collectors.toMap(ServerState::name, s -> s, (a, b) -> a, LinkedHashMap::new));
    if (byName.isEmpty()) {
      throw new Refused("HAProxy's backend '" + plan.backend() + "' has no servers");
    }
    var missing =
        plan.servers().stream()
            .map(RolloutPlan.Server::name)
            .filter(n -> !byName.containsKey(n))
            .toList();
    if (!missing.isEmpty()) {
      throw new Refused(
          "HAProxy's backend '"
              + plan.backend()
              + "' has no server named "
              + String.join(", ", missing)
              + " (it has "
              + String.join(", ", byName.keySet())
              + "); fix --server, or the server line in haproxy.cfg");
    }
    var statsByName =
        stats.stream().collect(Collectors.toMap(ServerStats::name, s -> s, (a, b) -> a));
    for (var server : plan.servers()) {
      var state = byName.get(server.name());
      var stat = Optional.ofNullable(statsByName.get(server.name()));
      if (state == null || stat.isEmpty() || !stat.get().checked()) {
        throw new Refused(
            "HAProxy does not health-check "
                + plan.backend()
                + "/"
                + server.name()
                + "; add 'check' to its server line (baton haproxy-config prints one) so that a rollout can wait for"
                + " the new version to pass it");
      }
      if (!state.ready() || !state.up()) {
        throw new Refused(
            plan.backend()
                + "/"
                + server.name()
                + " is "
                + state.admin()
                + " and "
                + state.operational()
                + " in HAProxy; a rollout starts from servers that are all ready and up. Set it ready, wait for its"
                + " health check, or leave it out");
      }
      weights.put(server.name(), state.userWeight());
    }
    long serving = states.stream().filter(s -> s.ready() && s.up() && s.userWeight() > 0).count();
    int largest = plan.batches().stream().mapToInt(List::size).max().orElse(1);
    if (serving - largest < 1) {
      throw new Refused(
          "draining "
              + largest
              + " server(s) at once would leave backend '"
              + plan.backend()
              + "' with "
              + (serving - largest)
              + " serving out of "
              + serving
              + ", and requests would fail; use a --batch smaller than"
              + " the number of serving servers");
    }
    for (var server : plan.servers()) {
      Status status;
      try {
        status = host(hosts, server.name()).status();
      } catch (HostException e) {
        throw new Refused("server " + server.name() + ": " + e.getMessage());
      }
      if (status.activeGeneration().isEmpty()) {
        throw new Refused(
            "server "
                + server.name()
                + "'s supervisor ("
                + host(hosts, server.name()).target()
                + ") has no active generation; fix it first (baton status there)");
      }
      if (status.deploying()) {
        throw new Refused(
            "server "
                + server.name()
                + "'s supervisor ("
                + host(hosts, server.name()).target()
                + ") is deploying already; wait for it, then start the rollout again");
      }
    }
    return weights;
  }

  private static Host host(Map<String, Host> hosts, String server) {
    return Objects.requireNonNull(hosts.get(server), server);
  }
}
