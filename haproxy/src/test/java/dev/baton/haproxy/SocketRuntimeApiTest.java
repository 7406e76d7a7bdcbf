package dev.baton.haproxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Runtime API client against a real HAProxy 2.6, and against sockets that misbehave. */
class SocketRuntimeApiTest {
  @TempDir Path dir;
  private HttpServer app;
  private RunningHaproxy haproxy;
  private RuntimeApi api;
  private final AtomicInteger checks = new AtomicInteger();

  @BeforeEach
  void start() throws Exception {
    app = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
    app.createContext(
        "/",
        exchange -> {
          if (exchange.getRequestURI().getPath().equals("/healthz")) {
            checks.incrementAndGet();
          }
          exchange.sendResponseHeaders(200, -1);
          exchange.close();
        });
    app.start();
    haproxy =
        RunningHaproxy.start(
            dir,
            """
        global
            stats socket %%SOCKET%% mode 600 level admin
        defaults
            mode http
            timeout connect 1s
            timeout client 5s
            timeout server 5s
        backend app
            option httpchk
            http-check send meth GET uri /healthz
            default-server inter 2s rise 1 fall 1
            server s1 127.0.0.1:%d check weight 100
            server s2 127.0.0.1:%d weight 100
        """
                .formatted(app.getAddress().getPort(), app.getAddress().getPort()));
    api = RuntimeApi.connect(haproxy.socket.toString(), Duration.ofSeconds(2));
  }

  @AfterEach
  void stop() throws Exception {
    // Null when start() was skipped for want of HAProxy: the skip, not this, is what to report.
    if (haproxy != null) {
      haproxy.close();
    }
    app.stop(0);
  }

  @Test
  void listsEveryServerOfTheBackendWithItsStateAndWeight() throws Exception {
    Thread.sleep(300);
    var servers = api.servers("app");

    assertThat(servers).extracting(ServerState::name).containsExactly("s1", "s2");
    assertThat(servers.getFirst().up()).isTrue();
    assertThat(servers.getFirst().ready()).isTrue();
    assertThat(servers.getFirst().userWeight()).isEqualTo(100);
  }

  @Test
  void drainAndReadyAreSeenInTheAdminState() {
    api.setState("app", "s1", RuntimeApi.AdminState.DRAIN);
    assertThat(api.servers("app").getFirst().admin()).isEqualTo("drain");

    api.setState("app", "s1", RuntimeApi.AdminState.READY);
    assertThat(api.servers("app").getFirst().admin()).isEqualTo("ready");
  }

  @Test
  void aForcedDownServerComesBackOnlyThroughItsHealthCheck() throws Exception {
    // Checks are 2 s apart, but HAProxy places the first one anywhere in those 2 s: force s1 down
    // just after a check has answered, so the next one cannot come before we look.
    int seen = checks.get();
    await().atMost(Duration.ofSeconds(5)).until(() -> checks.get() > seen);
    Thread.sleep(100); // HAProxy takes in that check's answer; it would undo the force otherwise
    api.forceHealthDown("app", "s1");
    assertThat(api.servers("app").getFirst().up()).isFalse();

    await().atMost(Duration.ofSeconds(6)).until(() -> api.servers("app").getFirst().up());
  }

  @Test
  void statsTellWhichServersAreHealthChecked() {
    var stats = api.stats("app");

    assertThat(stats).extracting(ServerStats::name).containsExactly("s1", "s2");
    assertThat(stats.get(0).checked()).isTrue();
    assertThat(stats.get(1).checked()).as("s2 has no 'check'").isFalse();
  }

  @Test
  void weightsAreSet() {
    api.setWeight("app", "s2", 10);
    assertThat(api.servers("app").get(1).userWeight()).isEqualTo(10);
  }

  @Test
  void aMissingServerIsRefusedInHaproxysWords() {
    assertThatThrownBy(() -> api.setState("app", "s9", RuntimeApi.AdminState.DRAIN))
        .isInstanceOf(RuntimeApiException.class)
        .hasMessageContaining("refused 'set server app/s9 state drain': No such server.");
  }

  @Test
  void aMissingBackendIsRefusedInHaproxysWords() {
    assertThatThrownBy(() -> api.servers("web"))
        .isInstanceOf(RuntimeApiException.class)
        .hasMessageContaining("refused 'show servers state web'")
        .hasMessageContaining("backend");
  }

  @Test
  void aSocketPathWithNothingThereSaysSo() {
    var missing = RuntimeApi.connect(dir.resolve("nope.sock").toString(), Duration.ofSeconds(1));

    assertThatThrownBy(() -> missing.servers("app"))
        .hasMessageContaining("no HAProxy stats socket at")
        .hasMessageContaining("the file does not exist");
  }

  @Test
  void aTcpAddressThatRefusesSaysSo() throws Exception {
    var refused =
        RuntimeApi.connect("127.0.0.1:" + RunningHaproxy.freePort(), Duration.ofSeconds(1));

    assertThatThrownBy(() -> refused.servers("app")).hasMessageContaining("refused the connection");
  }

  @Test
  void aSocketThatNeverAnswersTimesOut() throws Exception {
    try (var silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      var stuck = RuntimeApi.connect("127.0.0.1:" + silent.getLocalPort(), Duration.ofMillis(300));
      long t0 = System.nanoTime();

      assertThatThrownBy(() -> stuck.servers("app"))
          .isInstanceOf(RuntimeApiException.class)
          .hasMessageContaining("did not answer 'show servers state app' within 300 ms");
      assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(2));
    }
  }
}
