package dev.baton.haproxy;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * A backend for haproxy.cfg in front of baton supervisors: health-checked, retried where that is
 * safe, agent-checked, weighted so that percentages mean something. {@link #standalone} adds what
 * it takes to run it on its own: the stats socket a rollout drives, defaults and a frontend.
 */
public final class HaproxyConfig {

  /** One server line: its HAProxy name, the service's address, and its supervisor's agent-check. */
  public record Server(String name, String address, Optional<InetSocketAddress> agent) {}

  private final String backend;
  private final List<Server> servers;
  private final String checkPath;
  private final Duration inter;

  /**
   * @param checkPath what HAProxy's health check GETs; baton's readiness path fits
   * @param inter how often HAProxy checks each server when it is up
   */
  public HaproxyConfig(String backend, List<Server> servers, String checkPath, Duration inter) {
    if (!checkPath.startsWith("/") || checkPath.chars().anyMatch(c -> c <= ' ')) {
      throw new IllegalArgumentException(
          "the check path must start with / and have no spaces, e.g. /healthz");
    }
    if (servers.isEmpty()) {
      throw new IllegalArgumentException("a backend needs at least one server");
    }
    this.backend = backend;
    this.servers = List.copyOf(servers);
    this.checkPath = checkPath;
    this.inter = inter;
  }

  /** The backend section. */
  public String backend() {
    var out = new StringBuilder();
    out.append("# Written by `baton haproxy-config` for ")
        .append(servers.size())
        .append(" server(s).\n");
    out.append("backend ").append(backend).append('\n');
    line(out, "mode http");
    line(out, "balance roundrobin");
    comment(
        out,
        "HAProxy's own health check, on the path of baton's readiness probe. A rollout marks a freshly");
    comment(
        out,
        "deployed server down, and only this check, passing 'rise' times in a row, brings it back.");
    line(out, "option httpchk");
    line(out, "http-check send meth GET uri " + checkPath + " ver HTTP/1.1 hdr Host baton-check");
    line(out, "http-check expect status 200");
    line(
        out,
        "default-server inter "
            + ms(inter)
            + " fastinter "
            + ms(atLeast(inter.dividedBy(4)))
            + " downinter "
            + ms(atLeast(inter.dividedBy(2)))
            + " rise 2 fall 2");
    comment(
        out,
        "A request that found no connection, got nothing back, or got a 503 is sent again, each time to");
    comment(out, "another server...");
    line(out, "retry-on conn-failure empty-response response-timeout 503");
    line(out, "retries 3");
    line(out, "option redispatch 1");
    comment(
        out,
        "...but past the connection only if sending it twice is harmless: a POST that reached a server");
    comment(out, "may have done its work there.");
    line(out, "http-request disable-l7-retry if !METH_GET !METH_OPTIONS");
    line(out, "timeout connect 2s");
    line(out, "timeout server 30s");
    line(out, "timeout check 2s");
    comment(
        out, "weight 100: a canary's or an agent's percentage of a weight of 1 would round to 0.");
    comment(
        out,
        "The agent-check answers 'drain' while its host deploys, then 'ready' once to undo that, and");
    comment(
        out, "'up' otherwise: never a 'ready' that would cancel a drain set on the stats socket.");
    comment(
        out,
        "agent-send names the server line, so that each line polled from one address gets its own 'ready'.");
    for (var s : servers) {
      var line = new StringBuilder("server " + s.name() + " " + s.address() + " check weight 100");
      s.agent()
          .ifPresent(
              a ->
                  line.append(" agent-check agent-addr ")
                      .append(a.getAddress().getHostAddress())
                      .append(" agent-port ")
                      .append(a.getPort())
                      .append(" agent-inter ")
                      .append(ms(inter))
                      .append(" agent-send \"")
                      .append(backend)
                      .append('/')
                      .append(s.name())
                      .append("\\n\""));
      line(out, line.toString());
    }
    return out.toString();
  }

  /**
   * A whole haproxy.cfg: the stats socket at {@code statsSocket} (a path, or host:port) with level
   * admin for `baton rollout`, defaults, a frontend on {@code bind}, and the backend.
   */
  public String standalone(String bind, String statsSocket) {
    var socket = statsSocket.contains("/") ? statsSocket + " mode 600" : "ipv4@" + statsSocket;
    return """
        global
            # baton rollout drives HAProxy through this socket: it needs level admin.
            stats socket %s level admin
            stats timeout 30s

        defaults
            mode http
            timeout connect 2s
            timeout client 30s
            timeout server 30s
            timeout http-keep-alive 10s

        frontend %s_front
            bind %s
            default_backend %s

        """
            .formatted(socket, backend, bind, backend)
        + backend();
  }

  private static void line(StringBuilder out, String text) {
    out.append("    ").append(text).append('\n');
  }

  private static void comment(StringBuilder out, String text) {
    out.append("    # ").append(text).append('\n');
  }

  private static Duration atLeast(Duration d) {
    return d.compareTo(Duration.ofMillis(100)) < 0 ? Duration.ofMillis(100) : d;
  }

  private static String ms(Duration d) {
    return d.toMillis() % 1000 == 0 ? d.toSeconds() + "s" : d.toMillis() + "ms";
  }
}
