package dev.baton.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.baton.haproxy.Rollout;
import dev.baton.haproxy.RolloutException;
import dev.baton.haproxy.RolloutPlan;
import java.io.FileInputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * What goes wrong in a rollout, against a real fleet behind a real HAProxy: each failure is a clear
 * error, and the fleet is left serving with every server ready.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HaproxyRolloutFailureTest {
  private HaproxyFleet fleet;

  @BeforeAll
  void startFleet(@TempDir Path shared) throws Exception {
    fleet = HaproxyFleet.start(shared, 3);
  }

  @AfterAll
  void stopFleet() throws Exception {
    if (fleet != null) {
      fleet.close();
    }
  }

  /** Nothing was deployed, and HAProxy still sends traffic to every server. */
  private void assertFleetUntouched(HaproxyFleet fleet) {
    fleet.assertEveryServerReadyAndUp();
    for (var service : fleet.services) {
      assertThat(service.status().path("active_generation").asInt())
          .as(service.dir + " never deployed")
          .isEqualTo(1);
    }
  }

  @Test
  void aStatsSocketThatRefusesStopsTheRolloutBeforeAnythingChanges() throws Exception {
    var result = fleet.baton(rolloutWith("--haproxy", "127.0.0.1:" + HaproxyFleet.freePort()));

    assertThat(result.exit()).isEqualTo(1);
    assertThat(result.stderr())
        .contains("HAProxy's Runtime API at 127.0.0.1:")
        .contains("refused the connection")
        .contains("Nothing was changed");
    assertFleetUntouched(fleet);
  }

  @Test
  void aStatsSocketThatNeverAnswersTimesOutBeforeAnythingChanges() throws Exception {
    try (var silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      long t0 = System.nanoTime();
      var result =
          fleet.baton(
              rolloutWith(
                  "--haproxy", "127.0.0.1:" + silent.getLocalPort(), "--haproxy-timeout", "500ms"));

      assertThat(result.exit()).isEqualTo(1);
      assertThat(result.stderr())
          .contains("did not answer 'show servers state app' within 500 ms")
          .contains("Nothing was changed");
      assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(15));
    }
    assertFleetUntouched(fleet);
  }

  @Test
  void aWrongTokenIsRefusedWith401AndNothingChanges(@TempDir Path dir) throws Exception {
    var wrong = dir.resolve("wrong-token");
    Files.writeString(wrong, "not-the-token\n");
    var result = fleet.baton(rolloutWith("--token-file", wrong.toString()));

    assertThat(result.exit()).isEqualTo(1);
    assertThat(result.stderr())
        .contains("server s3: the supervisor at http://127.0.0.1:")
        .contains("refused the bearer token (HTTP 401)")
        .contains("Nothing was changed");
    var response =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create(fleet.target(2) + "/v1/status"))
                    .header("Authorization", "Bearer not-the-token")
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).isEqualTo(401);
    assertThat(response.body()).contains("\"ok\":false").contains("missing or wrong bearer token");
    assertFleetUntouched(fleet);
  }

  @Test
  void aServerNameMissingFromTheBackendIsNamedAndNothingChanges() throws Exception {
    var args =
        new ArrayList<>(
            List.of(
                "rollout",
                "--haproxy",
                fleet.adminSocket.toString(),
                "--backend",
                "app",
                "--server",
                "s1=" + fleet.target(0),
                "--server",
                "s9=" + fleet.target(1)));
    var result = fleet.baton(args);

    assertThat(result.exit()).isEqualTo(1);
    assertThat(result.stderr())
        .contains("HAProxy's backend 'app' has no server named s9 (it has s1, s2, s3)")
        .contains("Nothing was changed");
    assertFleetUntouched(fleet);
  }

  /** The shared fleet's rollout, with some options replaced. */
  private List<String> rolloutWith(String... replaced) {
    var args =
        new ArrayList<>(
            List.of(
                "rollout",
                "--haproxy",
                fleet.adminSocket.toString(),
                "--backend",
                "app",
                "--token-file",
                fleet.token.toString()));
    for (int i = 0; i < replaced.length; i += 2) {
      int at = args.indexOf(replaced[i]);
      if (at >= 0) {
        args.set(at + 1, replaced[i + 1]);
      } else {
        args.addAll(List.of(replaced[i], replaced[i + 1]));
      }
    }
    args.addAll(fleet.serverOptions());
    return args;
  }

  @Test
  void aSupervisorKilledMidRolloutAbortsRollsBackTheServersDoneAndLeavesEveryServerReady(
      @TempDir Path dir) throws Exception {
    try (var own = HaproxyFleet.start(dir, 3)) {
      var load = HaproxyRolloutTest.MixedLoad.start(own.frontendPort);
      var s2 = own.services.get(1);
      var plan =
          RolloutPlan.builder()
              .haproxy(own.adminSocket.toString())
              .backend("app")
              .servers(
                  List.of(
                      RolloutPlan.Server.parse("s1=" + own.target(0)),
                      RolloutPlan.Server.parse("s2=" + own.target(1)),
                      RolloutPlan.Server.parse("s3=" + own.target(2))))
              .tokenFile(own.token)
              .command(HaproxyRolloutTest.sampleV2())
              .build();

      assertThatThrownBy(
              () ->
                  Rollout.of(plan)
                      .run(
                          event -> {
                            if (event.server().equals("s1") && event.step().equals("ready")) {
                              // The host of s2 goes away: its supervisor dies; the app it started
                              // keeps serving.
                              s2.process.destroyForcibly();
                              try {
                                s2.process.waitFor(10, TimeUnit.SECONDS);
                              } catch (InterruptedException e) {
                                Thread.currentThread().interrupt();
                              }
                            }
                          }))
          .isInstanceOf(RolloutException.class)
          .hasMessageContaining("s2 (deploy): no supervisor is listening on")
          .hasMessageContaining("Rolled back s1")
          .hasMessageContaining("Every server is ready in HAProxy");
      var reports = load.stop();

      assertThat(own.activeCommand(0))
          .as("s1 is back on the configured version")
          .isNotEqualTo(HaproxyRolloutTest.sampleV2());
      assertThat(own.activeCommand(2))
          .as("s3 was never touched")
          .isNotEqualTo(HaproxyRolloutTest.sampleV2());
      own.assertEveryServerReadyAndUp();
      System.out.println(
          "supervisor of s2 killed mid-rollout: " + HaproxyRolloutTest.describe(reports));
      assertThat(HaproxyRolloutTest.failed(reports))
          .as(HaproxyRolloutTest.describe(reports))
          .isZero();
    }
  }

  @Test
  void aTokenFileOthersCanReadKeepsTheSupervisorFromStarting(@TempDir Path dir) throws Exception {
    var token = dir.resolve("token");
    Files.writeString(token, "open-secret\n");
    Files.setPosixFilePermissions(token, PosixFilePermissions.fromString("rw-r--r--"));
    var service =
        Service.launch(
            dir,
            Service.sampleConfig("[remote]\naddress = \"127.0.0.1:0\"\ntoken_file = \"token\""));
    try {
      assertThat(service.process.waitFor(30, TimeUnit.SECONDS)).as("baton run exits").isTrue();
      assertThat(service.process.exitValue()).isEqualTo(1);
      assertThat(service.logText())
          .contains("[remote] token_file " + token + " is mode 0644")
          .contains("chmod 600")
          .doesNotContain("spawned");
    } finally {
      service.close();
    }
  }

  @Test
  void aRemoteSupervisorIsReachedOverTlsWithItsToken(@TempDir Path dir) throws Exception {
    var keystore = dir.resolve("remote.p12");
    var keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
    var made =
        new ProcessBuilder(
                keytool,
                "-genkeypair",
                "-keystore",
                keystore.toString(),
                "-storetype",
                "PKCS12",
                "-storepass",
                "changeit",
                "-keypass",
                "changeit",
                "-alias",
                "baton",
                "-keyalg",
                "EC",
                "-dname",
                "CN=localhost",
                "-ext",
                "SAN=ip:127.0.0.1",
                "-validity",
                "2")
            .redirectErrorStream(true)
            .start();
    assertThat(made.waitFor()).as(new String(made.getInputStream().readAllBytes())).isZero();
    for (var secret : List.of("token", "password")) {
      Files.writeString(dir.resolve(secret), secret.equals("token") ? "tls-token\n" : "changeit\n");
      Files.setPosixFilePermissions(
          dir.resolve(secret), PosixFilePermissions.fromString("rw-------"));
    }
    int port = HaproxyFleet.freePort();
    try (var service =
        Service.start(
            dir,
            Service.sampleConfig(
                """
        [remote]
        address = "127.0.0.1:%d"
        token_file = "token"
        tls_keystore = "remote.p12"
        tls_password_file = "password"
        """
                    .formatted(port)))) {
      var trust = KeyStore.getInstance("PKCS12");
      try (var in = new FileInputStream(keystore.toFile())) {
        trust.load(in, "changeit".toCharArray());
      }
      var factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      factory.init(trust);
      var tls = SSLContext.getInstance("TLS");
      tls.init(null, factory.getTrustManagers(), null);
      var client = HttpClient.newBuilder().sslContext(tls).build();
      var url = URI.create("https://127.0.0.1:" + port + "/v1/status");

      var withToken =
          client.send(
              HttpRequest.newBuilder(url).header("Authorization", "Bearer tls-token").build(),
              HttpResponse.BodyHandlers.ofString());
      var without =
          client.send(HttpRequest.newBuilder(url).build(), HttpResponse.BodyHandlers.ofString());

      assertThat(withToken.statusCode()).isEqualTo(200);
      assertThat(withToken.body())
          .contains("\"active_generation\":1")
          .contains("\"readiness_http\":\"/healthz\"");
      assertThat(without.statusCode()).isEqualTo(401);
    }
  }
}
