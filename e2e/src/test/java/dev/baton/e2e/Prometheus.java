package dev.baton.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Debian's real Prometheus, on loopback, scraping one target every second into a TSDB of its own
 * under the test's directory; asked through its HTTP query API, as a dashboard or an alert would.
 */
final class Prometheus implements AutoCloseable {
  static final Path BINARY = Path.of("/usr/bin/prometheus");
  static final String JOB = "baton";
  private static final JsonMapper JSON = JsonMapper.builder().build();

  final int port;
  private final OwnGroup process;
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  private Prometheus(int port, OwnGroup process) {
    this.port = port;
    this.process = process;
  }

  /** Starts it scraping {@code target} (host:port) every second; returns once it is ready. */
  static Prometheus start(Path dir, String target) throws Exception {
    assertThat(BINARY)
        .as("Prometheus is installed by .ci/run (apt-get install prometheus)")
        .isExecutable();
    Files.createDirectories(dir);
    var config = dir.resolve("prometheus.yml");
    Files.writeString(
        config,
        """
        global:
          scrape_interval: 1s
          scrape_timeout: 1s
          evaluation_interval: 1s
        scrape_configs:
          - job_name: %s
            static_configs:
              - targets: ["%s"]
        """
            .formatted(JOB, target));
    // A port free a moment ago can be taken before Prometheus binds it; then pick another.
    for (int attempt = 1; ; attempt++) {
      int port = HaproxyFleet.freePort();
      var group =
          OwnGroup.start(
              dir,
              "prometheus",
              List.of(
                  BINARY.toString(),
                  "--config.file=" + config,
                  "--storage.tsdb.path=" + dir.resolve("data"),
                  "--web.listen-address=127.0.0.1:" + port,
                  "--log.level=info"),
              Map.of());
      var prometheus = new Prometheus(port, group);
      try {
        prometheus.awaitReady(Duration.ofSeconds(30));
        return prometheus;
      } catch (AssertionError | RuntimeException e) {
        prometheus.close();
        if (attempt < 3 && group.stderrText().contains("address already in use")) {
          continue;
        }
        throw e;
      }
    }
  }

  private void awaitReady(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (!process.process.isAlive()) {
        throw new AssertionError("prometheus exited:\n" + process.stderrText());
      }
      try {
        if (get("/-/ready").statusCode() == 200) {
          return;
        }
      } catch (IOException e) {
        // Not listening yet.
      }
      Thread.sleep(100);
    }
    throw new AssertionError(
        "prometheus was not ready within " + timeout + ":\n" + process.stderrText());
  }

  private HttpResponse<String> get(String pathAndQuery) throws IOException, InterruptedException {
    var request =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + pathAndQuery))
            .timeout(Duration.ofSeconds(5))
            .build();
    return http.send(request, HttpResponse.BodyHandlers.ofString());
  }

  /** An instant query's result: one element per series, each with "metric" and "value". */
  JsonNode query(String promql) throws IOException, InterruptedException {
    var response = get("/api/v1/query?query=" + URLEncoder.encode(promql, StandardCharsets.UTF_8));
    assertThat(response.statusCode()).as("%s: %s", promql, response.body()).isEqualTo(200);
    var body = JSON.readTree(response.body());
    assertThat(body.path("status").asString()).as("%s: %s", promql, body).isEqualTo("success");
    assertThat(body.path("data").path("resultType").asString()).isEqualTo("vector");
    return body.path("data").path("result");
  }

  /** The value of a query that must answer exactly one series. */
  double value(String promql) throws IOException, InterruptedException {
    var result = query(promql);
    assertThat(result.size()).as("series answering %s: %s", promql, result).isEqualTo(1);
    return Double.parseDouble(result.get(0).path("value").get(1).asString());
  }

  /**
   * Waits for a scrape of the target that began after {@code after}, and checks that it read: a
   * scrape's samples carry the time it began, so one that began later saw everything before.
   * Returns the scrape's time.
   */
  Instant awaitScrapeAfter(Instant after, Duration timeout) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    JsonNode last = JSON.missingNode();
    while (System.nanoTime() < deadline) {
      last = query("timestamp(up{job=\"" + JOB + "\"})");
      if (last.size() == 1) {
        var seconds = Double.parseDouble(last.get(0).path("value").get(1).asString());
        var at = Instant.ofEpochMilli(Math.round(seconds * 1000));
        if (at.isAfter(after)) {
          assertThat(value("up{job=\"" + JOB + "\"}"))
              .as("the scrape at %s read /metrics; targets: %s", at, targets())
              .isEqualTo(1.0);
          return at;
        }
      }
      Thread.sleep(200);
    }
    throw new AssertionError(
        "no scrape after "
            + after
            + " within "
            + timeout
            + "; last: "
            + last
            + "; targets: "
            + targets()
            + "\n"
            + process.stderrText());
  }

  /** The targets' state as Prometheus reports it: their health and last error, for messages. */
  String targets() {
    try {
      return JSON.readTree(get("/api/v1/targets").body())
          .path("data")
          .path("activeTargets")
          .toString();
    } catch (IOException | RuntimeException e) {
      return "(no targets: " + e + ")";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "(interrupted)";
    }
  }

  @Override
  public void close() throws IOException, InterruptedException {
    process.close();
  }
}
