package dev.baton.haproxy;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * HAProxy's Runtime API as a rollout sees it, in memory: servers with an admin state, a health that
 * comes back after two checks once forced down (if the server is healthy), sessions that drain
 * away, and counters that grow with every look, with 5xx on servers that run a bad version.
 */
final class FakeHaproxy implements RuntimeApi {
  static final class Server {
    int op = 2;
    String admin = "ready";
    int weight = 100;
    long sessions = 3;
    boolean healthy = true;
    boolean bad;
    int checksUntilUp;
    long responses;
    long errors;
  }

  final Map<String, Server> servers = new LinkedHashMap<>();
  final List<String> commands = new ArrayList<>();

  /** Servers whose agent-check answers "ready" once while they drain, cancelling the drain. */
  final java.util.Set<String> agentAnswersReadyOnce = new java.util.HashSet<>();

  RuntimeException failure;

  FakeHaproxy(String... names) {
    for (var name : names) {
      servers.put(name, new Server());
    }
  }

  Server server(String name) {
    return servers.get(name);
  }

  @Override
  public synchronized List<ServerState> servers(String backend) {
    check(backend);
    var states = new ArrayList<ServerState>();
    servers.forEach(
        (name, s) -> {
          if (s.op == 0 && s.healthy && --s.checksUntilUp <= 0) {
            s.op = 2;
          }
          int flags =
              switch (s.admin) {
                case "drain" -> 0x08;
                case "maint" -> 0x01;
                default -> 0;
              };
          states.add(new ServerState(backend, name, "127.0.0.1:80", s.op, flags, s.weight, 100));
        });
    return states;
  }

  @Override
  public synchronized List<ServerStats> stats(String backend) {
    check(backend);
    var stats = new ArrayList<ServerStats>();
    servers.forEach(
        (name, s) -> {
          if (!s.admin.equals("ready") && s.sessions > 0) {
            s.sessions--;
            if (s.admin.equals("drain") && agentAnswersReadyOnce.remove(name)) {
              s.admin = "ready";
            }
          }
          if (s.admin.equals("ready") && s.op == 2) {
            long requests = Math.max(1, s.weight / 10);
            s.responses += requests;
            if (s.bad) {
              s.errors += requests;
            }
          }
          stats.add(
              new ServerStats(
                  name,
                  s.sessions,
                  0,
                  s.op == 2 ? "UP" : "DOWN",
                  s.healthy ? "L7OK" : "L7STS",
                  s.responses,
                  s.errors,
                  0,
                  0));
        });
    return stats;
  }

  @Override
  public synchronized void setState(String backend, String server, AdminState state) {
    check(backend);
    commands.add("set server " + backend + "/" + server + " state " + state.name().toLowerCase());
    servers.get(server).admin = state.name().toLowerCase();
  }

  @Override
  public synchronized void forceHealthDown(String backend, String server) {
    check(backend);
    commands.add("set server " + backend + "/" + server + " health down");
    servers.get(server).op = 0;
    servers.get(server).checksUntilUp = 2;
  }

  @Override
  public synchronized void setWeight(String backend, String server, int weight) {
    check(backend);
    commands.add("set weight " + backend + "/" + server + " " + weight);
    servers.get(server).weight = weight;
  }

  private void check(String backend) {
    if (failure != null) {
      throw failure;
    }
    if (!backend.equals("app")) {
      throw new RuntimeApiException(
          "HAProxy at fake refused 'show servers state " + backend + "': Can't find backend.");
    }
  }
}
