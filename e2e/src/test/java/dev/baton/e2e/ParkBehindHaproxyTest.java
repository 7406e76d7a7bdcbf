package dev.baton.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.baton.bench.Load;
import dev.baton.bench.LoadGenerator;
import dev.baton.bench.LoadReport;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Parking behind a load balancer that pools its connections to the server: a real HAProxy 2.6 with
 * {@code http-reuse always} in front of a real `baton run` whose generations are the example apps
 * of baton-app's adapters, parked at each promotion. HAProxy sends any request over any idle
 * connection it holds to the server, so a parked generation that kept its kept-alive connections
 * would go on answering, for every client, long after it was parked. Each adapter must let go of
 * them on pause ({@code Connection: close} on the next answer, closed after a second idle): once a
 * deploy has returned and the parked generation holds no connection any more, not one answer comes
 * from it, and the same after a rollback the other way round. Under keep-alive load through HAProxy
 * all along, with no failed request.
 */
class ParkBehindHaproxyTest {
  @TempDir Path dir;

  /** How long a parked generation may take to let go of every connection HAProxy pooled to it. */
  static final Duration RELEASE = Duration.ofSeconds(5);

  /** How long the answers are counted once it has. */
  static final Duration MEASURED = Duration.ofSeconds(3);

  @ParameterizedTest
  @EnumSource(
      value = AdapterTest.Adapter.class,
      names = {"JETTY", "TOMCAT", "NETTY"})
  void noRequestThroughAPoolingHaproxyReachesTheParkedGenerationAfterADeployOrARollback(
      AdapterTest.Adapter adapter) throws Exception {
    try (var service = Service.start(dir, AdapterTest.config(adapter));
        var haproxy = Haproxy.start(dir, service.port())) {
      int port = service.port();
      var load = LoadGenerator.start(throughHaproxy(haproxy.port, Duration.ofMinutes(2)));
      Service.sleep(1000);
      int first = AdapterTest.generation(service, 1).path("pid").asInt();
      assertThat(connectionsHeld(first, port))
          .as("HAProxy keeps connections to generation 1 open between requests")
          .isPositive();

      var deploy = AdapterTest.call(service, "deploy");
      assertThat(deploy.reply().path("ok").asBoolean()).as(deploy.toString()).isTrue();
      AdapterTest.awaitState(service, 1, "parked", Duration.ofSeconds(10));
      var afterDeploy = measure(haproxy.port, first, port);
      int second = AdapterTest.generation(service, 2).path("pid").asInt();

      var rollback = AdapterTest.call(service, "rollback");
      assertThat(rollback.reply().path("ok").asBoolean()).as(rollback.toString()).isTrue();
      assertThat(rollback.event("resumed")).contains("generation 1 accepts again");
      AdapterTest.awaitState(service, 2, "parked", Duration.ofSeconds(10));
      var afterRollback = measure(haproxy.port, second, port);

      var whole = load.stop();
      System.out.printf(
          Locale.ROOT,
          "%s behind HAProxy (http-reuse always), keep-alive c=8 through a deploy and a rollback:"
              + " %s Answers by generation %s.%n"
              + "  after the deploy: parked generation 1 held no connection after %d ms; then"
              + " %,d requests, %,d failed, answers by generation %s%n"
              + "  after the rollback: parked generation 2 held none after %d ms; then"
              + " %,d requests, %,d failed, answers by generation %s%n",
          adapter,
          whole.summary(),
          byGeneration(whole),
          afterDeploy.releaseMillis(),
          afterDeploy.report().requests(),
          afterDeploy.report().failed(),
          byGeneration(afterDeploy.report()),
          afterRollback.releaseMillis(),
          afterRollback.report().requests(),
          afterRollback.report().failed(),
          byGeneration(afterRollback.report()));
      assertThat(byGeneration(afterDeploy.report()))
          .as(
              "answers after the deploy, once generation 1 was parked; it still held %d"
                  + " connections from HAProxy",
              afterDeploy.stillHeld())
          .containsOnlyKeys(2);
      assertThat(afterDeploy.stillHeld())
          .as("connections from HAProxy that parked generation 1 still held after %s", RELEASE)
          .isZero();
      assertThat(byGeneration(afterRollback.report()))
          .as(
              "answers after the rollback, once generation 2 was parked; it still held %d"
                  + " connections from HAProxy",
              afterRollback.stillHeld())
          .containsOnlyKeys(1);
      assertThat(afterRollback.stillHeld())
          .as("connections from HAProxy that parked generation 2 still held after %s", RELEASE)
          .isZero();
      for (var report : List.of(whole, afterDeploy.report(), afterRollback.report())) {
        assertThat(report.failed())
            .as(
                "failed requests: %s; first failures: %s; HAProxy's log of them: %s",
                report.failures(), report.failureMessages(), haproxy.log())
            .isZero();
        assertThat(report.requests()).as("requests through HAProxy").isGreaterThan(200);
      }
    }
  }

  /** Keep-alive GET / through HAProxy, counting the answers by generation; bounded both ways. */
  static Load throughHaproxy(int port, Duration duration) {
    return Load.to(new InetSocketAddress("127.0.0.1", port))
        .keepAlive()
        .get("/")
        .connections(8)
        .duration(duration)
        .requests(2_000_000)
        .timeout(Duration.ofSeconds(10))
        .countAnswers()
        .build();
  }

  /**
   * After a deploy or a rollback: how long the generation just parked took to hold no connection on
   * the service's port (up to {@link #RELEASE}), how many it held still, and then a load counting
   * which generations answer, through HAProxy, for {@link #MEASURED}.
   */
  record Measured(long releaseMillis, int stillHeld, LoadReport report) {}

  static Measured measure(int haproxyPort, int parkedPid, int port) throws IOException {
    long start = System.nanoTime();
    long deadline = start + RELEASE.toNanos();
    int held = connectionsHeld(parkedPid, port);
    while (held > 0 && System.nanoTime() - deadline < 0) {
      Service.sleep(10);
      held = connectionsHeld(parkedPid, port);
    }
    long releaseMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    var measured = LoadGenerator.start(throughHaproxy(haproxyPort, MEASURED.plusSeconds(10)));
    Service.sleep(MEASURED.toMillis());
    return new Measured(releaseMillis, held, measured.stop());
  }

  /** Answers by the generation that gave them: the examples answer "generation N pid P". */
  static Map<Integer, Long> byGeneration(LoadReport report) {
    var generations = new TreeMap<Integer, Long>();
    report
        .answers()
        .forEach(
            (body, count) ->
                generations.merge(Integer.parseInt(body.split(" ")[1]), count, Long::sum));
    return generations;
  }

  /**
   * The TCP connections to local port {@code port} (not the listener) that process {@code pid} has
   * open: its sockets, by inode, found in the kernel's tables.
   */
  static int connectionsHeld(int pid, int port) throws IOException {
    Set<String> inodes = new HashSet<>();
    try (var fds = Files.list(Path.of("/proc/" + pid + "/fd"))) {
      for (var fd : fds.toList()) {
        try {
          var target = Files.readSymbolicLink(fd).toString();
          if (target.startsWith("socket:[")) {
            inodes.add(target.substring("socket:[".length(), target.length() - 1));
          }
        } catch (IOException e) {
          // Closed meanwhile.
        }
      }
    }
    int held = 0;
    for (var table : List.of("tcp", "tcp6")) {
      var lines = Files.readAllLines(Path.of("/proc/" + pid + "/net/" + table));
      for (var line : lines.subList(1, lines.size())) {
        var fields = line.trim().split("\\s+");
        var local = fields[1];
        boolean listening = fields[3].equals("0A");
        if (!listening
            && Integer.parseInt(local.substring(local.lastIndexOf(':') + 1), 16) == port
            && inodes.contains(fields[9])) {
          held++;
        }
      }
    }
    return held;
  }

  /**
   * A real HAProxy on loopback with one server, baton's listener, whose idle connections it shares
   * between all requests ({@code http-reuse always}); it logs only the requests that went wrong.
   * Closing it stops it by its pid.
   */
  static final class Haproxy implements AutoCloseable {
    final int port;
    private final Path log;
    private final Process process;

    private Haproxy(int port, Path log, Process process) {
      this.port = port;
      this.log = log;
      this.process = process;
    }

    static Haproxy start(Path dir, int serverPort) throws Exception {
      assertThat(HaproxyFleet.HAPROXY)
          .as("HAProxy is installed by .ci/run (apt-get install haproxy)")
          .isExecutable();
      var log = dir.resolve("haproxy.log");
      var config = dir.resolve("haproxy.cfg");
      // A port free a moment ago can be taken before HAProxy binds it: then pick another.
      for (int attempt = 1; ; attempt++) {
        int port = HaproxyFleet.freePort();
        Files.writeString(
            config,
            """
            global
                log stdout format raw local0
            defaults
                mode http
                log global
                option httplog
                option dontlog-normal
                timeout connect 2s
                timeout client 30s
                timeout server 30s
            frontend fe
                bind 127.0.0.1:%d
                default_backend app
            backend app
                http-reuse always
                server baton 127.0.0.1:%d
            """
                .formatted(port, serverPort));
        var process =
            new ProcessBuilder(HaproxyFleet.HAPROXY.toString(), "-db", "-f", config.toString())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        var haproxy = new Haproxy(port, log, process);
        if (process.waitFor(300, TimeUnit.MILLISECONDS)) {
          if (haproxy.log().contains("Address already in use") && attempt < 3) {
            continue;
          }
          throw new AssertionError("haproxy exited: " + haproxy.log());
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (true) {
          try {
            AdapterTest.get(port, "/healthz");
            return haproxy;
          } catch (IOException e) {
            if (!process.isAlive() || System.nanoTime() - deadline > 0) {
              haproxy.close();
              throw new AssertionError("HAProxy does not answer: " + haproxy.log(), e);
            }
            Service.sleep(50);
          }
        }
      }
    }

    String log() {
      try {
        return Files.readString(log);
      } catch (IOException e) {
        return "(no haproxy log: " + e + ")";
      }
    }

    @Override
    public void close() throws InterruptedException {
      process.destroy();
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor();
      }
    }
  }
}
