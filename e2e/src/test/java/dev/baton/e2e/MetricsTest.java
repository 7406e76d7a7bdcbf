package dev.baton.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * [metrics] as an operator's Prometheus sees it: Debian's real Prometheus scrapes the supervisor's
 * /metrics every second while it deploys, fails a deploy and rolls back, and its query API then
 * answers exactly those counts.
 */
class MetricsTest {
  @TempDir Path dir;

  @Test
  void prometheusCountsFiveDeploysOneFailedDeployAndOneRollbackExactly() throws Exception {
    var config = Service.lightSampleConfig("[metrics]", "address = \"127.0.0.1:0\"");
    try (var service = Service.start(dir, config);
        var prometheus = Prometheus.start(dir.resolve("prometheus"), service.metricsAddress())) {
      // Scraped once before anything happens: the first start is counted, no deploy yet.
      prometheus.awaitScrapeAfter(Instant.now(), Duration.ofSeconds(20));
      assertThat(prometheus.query("baton_deploys_total{kind=\"deploy\"}")).isEmpty();
      assertThat(prometheus.value("baton_deploys_total{kind=\"start\",result=\"ok\"}"))
          .isEqualTo(1);

      for (int i = 0; i < 5; i++) {
        var reply = service.deploy();
        assertThat(reply.path("ok").asBoolean()).as("deploy %d: %s", i, reply).isTrue();
      }
      // A version that exits before it is ready: killed, never promoted, generation 6 serves on.
      var failed = service.deploy(List.of("/usr/bin/python3", "-S", "-c", "raise SystemExit(3)"));
      assertThat(failed.path("ok").asBoolean()).as(failed.toString()).isFalse();
      assertThat(failed.path("error").asString()).contains("generation 7").contains("exit");
      var rollback = service.rollback(event -> {});
      assertThat(rollback.path("ok").asBoolean()).as(rollback.toString()).isTrue();
      var status = service.status();
      var lastEvent = Instant.now();

      var scraped = prometheus.awaitScrapeAfter(lastEvent, Duration.ofSeconds(20));
      double deploysOk = prometheus.value("baton_deploys_total{kind=\"deploy\",result=\"ok\"}");
      double deploysFailed =
          prometheus.value("baton_deploys_total{kind=\"deploy\",result=\"failed\"}");
      double rollbacks = prometheus.value("sum(baton_deploys_total{kind=\"rollback\"})");
      double deployDurations =
          prometheus.value("baton_deploy_duration_seconds_count{kind=\"deploy\"}");
      System.out.printf(
          "Prometheus, scraping every 1 s: the first scrape after the last event %d ms after it;"
              + " deploys ok %s, failed %s, rollbacks %s, deploy durations counted %s; mean deploy"
              + " %.1f ms, rollback %.1f ms (baton_deploy_duration_seconds)%n",
          Duration.between(lastEvent, scraped).toMillis(),
          deploysOk,
          deploysFailed,
          rollbacks,
          deployDurations,
          1000
              * prometheus.value(
                  "baton_deploy_duration_seconds_sum{kind=\"deploy\"}"
                      + " / baton_deploy_duration_seconds_count{kind=\"deploy\"}"),
          1000 * prometheus.value("baton_deploy_duration_seconds_sum{kind=\"rollback\"}"));

      assertThat(deploysOk).as("deploys that ended ok").isEqualTo(5);
      assertThat(deploysFailed).as("deploys that failed").isEqualTo(1);
      assertThat(rollbacks).as("rollbacks").isEqualTo(1);
      assertThat(
              prometheus.value(
                  "baton_deploys_total{kind=\"rollback\",result=\"ok\",trigger=\"manual\"}"))
          .as("the rollback ended ok, asked for by hand")
          .isEqualTo(1);
      assertThat(deployDurations).as("deploy durations observed, the failed one too").isEqualTo(6);
      assertThat(prometheus.value("baton_deploy_duration_seconds_count{kind=\"rollback\"}"))
          .isEqualTo(1);
      assertThat(prometheus.value("baton_deploys_total{kind=\"start\",result=\"ok\"}"))
          .as("the first start, counted once")
          .isEqualTo(1);
      assertThat(prometheus.value("baton_active_generation"))
          .as("the active generation, as status says it")
          .isEqualTo(status.path("active_generation").asInt());
    }
  }
}
