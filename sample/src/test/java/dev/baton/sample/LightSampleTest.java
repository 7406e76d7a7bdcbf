package dev.baton.sample;

import static org.assertj.core.api.Assertions.assertThat;

import dev.baton.sample.SampleProcess.HandOver;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * light_sample.py as a real process under python3: the HTTP answers and the drain bench relies on
 * when it measures an app that starts in milliseconds, the same as the JVM sample's. The keep-alive
 * drain is tested for both samples in {@link SampleServerTest}.
 */
@Timeout(60)
class LightSampleTest {

  private final List<SampleProcess> started = new java.util.ArrayList<>();

  @AfterEach
  void endThem() {
    started.forEach(SampleProcess::close);
  }

  private SampleProcess launch(
      HandOver handOver, String names, Map<String, String> env, String... args) throws Exception {
    SampleProcess sample =
        SampleProcess.launch(handOver, "inet", names, SampleProcess.light(), env, args);
    started.add(sample);
    return sample;
  }

  private SampleProcess bound(String... args) throws Exception {
    SampleProcess sample = launch(HandOver.NONE, "", Map.of("BATON_GENERATION", "4"), args);
    sample.awaitLine("listening on");
    return sample;
  }

  @Test
  void answersGetHealthzPostAndHeadOnOneKeepAliveConnection() throws Exception {
    SampleProcess sample = bound();

    try (RawClient client = new RawClient(sample.address())) {
      RawClient.Response get = client.get("/anything");
      assertThat(get.status()).isEqualTo(200);
      assertThat(get.body()).isEqualTo("generation 4 pid " + sample.pid() + "\n");
      assertThat(get.header("Connection")).isNull();
      assertThat(client.get("/healthz").body()).isEqualTo("ok");
      RawClient.Response post =
          client.send("POST / HTTP/1.1\r\nHost: s\r\nContent-Length: 5\r\n\r\nhello").read();
      assertThat(post.body()).isEqualTo("generation 4 pid " + sample.pid() + " read 5\n");
      RawClient.Response head = client.send("HEAD / HTTP/1.1\r\nHost: s\r\n\r\n").read(false);
      assertThat(head.status()).isEqualTo(200);
      assertThat(client.get("/").status())
          .as("the connection still carries requests")
          .isEqualTo(200);
    }
  }

  @Test
  void closesHttp10UnlessKeepAliveIsAskedAndMalformedRequestsWith400() throws Exception {
    SampleProcess sample = bound();

    try (RawClient client = new RawClient(sample.address())) {
      assertThat(client.send("GET / HTTP/1.0\r\n\r\n").read().header("Connection"))
          .isEqualTo("close");
      assertThat(client.closedByServer()).isTrue();
    }
    try (RawClient client = new RawClient(sample.address())) {
      RawClient.Response kept =
          client.send("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").read();
      assertThat(kept.header("Connection")).isEqualTo("keep-alive");
      assertThat(client.send("NONSENSE\r\n\r\n").read().status()).isEqualTo(400);
      assertThat(client.closedByServer()).isTrue();
    }
  }

  @Test
  void adoptsNamedListenersThroughListenFdsAndServesEach() throws Exception {
    SampleProcess sample = launch(HandOver.LISTEN_FDS, "http:baton-probe", Map.of());

    assertThat(sample.awaitLine("listening on"))
        .matches(
            "generation 0 pid \\d+ listening on 127\\.0\\.0\\.1:\\d+ \\(http\\), 127\\.0\\.0\\.1:\\d+ \\(baton-probe\\)");
    for (var address : sample.addresses) {
      try (RawClient client = new RawClient(address)) {
        assertThat(client.get("/healthz").body()).isEqualTo("ok");
      }
    }
  }

  @Test
  void drainsOnSigtermAndExits0() throws Exception {
    SampleProcess sample = bound();

    sample.terminate();
    assertThat(sample.awaitLine("draining: stopped accepting, 0 connections open"))
        .startsWith("generation 4 pid");
    assertThat(sample.awaitExit(Duration.ofSeconds(10))).isZero();
    assertThat(sample.awaitLine("drained in")).contains("exiting");
  }

  @Test
  void twoCopiesWithReusePortShareOnePortAndBothAnswer() throws Exception {
    SampleProcess first = bound("--reuse-port");
    int port = ((InetSocketAddress) first.address()).getPort();
    SampleProcess second = launch(HandOver.NONE, "", Map.of(), "--reuse-port", "--port=" + port);
    second.awaitLine("listening on 127.0.0.1:" + port);

    Set<String> answeredBy = new HashSet<>();
    for (int i = 0; i < 200 && answeredBy.size() < 2; i++) {
      try (RawClient client = new RawClient(first.address())) {
        answeredBy.add(client.get("/").body().split(" ")[3].strip());
      }
    }
    assertThat(answeredBy)
        .containsExactlyInAnyOrder(Long.toString(first.pid()), Long.toString(second.pid()));
  }
}
