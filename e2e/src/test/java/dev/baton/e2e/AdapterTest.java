package dev.baton.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.baton.bench.LoadGenerator;
import dev.baton.bench.LoadReport;
import dev.baton.os.Os;
import dev.baton.os.Signal;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import tools.jackson.databind.JsonNode;

/**
 * Each of baton-app's adapters passes the same suite under a real `baton run`, with its example app
 * (module examples) as the generations: it adopts the handed-over listener, becomes ready by READY
 * over BATON_CONTROL and by the HTTP probe on its private listener, is parked at the next deploy
 * without losing a connection and without accepting one more, is resumed by a rollback, and drains
 * on SIGTERM. All under connection-per-request and keep-alive load, which must see no failure.
 */
class AdapterTest {
  @TempDir Path dir;

  enum Adapter {
    JETTY("JettyExample"),
    TOMCAT("TomcatExample"),
    NETTY("NettyExample"),
    NIO("NioExample");

    final String mainClass;

    Adapter(String mainClass) {
      this.mainClass = "dev.baton.examples." + mainClass;
    }
  }

  static String config(Adapter adapter) {
    var command =
        List.of(
            Service.JAVA,
            "-XX:TieredStopAtLevel=1",
            "-XX:+UseSerialGC",
            "-Xss512k",
            "-XX:-UsePerfData",
            "-cp",
            System.getProperty("java.class.path"),
            adapter.mainClass);
    return """
        [app]
        command = %s

        [[listen]]
        name = "http"
        address = "127.0.0.1:0"

        [readiness]
        notify = true
        http = "/healthz"
        timeout = "30s"

        [drain]
        timeout = "15s"

        [park]
        max = 1
        """
        .formatted(Service.toml(command));
  }

  @ParameterizedTest
  @EnumSource(Adapter.class)
  void adoptsBecomesReadyParksResumesAndDrainsUnderLoadWithoutAFailedRequest(Adapter adapter)
      throws Exception {
    suite(adapter, config(adapter));
  }

  /** The same, with the listener handed over as the generation's stdin, inetd style. */
  @ParameterizedTest
  @EnumSource(Adapter.class)
  void theSameWithTheListenerPassedAsFd0(Adapter adapter) throws Exception {
    var config = config(adapter);
    assertThat(config).contains("name = \"http\"\n");
    suite(adapter, config.replace("name = \"http\"\n", "name = \"http\"\npass = \"fd0\"\n"));
  }

  private void suite(Adapter adapter, String config) throws Exception {
    try (var service = Service.start(dir, config)) {
      var port = service.port();
      var first = generation(service, 1);
      assertThat(get(port, "/"))
          .as("adopted the handed-over listener")
          .isEqualTo("generation 1 pid " + first.path("pid").asInt() + "\n");

      var perRequest = ZeroDowntimeTest.connectionPerRequest(port, 8);
      Service.sleep(500);

      var deploy = call(service, "deploy");
      assertThat(deploy.reply().path("ok").asBoolean()).as(deploy.toString()).isTrue();
      assertThat(deploy.event("ready"))
          .as("ready by READY over BATON_CONTROL and by the probe")
          .contains("READY=1")
          .contains("a 2xx from GET /healthz on its probe listener");
      awaitState(service, 1, "parked", Duration.ofSeconds(10));
      var second = generation(service, 2);
      // Started now, its connections are all the active generation's: the rollback parks that one,
      // and the next deploy drains it (park max = 1); both must let them go without losing a
      // request.
      var keptAlive =
          LoadGenerator.start(
              ZeroDowntimeTest.load(port).keepAlive().get("/").connections(4).build());
      Service.sleep(500);

      theParkedGenerationAcceptsNotOneConnection(service, port, second.path("pid").asInt());

      var rollback = call(service, "rollback");
      assertThat(rollback.reply().path("ok").asBoolean()).as(rollback.toString()).isTrue();
      assertThat(rollback.event("resumed")).contains("generation 1 accepts again");
      assertThat(answersFrom(port, 20))
          .as("after the rollback, only the resumed generation answers")
          .containsOnly(1);
      Service.sleep(500);

      awaitState(service, 2, "parked", Duration.ofSeconds(10));
      var redeploy = call(service, "deploy");
      assertThat(redeploy.reply().path("ok").asBoolean()).as(redeploy.toString()).isTrue();
      var drained = awaitState(service, 2, "exited", Duration.ofSeconds(20));
      assertThat(drained.path("exit").asString())
          .as("generation 2, drained by SIGTERM")
          .isEqualTo("exited with status 0");

      var perRequestReport = perRequest.stop();
      var keptAliveReport = keptAlive.stop();
      System.out.printf(
          "%s adapter: connection-per-request %s%n", adapter, perRequestReport.summary());
      System.out.printf("%s adapter: keep-alive %s%n", adapter, keptAliveReport.summary());
      assertNoFailures(perRequestReport);
      assertNoFailures(keptAliveReport);
      assertThat(keptAliveReport.connects())
          .as("keep-alive connections closed by the drain were opened again")
          .isGreaterThan(4);
    }
  }

  /**
   * Stops the active generation (SIGSTOP) so that only the parked one could accept, connects, and
   * checks that no answer comes until the active one is continued, and then from the active one:
   * the connection waited in the shared queue.
   */
  private static void theParkedGenerationAcceptsNotOneConnection(
      Service service, int port, int activePid) throws Exception {
    var os = Os.linux();
    assertThat(os.signalGroup(activePid, Signal.STOP)).isTrue();
    awaitStopped(activePid);
    String late;
    try (var channel = SocketChannel.open(new InetSocketAddress("127.0.0.1", port))) {
      channel.write(
          StandardCharsets.US_ASCII.encode(
              "GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"));
      var answer = CompletableFuture.supplyAsync(() -> readAll(channel));
      try {
        var early = answer.get(1500, TimeUnit.MILLISECONDS);
        throw new AssertionError("answered while the active generation was stopped: " + early);
      } catch (TimeoutException expected) {
        // Nobody accepted it: the parked generation did not.
      } finally {
        os.signalGroup(activePid, Signal.CONT);
      }
      late = answer.get(10, TimeUnit.SECONDS);
    }
    assertThat(late)
        .as("answered once continued, by the active generation")
        .endsWith("generation 2 pid " + activePid + "\n");
  }

  /** SIGSTOP takes effect thread by thread: until every thread shows T, one may still accept. */
  private static void awaitStopped(int pid) throws IOException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (System.nanoTime() - deadline < 0) {
      try (var tasks = Files.list(Path.of("/proc/" + pid + "/task"))) {
        if (tasks.allMatch(AdapterTest::stopped)) {
          return;
        }
      }
      Service.sleep(5);
    }
    throw new AssertionError("pid " + pid + " did not stop within 5 s of SIGSTOP");
  }

  private static boolean stopped(Path task) {
    try {
      var stat = Files.readString(task.resolve("stat"));
      var state = stat.charAt(stat.lastIndexOf(')') + 2);
      return state == 'T' || state == 't';
    } catch (IOException e) {
      return true; // the thread has ended
    }
  }

  private static String readAll(SocketChannel channel) {
    var out = new StringBuilder();
    var buffer = ByteBuffer.allocate(4096);
    try {
      while (channel.read(buffer) >= 0) {
        out.append(StandardCharsets.US_ASCII.decode(buffer.flip()));
        buffer.clear();
      }
    } catch (IOException e) {
      throw new AssertionError("the connection failed: " + e, e);
    }
    return out.toString();
  }

  /** The body of {@code GET path} on a new connection. */
  static String get(int port, String path) throws IOException {
    try (var channel = SocketChannel.open(new InetSocketAddress("127.0.0.1", port))) {
      channel.write(
          StandardCharsets.US_ASCII.encode(
              "GET " + path + " HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"));
      var response = readAll(channel);
      assertThat(response).startsWith("HTTP/1.1 200");
      return response.substring(response.indexOf("\r\n\r\n") + 4);
    }
  }

  /** Which generations answered {@code count} requests, each on a new connection. */
  static List<Integer> answersFrom(int port, int count) throws IOException {
    var generations = new ArrayList<Integer>();
    for (int i = 0; i < count; i++) {
      generations.add(Integer.parseInt(get(port, "/").split(" ")[1]));
    }
    return generations;
  }

  record Call(JsonNode reply, List<JsonNode> events) {
    String event(String step) {
      return events.stream()
          .filter(e -> e.path("event").asString().equals(step))
          .findFirst()
          .map(e -> e.path("detail").asString())
          .orElse(
              "(no "
                  + step
                  + " event; there were "
                  + events.stream().map(e -> e.path("event").asString()).toList()
                  + ")");
    }
  }

  static Call call(Service service, String command) {
    var events = new ArrayList<JsonNode>();
    var reply = Wire.call(service.dir.resolve("baton.sock"), Wire.request(command), events::add);
    return new Call(reply, events);
  }

  static JsonNode generation(Service service, int number) {
    for (var generation : service.status().path("generations")) {
      if (generation.path("number").asInt() == number) {
        return generation;
      }
    }
    throw new AssertionError("no generation " + number + " in " + service.status());
  }

  static JsonNode awaitState(Service service, int number, String state, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() - deadline < 0) {
      var generation = generation(service, number);
      if (generation.path("state").asString().equals(state)) {
        return generation;
      }
      Service.sleep(50);
    }
    throw new AssertionError(
        "generation "
            + number
            + " was not "
            + state
            + " within "
            + timeout
            + ":\n"
            + service.logText());
  }

  static void assertNoFailures(LoadReport report) {
    assertThat(report.failed())
        .as("failed requests: %s; first failures: %s", report.failures(), report.failureMessages())
        .isZero();
    assertThat(report.requests()).as("requests served").isGreaterThan(200);
  }
}
