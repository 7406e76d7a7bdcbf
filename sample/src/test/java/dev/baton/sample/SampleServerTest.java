package dev.baton.sample;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.baton.sample.SampleProcess.HandOver;
import java.net.ConnectException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The sample as a real process: HTTP/1.1 on a real socket, and the drain on a real SIGTERM. */
@Timeout(60)
class SampleServerTest {

  private SampleProcess sample;

  @AfterEach
  void endTheSample() {
    if (sample != null) {
      sample.close();
    }
  }

  @Test
  void answersGetWithItsGenerationAndPid() throws Exception {
    sample = SampleProcess.start(HandOver.NONE, Map.of("BATON_GENERATION", "7"));

    try (RawClient client = new RawClient(sample.address())) {
      RawClient.Response response = client.get("/anything?at=all");

      assertThat(response.status()).isEqualTo(200);
      assertThat(response.body()).isEqualTo("generation 7 pid " + sample.pid() + "\n");
      assertThat(response.header("Content-Length"))
          .isEqualTo(String.valueOf(response.body().length()));
      assertThat(response.header("Connection")).isNull();
    }
  }

  @Test
  void answersPostAfterReadingAContentLengthOrChunkedBody() throws Exception {
    sample = SampleProcess.start();

    try (RawClient client = new RawClient(sample.address())) {
      String body = "x".repeat(100_000);
      RawClient.Response sized =
          client
              .send(
                  "POST /upload HTTP/1.1\r\nHost: s\r\nContent-Length: "
                      + body.length()
                      + "\r\n\r\n")
              .send(body)
              .read();
      RawClient.Response chunked =
          client
              .send("POST /upload HTTP/1.1\r\nHost: s\r\nTransfer-Encoding: chunked\r\n\r\n")
              .send(
                  "5\r\nhello\r\n1a;ext=1\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nTrailer: t\r\n\r\n")
              .read();

      assertThat(sized.body()).isEqualTo("generation 0 pid " + sample.pid() + " read 100000\n");
      assertThat(chunked.body()).endsWith(" read 31\n");
    }
  }

  @Test
  void answersExpectContinueBeforeTheBody() throws Exception {
    sample = SampleProcess.start();

    try (RawClient client = new RawClient(sample.address())) {
      client.send(
          "POST / HTTP/1.1\r\nHost: s\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n");
      assertThat(client.read().status()).isEqualTo(100);
      assertThat(client.send("abc").read().body()).endsWith(" read 3\n");
    }
  }

  @Test
  void answersHealthzOkUntilToldToFail() throws Exception {
    sample = SampleProcess.start("--fail-health-after=1s");

    try (RawClient client = new RawClient(sample.address())) {
      RawClient.Response healthy = client.get("/healthz");
      assertThat(healthy.status()).isEqualTo(200);
      assertThat(healthy.body()).isEqualTo("ok");

      await().atMost(Duration.ofSeconds(10)).until(() -> client.get("/healthz").status() == 500);
      assertThat(client.get("/").status()).isEqualTo(200);
    }
  }

  @Test
  void answersHealthz500WhenToldToFail() throws Exception {
    sample = SampleProcess.start(HandOver.NONE, Map.of("SAMPLE_HEALTH", "fail"));

    try (RawClient client = new RawClient(sample.address())) {
      RawClient.Response response = client.get("/healthz");

      assertThat(response.status()).isEqualTo(500);
      assertThat(response.body()).isEqualTo("fail");
    }
  }

  @Test
  void servesManyRequestsOnOneKeepAliveConnection() throws Exception {
    sample = SampleProcess.start();

    try (RawClient client = new RawClient(sample.address())) {
      for (int i = 0; i < 500; i++) {
        RawClient.Response response = client.get("/" + i);
        assertThat(response.status()).isEqualTo(200);
        assertThat(response.header("Connection")).isNull();
      }
    }
  }

  @Test
  void answersPipelinedRequestsInOrder() throws Exception {
    sample = SampleProcess.start();
    StringBuilder pipeline = new StringBuilder();
    for (int i = 0; i < 50; i++) {
      pipeline
          .append("POST / HTTP/1.1\r\nHost: s\r\nContent-Length: ")
          .append(i)
          .append("\r\n\r\n");
      pipeline.append("x".repeat(i));
    }

    try (RawClient client = new RawClient(sample.address())) {
      client.send(pipeline.toString());
      for (int i = 0; i < 50; i++) {
        assertThat(client.read().body()).endsWith(" read " + i + "\n");
      }
    }
  }

  @Test
  void closesAfterAResponseWhenTheClientSaysConnectionClose() throws Exception {
    sample = SampleProcess.start();

    try (RawClient client = new RawClient(sample.address())) {
      RawClient.Response response =
          client.send("GET / HTTP/1.1\r\nHost: s\r\nConnection: close\r\n\r\n").read();

      assertThat(response.header("Connection")).isEqualTo("close");
      assertThat(client.closedByServer()).isTrue();
    }
  }

  @Test
  void closesHttp10ConnectionsUnlessKeepAliveIsAsked() throws Exception {
    sample = SampleProcess.start();

    try (RawClient plain = new RawClient(sample.address());
        RawClient keepAlive = new RawClient(sample.address())) {
      assertThat(plain.send("GET / HTTP/1.0\r\n\r\n").read().header("Connection"))
          .isEqualTo("close");
      assertThat(plain.closedByServer()).isTrue();

      for (int i = 0; i < 3; i++) {
        RawClient.Response response =
            keepAlive.send("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").read();
        assertThat(response.header("Connection")).isEqualTo("keep-alive");
      }
    }
  }

  @Test
  void answersHeadWithoutABody() throws Exception {
    sample = SampleProcess.start();

    try (RawClient client = new RawClient(sample.address())) {
      RawClient.Response head =
          client.send("HEAD / HTTP/1.1\r\nHost: s\r\n\r\n").read(/* withBody= */ false);
      assertThat(head.header("Content-Length")).isNotEqualTo("0");
      // The next response starts right after the head: no body came between.
      assertThat(client.get("/").status()).isEqualTo(200);
    }
  }

  @Test
  void answersOtherMethodsWith405AndKeepsTheConnection() throws Exception {
    sample = SampleProcess.start();

    try (RawClient client = new RawClient(sample.address())) {
      RawClient.Response put =
          client.send("PUT / HTTP/1.1\r\nHost: s\r\nContent-Length: 2\r\n\r\nhi").read();
      assertThat(put.status()).isEqualTo(405);
      assertThat(put.header("Allow")).isEqualTo("GET, HEAD, POST");
      assertThat(client.get("/").status()).isEqualTo(200);
    }
  }

  @Test
  void answersMalformedRequestsWith400AndCloses() throws Exception {
    sample = SampleProcess.start();

    try (RawClient client = new RawClient(sample.address())) {
      RawClient.Response response = client.send("NONSENSE\r\n\r\n").read();

      assertThat(response.status()).isEqualTo(400);
      assertThat(response.header("Connection")).isEqualTo("close");
      assertThat(client.closedByServer()).isTrue();
    }
  }

  @Test
  void sigtermLetsAnInFlightRequestFinishWithConnectionCloseThenExits0() throws Exception {
    sample = SampleProcess.start("--work=500ms");

    try (RawClient client = new RawClient(sample.address())) {
      assertThat(client.get("/warm").status()).isEqualTo(200); // accepted and being served
      client.send("GET /slow HTTP/1.1\r\nHost: s\r\n\r\n");
      Thread.sleep(150);
      sample.terminate();

      sample.awaitLine("draining: stopped accepting, 1 connections open");
      assertThatThrownBy(() -> new RawClient(sample.address()).close())
          .as("no longer accepting")
          .isInstanceOf(ConnectException.class);
      RawClient.Response response = client.read();
      assertThat(response.status()).isEqualTo(200);
      assertThat(response.header("Connection")).isEqualTo("close");
      assertThat(client.closedByServer()).isTrue();
    }
    assertThat(sample.awaitExit(Duration.ofSeconds(10))).isZero();
    assertThat(sample.awaitLine("drained in")).contains("exiting");
  }

  /**
   * The JVM sample, or the light one: the drain is one contract, which bench relies on for both.
   */
  private static SampleProcess bound(String which, String... args) throws Exception {
    if (which.equals("jvm")) {
      return SampleProcess.start(args);
    }
    SampleProcess light =
        SampleProcess.launch(HandOver.NONE, "inet", "", SampleProcess.light(), Map.of(), args);
    light.awaitLine("listening on");
    return light;
  }

  @ParameterizedTest
  @ValueSource(strings = {"jvm", "light"})
  void drainAnswersTheNextRequestOnAKeepAliveConnectionWithConnectionClose(String which)
      throws Exception {
    sample = bound(which, "--idle-close=5s");

    try (RawClient client = new RawClient(sample.address())) {
      assertThat(client.get("/").status()).isEqualTo(200);
      sample.terminate();
      sample.awaitLine("draining");

      RawClient.Response response = client.get("/");
      assertThat(response.status()).isEqualTo(200);
      assertThat(response.header("Connection")).isEqualTo("close");
      assertThat(client.closedByServer()).isTrue();
    }
    assertThat(sample.awaitExit(Duration.ofSeconds(10))).isZero();
  }

  @ParameterizedTest
  @ValueSource(strings = {"jvm", "light"})
  void drainClosesAnIdleKeepAliveConnectionOnlyOnceItWasIdleForIdleClose(String which)
      throws Exception {
    sample = bound(which, "--idle-close=1500ms");

    try (RawClient client = new RawClient(sample.address())) {
      assertThat(client.get("/").status()).isEqualTo(200);
      long idleSince = System.nanoTime();
      sample.terminate();

      assertThat(client.closedByServer()).isTrue();
      long idleMillis = (System.nanoTime() - idleSince) / 1_000_000;
      assertThat(idleMillis).isBetween(1400L, 10_000L);
    }
    assertThat(sample.awaitExit(Duration.ofSeconds(10))).isZero();
  }

  @Test
  void drainGivesUpAtItsCapWhenAConnectionNeverFinishesItsRequest() throws Exception {
    sample = SampleProcess.start("--drain-timeout=1s");

    try (RawClient client = new RawClient(sample.address())) {
      assertThat(client.get("/").status()).isEqualTo(200);
      client.send("GET / HTTP/1.1\r\nHost: "); // and never the rest
      Thread.sleep(100);
      sample.terminate();

      assertThat(sample.awaitLine("drain cut off")).contains("with 1 connections open");
      assertThat(sample.awaitExit(Duration.ofSeconds(10))).isZero();
    }
  }

  @Test
  void adoptsNamedListenersAtFd3AndUpThroughListenFds() throws Exception {
    sample =
        SampleProcess.launch(
            HandOver.LISTEN_FDS,
            "inet",
            "http:admin",
            SampleProcess.jvm(List.of(SampleProcess.FLAG)),
            Map.of());

    assertThat(sample.awaitLine("listening on"))
        .matches(
            "generation 0 pid \\d+ listening on http=127\\.0\\.0\\.1:\\d+ \\(fd 3\\), admin=127\\.0\\.0\\.1:\\d+ \\(fd 4\\)");
    for (var address : sample.addresses) {
      try (RawClient client = new RawClient(address)) {
        assertThat(client.get("/").body()).isEqualTo("generation 0 pid " + sample.pid() + "\n");
      }
    }
    assertThat(sample.stderr()).doesNotContain("bound");
    sample.terminate();
    assertThat(sample.awaitExit(Duration.ofSeconds(10))).isZero();
    sample.awaitLine("drained in");
  }

  @Test
  void adoptsAListenerAtFd0AndStillLogsTheDrain() throws Exception {
    sample =
        SampleProcess.launch(
            HandOver.FD0,
            "inet6",
            "ignored",
            SampleProcess.jvm(List.of(SampleProcess.FLAG)),
            Map.of());

    assertThat(sample.awaitLine("listening on"))
        .contains("stdin=[0:0:0:0:0:0:0:1]:")
        .endsWith("(fd 0)");
    try (RawClient client = new RawClient(sample.address())) {
      assertThat(client.get("/").status()).isEqualTo(200);
    }
    sample.terminate();
    assertThat(sample.awaitExit(Duration.ofSeconds(10))).isZero();
    sample.awaitLine("drained in");
  }

  @Test
  void adoptsAUnixListener() throws Exception {
    sample =
        SampleProcess.launch(
            HandOver.LISTEN_FDS,
            "unix",
            "local",
            SampleProcess.jvm(List.of(SampleProcess.FLAG)),
            Map.of());

    assertThat(sample.awaitLine("listening on")).contains("local=/").endsWith("local.sock (fd 3)");
    try (RawClient client = new RawClient(sample.address())) {
      assertThat(client.get("/").status()).isEqualTo(200);
    }
  }

  @Test
  void refusesListenFdsWithoutTheJvmFlagNamingTheFlag() throws Exception {
    sample =
        SampleProcess.launch(
            HandOver.LISTEN_FDS, "inet", "http", SampleProcess.jvm(List.of()), Map.of());

    assertThat(sample.awaitExit(Duration.ofSeconds(20))).isEqualTo(1);
    assertThat(sample.stderr()).contains("--add-opens java.base/sun.nio.ch=ALL-UNNAMED");
  }

  @Test
  void exitsAtStartWithTheCodeAsked() throws Exception {
    sample =
        SampleProcess.launch(
            HandOver.NONE, "inet", "", SampleProcess.jvm(List.of()), Map.of(), "--exit-at-start=3");

    assertThat(sample.awaitExit(Duration.ofSeconds(20))).isEqualTo(3);
  }

  @Test
  void hangsWithoutEverListening() throws Exception {
    sample =
        SampleProcess.launch(
            HandOver.LISTEN_FDS,
            "inet",
            "http",
            SampleProcess.jvm(List.of(SampleProcess.FLAG)),
            Map.of(),
            "--hang");

    assertThat(sample.nextLine(Duration.ofSeconds(2))).isNull();
    assertThat(sample.process.isAlive()).isTrue();
  }

  @Test
  void startsListeningOnlyAfterTheStartupDelay() throws Exception {
    long begin = System.nanoTime();
    sample = SampleProcess.start("--startup-delay=1s");

    assertThat((System.nanoTime() - begin) / 1_000_000).isGreaterThanOrEqualTo(1000);
  }

  @Test
  void refusesAnUnknownOption() throws Exception {
    sample =
        SampleProcess.launch(
            HandOver.NONE, "inet", "", SampleProcess.jvm(List.of()), Map.of(), "--colour=red");

    assertThat(sample.awaitExit(Duration.ofSeconds(20))).isEqualTo(2);
    assertThat(sample.stderr()).contains("unknown option --colour").contains("usage:");
  }
}
