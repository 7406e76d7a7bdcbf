package dev.baton.cli;

import dev.baton.config.ConfigException;
import dev.baton.haproxy.HaproxyConfig;
import dev.baton.haproxy.Host;
import dev.baton.haproxy.HostException;
import dev.baton.haproxy.RolloutPlan;
import dev.baton.protocol.Service;
import dev.baton.protocol.Status;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
    name = "haproxy-config",
    sortOptions = false,
    description = {
      "Print an HAProxy backend for running supervisors: their listeners as servers, HAProxy's health"
          + " check on their readiness path, retries where a retry is safe, their agent-checks, weight 100.",
      "With --listen and --stats-socket, a whole haproxy.cfg that runs as it is.",
      "Example: baton haproxy-config --backend app --server s1=/srv/a/baton.toml --server s2=/srv/b/baton.toml"
    })
final class HaproxyConfigCommand implements Callable<Integer> {
  @Option(
      names = "--backend",
      paramLabel = "NAME",
      defaultValue = "app",
      description = "the backend's name (default: ${DEFAULT-VALUE})")
  String backend;

  @Option(
      names = "--server",
      paramLabel = "NAME=TARGET",
      required = true,
      description =
          "a server and its supervisor: baton.toml, control socket, or remote API URL; repeat for each")
  List<String> servers = new ArrayList<>();

  @Option(
      names = "--token-file",
      paramLabel = "FILE",
      description = "the bearer token for remote supervisors")
  @Nullable Path tokenFile;

  @Option(
      names = "--check-path",
      paramLabel = "PATH",
      description =
          "what HAProxy's health check GETs (default: the supervisors' [readiness] http, else /)")
  @Nullable String checkPath;

  @Option(
      names = "--inter",
      paramLabel = "DURATION",
      defaultValue = "2s",
      description = "how often HAProxy checks a server (default: ${DEFAULT-VALUE})")
  Duration inter;

  @Option(
      names = "--listen",
      paramLabel = "ADDRESS",
      description = "also print global, defaults and a frontend bound here")
  @Nullable String listen;

  @Option(
      names = "--stats-socket",
      paramLabel = "PATH|HOST:PORT",
      defaultValue = "/run/haproxy/admin.sock",
      description =
          "with --listen: the Runtime API socket for baton rollout (default: ${DEFAULT-VALUE})")
  String statsSocket;

  @Override
  public Integer call() {
    var lines = new ArrayList<HaproxyConfig.Server>();
    Optional<String> readiness = Optional.empty();
    HaproxyConfig config;
    try {
      for (var spec : servers) {
        var server = RolloutPlan.Server.parse(spec);
        var host = Host.of(server.target(), tokenFile, Duration.ofSeconds(10));
        var status = host.status();
        var hostName =
            server.target().matches("https?://.*")
                ? URI.create(server.target()).getHost()
                : "127.0.0.1";
        lines.add(
            new HaproxyConfig.Server(
                server.name(),
                address(status, server, hostName),
                host.agent()
                    .map(
                        a ->
                            a.getAddress().isAnyLocalAddress()
                                ? new InetSocketAddress(hostName, a.getPort())
                                : a)));
        if (readiness.isEmpty()) {
          readiness =
              host.config()
                  .flatMap(c -> c.readiness().http())
                  .or(() -> host.service().flatMap(Service::readinessHttp));
        }
      }
      config =
          new HaproxyConfig(
              backend, lines, checkPath != null ? checkPath : readiness.orElse("/"), inter);
    } catch (IllegalArgumentException | ConfigException e) {
      System.err.println("baton: " + e.getMessage());
      return Main.USAGE;
    } catch (HostException e) {
      System.err.println("baton: " + e.getMessage());
      // A supervisor that answered "no" was reached: that is a failure, not exit 3.
      return e.unreachable() ? Main.UNREACHABLE : Main.FAILED;
    }
    System.out.print(listen == null ? config.backend() : config.standalone(listen, statsSocket));
    return 0;
  }

  /** The service's first TCP listener (its "http" one if it has one), as HAProxy reaches it. */
  private static String address(Status status, RolloutPlan.Server server, String hostName) {
    Status.ListenerStatus chosen = null;
    for (var l : status.listeners()) {
      if (l.address().startsWith("unix:")) {
        continue;
      }
      if (chosen == null || l.name().equals("http")) {
        chosen = l;
      }
    }
    if (chosen == null) {
      throw new IllegalArgumentException(
          "server "
              + server.name()
              + " ("
              + server.target()
              + ") has no TCP listener for HAProxy to reach");
    }
    var address = chosen.address();
    int colon = address.lastIndexOf(':');
    var host = address.substring(0, colon);
    return host.equals("0.0.0.0") || host.equals("[::]")
        ? hostName + address.substring(colon)
        : address;
  }
}
