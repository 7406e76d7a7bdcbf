package dev.baton.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.baton.bench.LoadGenerator;
import dev.baton.bench.LoadReport;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * A Spring Boot app in its normal configuration (module examples-spring: a
 * {@code @SpringBootApplication} with one {@code @RestController}, spring-boot-starter-web on
 * Boot's own Tomcat), with baton-app-tomcat's connectors through {@code
 * TomcatServletWebServerFactory}. It is ready when Boot says it accepts traffic (READY over
 * BATON_CONTROL), and it drains in Boot's shutdown, before Boot stops Tomcat. Redeployed 20 times
 * under connection-per-request and keep-alive load at once, then parked and rolled back twice under
 * the same load: no request may fail.
 */
class SpringBootAppTest {
  @TempDir Path dir;

  /**
   * The app's jar and its runtime class path, side by side: {@code mvn package} puts them there.
   */
  static final Path LIB = Service.ROOT.resolve("examples-spring/target/lib");

  /**
   * 10 in CI, where a Spring Boot generation's start is most of this class's two minutes; the
   * figures in BENCHMARKS.md are from {@code -Dbaton.spring.deploys=20}.
   */
  static final int DEPLOYS = Integer.getInteger("baton.spring.deploys", 10);

  /** Where the JVM's AOT cache is made once for every generation of this class's services. */
  @TempDir static Path cacheDir;

  /**
   * The app's argv, the same JVM flags for the training run as for the generations: an AOT cache
   * serves only the class path and the collector it was made with.
   */
  static List<String> java(List<String> flags, String... args) {
    assertThat(LIB)
        .as("the Spring Boot example, built by mvn package -pl examples-spring")
        .isDirectory();
    var words =
        new ArrayList<>(
            List.of(
                Service.JAVA,
                "-XX:TieredStopAtLevel=1",
                "-XX:+UseSerialGC",
                "-Xss512k",
                "-XX:-UsePerfData"));
    words.addAll(flags);
    // Expanded by java itself: baton never runs a command through a shell.
    words.addAll(List.of("-cp", LIB + "/*", "dev.baton.examples.spring.SpringExample"));
    words.addAll(List.of(args));
    return words;
  }

  static Path aotCache() {
    return cacheDir.resolve("spring-example.aot");
  }

  /**
   * One training run, as Spring Boot documents for JDK 25's AOT cache: the context is refreshed,
   * nothing started, and the JVM writes the classes it loaded and linked. A generation started from
   * the cache starts in about 0.55 of the time (BENCHMARKS.md), and most of a deploy is that start.
   */
  @BeforeAll
  static void trainTheAotCache() throws Exception {
    var log = cacheDir.resolve("training.log");
    var builder =
        new ProcessBuilder(
            java(
                List.of("-XX:AOTCacheOutput=" + aotCache(), "-Dspring.context.exit=onRefresh"),
                "--server.port=0"));
    // As baton starts a java command, so that the cache fits the generations' JVMs.
    builder.environment().put("JDK_JAVA_OPTIONS", "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED");
    var training = builder.redirectErrorStream(true).redirectOutput(log.toFile()).start();
    try {
      assertThat(training.waitFor(120, TimeUnit.SECONDS)).as("the training run ended").isTrue();
    } finally {
      training.destroyForcibly();
    }
    assertThat(training.exitValue()).as(Files.readString(log)).isZero();
    assertThat(aotCache()).as(Files.readString(log)).exists();
  }

  static String config(int parkMax) {
    var command = java(List.of("-XX:AOTCache=" + aotCache()));
    return """
        [app]
        command = %s

        [[listen]]
        name = "http"
        address = "127.0.0.1:0"

        [readiness]
        notify = true
        timeout = "60s"

        [drain]
        timeout = "20s"

        [park]
        max = %d
        """
        .formatted(Service.toml(command), parkMax);
  }

  /** Both loads, bounded in time (ZeroDowntimeTest's 5 minutes) and in count. */
  static LoadGenerator perRequest(int port) {
    return LoadGenerator.start(
        ZeroDowntimeTest.load(port)
            .connectionPerRequest()
            .get("/")
            .connections(8)
            .requests(5_000_000)
            .build());
  }

  static LoadGenerator keepAlive(int port) {
    return LoadGenerator.start(
        ZeroDowntimeTest.load(port)
            .keepAlive()
            .get("/")
            .connections(4)
            .requests(5_000_000)
            .build());
  }

  @Test
  void twentyDeploysUnderConnectionPerRequestAndKeepAliveLoadFailNoRequest() throws Exception {
    // Nothing parked: each deploy drains the generation it replaces, through Boot's shutdown.
    try (var service = Service.start(dir, config(0))) {
      var port = service.port();
      assertThat(AdapterTest.get(port, "/"))
          .as("Boot's Tomcat answers on the handed-over listener")
          .startsWith("generation 1 pid ");
      var perRequest = perRequest(port);
      var keepAlive = keepAlive(port);
      var deploySeconds = new ArrayList<Double>();
      for (int i = 0; i < DEPLOYS; i++) {
        long sent = System.nanoTime();
        var reply = service.deploy();
        deploySeconds.add((System.nanoTime() - sent) / 1e9);
        assertThat(reply.path("ok").asBoolean()).as("deploy %d: %s", i, reply).isTrue();
        Service.sleep(100);
      }
      LoadReport perRequestReport = perRequest.stop();
      LoadReport keepAliveReport = keepAlive.stop();
      System.out.printf(
          "spring boot, %d deploys, each from the command to the promotion: median %.1f s, max"
              + " %.1f s%n",
          DEPLOYS,
          RollbackTest.percentile(deploySeconds, 50),
          RollbackTest.percentile(deploySeconds, 100));
      System.out.printf(
          "spring boot, %d deploys: conn-per-request c=8: %s%n",
          DEPLOYS, perRequestReport.summary());
      System.out.printf(
          "spring boot, %d deploys: keep-alive c=4: %s%n", DEPLOYS, keepAliveReport.summary());
      ZeroDowntimeTest.assertNoFailures(perRequestReport, service);
      ZeroDowntimeTest.assertNoFailures(keepAliveReport, service);
      assertThat(keepAliveReport.connects())
          .as("keep-alive connections closed by the drains were opened again")
          .isGreaterThan(4);
      assertThat(service.status().path("active_generation").asInt()).isEqualTo(DEPLOYS + 1);
      var last =
          AdapterTest.awaitState(service, DEPLOYS, "exited", Duration.ofSeconds(30))
              .path("exit")
              .asString();
      // 143: the JVM's exit after SIGTERM and its shutdown hooks, Boot's among them (so the
      // drain ran), rather than the SIGKILL at [drain] timeout.
      assertThat(last).as("the last drained generation").isEqualTo("exited with status 143");
    }
  }

  @Test
  void deployThenTwoRollbacksResumeTheParkedGenerationsUnderLoadWithoutAFailedRequest()
      throws Exception {
    try (var service = Service.start(dir, config(1))) {
      var port = service.port();
      var perRequest = perRequest(port);
      var keepAlive = keepAlive(port);
      Service.sleep(500);

      RollbackTest.deployAndExpectTheOldOneParked(service);
      Service.sleep(500);
      var resumedMillis = new ArrayList<Double>();
      // Back to 1, which parks 2; then back to 2, which parks 1: each a resume, not a start.
      for (int expected : new int[] {1, 2}) {
        var events = new ArrayList<JsonNode>();
        var reply = service.rollback(events::add);
        assertThat(reply.path("ok").asBoolean()).as("rollback: %s", reply).isTrue();
        assertThat(reply.path("generation").asInt()).isEqualTo(expected);
        var resumed =
            events.stream().filter(e -> e.path("event").asString().equals("resumed")).findFirst();
        assertThat(resumed).as("resumed the parked generation: %s", events).isPresent();
        resumedMillis.add(resumed.get().path("elapsed_ms").asDouble());
        assertThat(AdapterTest.answersFrom(port, 20))
            .as("after the rollback, only the resumed generation answers")
            .containsOnly(expected);
        AdapterTest.awaitState(service, 3 - expected, "parked", Duration.ofSeconds(10));
        Service.sleep(1000);
      }

      LoadReport perRequestReport = perRequest.stop();
      LoadReport keepAliveReport = keepAlive.stop();
      System.out.printf(
          "spring boot, a deploy and two rollbacks: conn-per-request c=8: %s%n",
          perRequestReport.summary());
      System.out.printf(
          "spring boot, a deploy and two rollbacks: keep-alive c=4: %s%n",
          keepAliveReport.summary());
      System.out.printf(
          "spring boot rollback, command to the parked generation accepting (supervisor's"
              + " 'resumed' elapsed_ms): %.2f ms, %.2f ms%n",
          resumedMillis.get(0), resumedMillis.get(1));
      ZeroDowntimeTest.assertNoFailures(perRequestReport, service);
      ZeroDowntimeTest.assertNoFailures(keepAliveReport, service);
    }
  }
}
