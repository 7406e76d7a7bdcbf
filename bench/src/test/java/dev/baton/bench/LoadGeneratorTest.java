package dev.baton.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class LoadGeneratorTest {

  private static Load.Builder load(TestServer server, boolean keepAlive) {
    var builder =
        Load.to(server.address()).connections(4).requests(200).timeout(Duration.ofSeconds(5));
    return keepAlive ? builder.keepAlive() : builder.connectionPerRequest();
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @AfterEach
  void everyGeneratorThreadHasEnded() {
    assertThat(Thread.getAllStackTraces().keySet())
        .noneMatch(thread -> thread.getName().startsWith("baton-bench-"));
  }

  @ParameterizedTest(name = "keepAlive={0}")
  @ValueSource(booleans = {true, false})
  void countsEveryRequestOkAgainstACorrectServer(boolean keepAlive) throws Exception {
    try (var server = TestServer.ok()) {
      var report = LoadGenerator.run(load(server, keepAlive).build());

      assertThat(report.requests()).isEqualTo(200);
      assertThat(report.ok()).isEqualTo(200);
      assertThat(report.failed()).isZero();
      assertThat(report.statuses()).isEqualTo(Map.of(200, 200L));
      assertThat(server.requests()).isEqualTo(200);
      assertThat(report.connects()).isEqualTo(server.accepted());
      if (keepAlive) {
        assertThat(report.connects()).isEqualTo(4);
      } else {
        assertThat(report.connects()).isEqualTo(200);
      }
    }
  }

  @ParameterizedTest(name = "keepAlive={0}")
  @ValueSource(booleans = {true, false})
  void postBodiesArriveWhole(boolean keepAlive) throws Exception {
    byte[] body = new byte[1024];
    Arrays.fill(body, (byte) 'b');
    body[0] = 'a';
    body[1023] = 'z';
    try (var server =
        TestServer.start(
            exchange -> {
              boolean whole = exchange.method.equals("POST") && Arrays.equals(exchange.body, body);
              exchange.respond(whole ? 200 : 400, whole ? "thanks" : "bad body");
            })) {
      var report = LoadGenerator.run(load(server, keepAlive).post("/upload", body).build());

      assertThat(report.ok()).isEqualTo(200);
      assertThat(report.failed()).isZero();
    }
  }

  @Test
  void aClosedPortCountsEveryRequestAsRefused() throws Exception {
    int port;
    try (var socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = socket.getLocalPort();
    }
    var report =
        LoadGenerator.run(
            Load.to(new InetSocketAddress(InetAddress.getLoopbackAddress(), port))
                .connections(2)
                .requests(50)
                .build());

    assertThat(report.requests()).isEqualTo(50);
    assertThat(report.failed(FailureKind.REFUSED)).isEqualTo(50);
    assertThat(report.failureMessages()).as("the first few only").hasSize(Tally.MESSAGES);
    assertThat(report.failureMessages().getFirst())
        .startsWith("REFUSED after 0 bytes on request ")
        .contains("refused");
  }

  @ParameterizedTest(name = "keepAlive={0}")
  @ValueSource(booleans = {true, false})
  void aServerThatResetsRightAfterReadingTheRequestCountsReset(boolean keepAlive) throws Exception {
    try (var server = TestServer.start(TestServer.Exchange::reset)) {
      var report = LoadGenerator.run(load(server, keepAlive).connections(1).requests(5).build());

      assertThat(report.failed(FailureKind.RESET)).isEqualTo(5);
      assertThat(report.failed()).isEqualTo(5);
    }
  }

  @Test
  void aServerThatClosesRightAfterReadingTheRequestCountsReset() throws Exception {
    try (var server = TestServer.start(TestServer.Exchange::close)) {
      var report = LoadGenerator.run(load(server, true).connections(1).requests(5).build());

      assertThat(report.failed(FailureKind.RESET)).isEqualTo(5);
      assertThat(report.failureMessages())
          .first()
          .asString()
          .startsWith("RESET after 0 bytes on request 1 at +0.");
    }
  }

  @Test
  void aServerThatClosesAKeptAliveConnectionAfterOurRequestCountsReset() throws Exception {
    try (var server =
        TestServer.start(
            exchange -> {
              if (exchange.onConnection == 3) {
                exchange.close(); // it read the request, then went away without answering
              } else {
                exchange.respond(200, "hello");
              }
            })) {
      var report = LoadGenerator.run(load(server, true).connections(1).requests(9).build());

      assertThat(report.ok()).isEqualTo(6);
      assertThat(report.failed(FailureKind.RESET)).isEqualTo(3);
      assertThat(report.failureMessages())
          .first()
          .asString()
          .contains("(request 3 on a kept-alive connection)");
    }
  }

  @Test
  void aResponseShortOfItsContentLengthCountsShort() throws Exception {
    try (var server =
        TestServer.start(
            exchange -> {
              exchange.write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten b");
              exchange.close();
            })) {
      var report = LoadGenerator.run(load(server, true).connections(1).requests(5).build());

      assertThat(report.failed(FailureKind.SHORT)).isEqualTo(5);
      assertThat(report.failureMessages()).first().asString().startsWith("SHORT after 50 bytes");
    }
  }

  @Test
  void aChunkedResponseCutBeforeItsLastChunkCountsShort() throws Exception {
    try (var server =
        TestServer.start(
            exchange -> {
              exchange.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
              exchange.close();
            })) {
      var report = LoadGenerator.run(load(server, true).connections(1).requests(5).build());

      assertThat(report.failed(FailureKind.SHORT)).isEqualTo(5);
    }
  }

  @Test
  void aServerThatNeverAnswersCountsTimeouts() throws Exception {
    try (var server = TestServer.start(exchange -> {})) {
      long start = System.nanoTime();
      var report =
          LoadGenerator.run(
              load(server, true)
                  .connections(2)
                  .requests(4)
                  .timeout(Duration.ofMillis(200))
                  .build());

      assertThat(report.failed(FailureKind.TIMEOUT)).isEqualTo(4);
      assertThat(Duration.ofNanos(System.nanoTime() - start))
          .isBetween(Duration.ofMillis(400), Duration.ofSeconds(3));
      report.forEachRequest(
          (startMicros, latencyMicros, failure) -> {
            assertThat(failure).isEqualTo(FailureKind.TIMEOUT);
            assertThat(latencyMicros)
                .as("never before the timeout")
                .isBetween(200_000L, 1_500_000L);
          });
    }
  }

  @Test
  void non2xxResponsesAreFailuresCountedByStatus() throws Exception {
    try (var server =
        TestServer.start(
            exchange -> {
              int status = exchange.number % 4 == 0 ? 503 : exchange.number % 4 == 1 ? 404 : 200;
              exchange.respond(status, "status " + status);
            })) {
      var report = LoadGenerator.run(load(server, true).connections(1).requests(40).build());

      assertThat(report.ok()).isEqualTo(20);
      assertThat(report.failed(FailureKind.NON_2XX)).isEqualTo(20);
      assertThat(report.statuses()).isEqualTo(Map.of(200, 20L, 404, 10L, 503, 10L));
      assertThat(report.summary()).contains("NON_2XX 20").contains("404 x10").contains("503 x10");
    }
  }

  @Test
  void countsTheOkAnswersByTheirBodyOnlyWhenAskedTo() throws Exception {
    try (var server =
        TestServer.start(
            exchange -> {
              int which = (int) (exchange.number % 4);
              exchange.respond(which == 3 ? 503 : 200, "server " + which + " " + "x".repeat(100));
            })) {
      var counted = LoadGenerator.run(load(server, true).requests(80).countAnswers().build());
      var skipped = LoadGenerator.run(load(server, true).requests(80).build());

      var head = "x".repeat(Load.ANSWER_BYTES - "server 0 ".length());
      assertThat(counted.answers())
          .as("the 503s are failures, not answers")
          .isEqualTo(
              Map.of("server 0 " + head, 20L, "server 1 " + head, 20L, "server 2 " + head, 20L));
      assertThat(counted.ok()).isEqualTo(60);
      assertThat(skipped.answers()).isEmpty();
    }
  }

  @ParameterizedTest(name = "keepAlive={0}")
  @ValueSource(booleans = {true, false})
  void chunkedResponsesAreReadToTheirEnd(boolean keepAlive) throws Exception {
    try (var server =
        TestServer.start(
            exchange -> {
              exchange.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
              exchange.write("5;name=value\r\nhello\r\n");
              exchange.write("1");
              exchange.write("0\r\n0123456789ABCDEF\r");
              exchange.write("\n0\r\nTrailer: yes\r\n\r\n");
            })) {
      var report = LoadGenerator.run(load(server, keepAlive).requests(100).build());

      assertThat(report.ok()).isEqualTo(100);
      assertThat(report.failed()).isZero();
      if (keepAlive) {
        assertThat(report.connects()).isEqualTo(4);
      }
    }
  }

  @Test
  void aResponseThatIsNotHttpCountsMalformed() throws Exception {
    try (var server = TestServer.start(exchange -> exchange.write("SSH-2.0-OpenSSH_9.2\r\n"))) {
      var report = LoadGenerator.run(load(server, true).connections(1).requests(3).build());

      assertThat(report.failed(FailureKind.MALFORMED)).isEqualTo(3);
      assertThat(report.failureMessages())
          .first()
          .asString()
          .contains("not an HTTP/1.x status line");
    }
  }

  @Test
  void keepAliveReconnectsWhenTheServerSaysConnectionCloseWithoutFailing() throws Exception {
    try (var server =
        TestServer.start(
            exchange -> {
              if (exchange.onConnection % 3 == 0) {
                exchange.respond(200, "bye", "Connection: close");
                exchange.close();
              } else {
                exchange.respond(200, "hello");
              }
            })) {
      var report = LoadGenerator.run(load(server, true).connections(2).requests(60).build());

      assertThat(report.ok()).isEqualTo(60);
      assertThat(report.failed()).isZero();
      assertThat(report.connects()).isGreaterThanOrEqualTo(20).isEqualTo(server.accepted());
    }
  }

  @Test
  void aServerClosingAnIdleKeepAliveConnectionIsNoFailure() throws Exception {
    // The server closes each connection right after its response, with no "Connection: close";
    // the pause keeps the client idle until the close has surely arrived.
    try (var server =
        TestServer.start(
            exchange -> {
              exchange.respond(200, "hello");
              exchange.close();
            })) {
      var report =
          LoadGenerator.run(
              load(server, true).connections(2).requests(10).pause(Duration.ofMillis(100)).build());

      assertThat(report.ok()).isEqualTo(10);
      assertThat(report.failed()).isZero();
      assertThat(report.connects()).isEqualTo(10);
    }
  }

  @Test
  void aServerResettingAnIdleKeepAliveConnectionIsNoFailure() throws Exception {
    try (var server =
        TestServer.start(
            exchange -> {
              exchange.respond(200, "hello");
              sleep(20); // so that the RST cannot overtake the response
              exchange.reset();
            })) {
      var report =
          LoadGenerator.run(
              load(server, true).connections(2).requests(10).pause(Duration.ofMillis(100)).build());

      assertThat(report.ok()).isEqualTo(10);
      assertThat(report.failed()).isZero();
    }
  }

  @Test
  void sendsExactlyTheRequestCountAndNoMore() throws Exception {
    try (var server = TestServer.ok()) {
      var report =
          LoadGenerator.run(load(server, true).connections(8).threads(2).requests(1000).build());

      assertThat(report.requests()).isEqualTo(1000);
      assertThat(server.requests()).isEqualTo(1000);
      assertThat(report.timelineSize()).isEqualTo(1000);
    }
  }

  @Test
  void endsByItselfAfterItsDuration() throws Exception {
    try (var server = TestServer.ok()) {
      long start = System.nanoTime();
      var report =
          LoadGenerator.run(
              Load.to(server.address()).connections(2).duration(Duration.ofMillis(300)).build());
      var elapsed = Duration.ofNanos(System.nanoTime() - start);

      assertThat(elapsed).isBetween(Duration.ofMillis(300), Duration.ofSeconds(5));
      assertThat(report.duration()).isBetween(Duration.ofMillis(300), elapsed);
      assertThat(report.requests()).isPositive().isEqualTo(server.requests());
      assertThat(report.failed()).isZero();
    }
  }

  @Test
  void stopReturnsThePartialReport() throws Exception {
    try (var server = TestServer.ok()) {
      var generator =
          LoadGenerator.start(
              Load.to(server.address()).connections(2).duration(Duration.ofSeconds(60)).build());
      await().atMost(Duration.ofSeconds(10)).until(() -> server.requests() >= 100);

      long start = System.nanoTime();
      var report = generator.stop();

      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(4));
      assertThat(report.requests()).isGreaterThanOrEqualTo(100).isEqualTo(server.requests());
      assertThat(report.failed()).isZero();
      assertThat(report.duration()).isLessThan(Duration.ofSeconds(30));
      assertThat(generator.report()).isCompletedWithValue(report);
      assertThat(generator.stop()).isSameAs(report);
    }
  }

  @Test
  void oneConnectionSendsOneRequestAtATime() throws Exception {
    try (var server = TestServer.ok()) {
      var report = LoadGenerator.run(load(server, false).connections(1).requests(300).build());

      assertThat(report.ok()).isEqualTo(300);
      assertThat(server.maxInFlight()).isEqualTo(1);
    }
  }

  @Test
  void loadsTheIpv6Loopback() throws Exception {
    var ipv6Loopback = InetAddress.getByName("::1");
    try (var probe = new ServerSocket(0, 1, ipv6Loopback)) {
      assumeTrue(probe.isBound());
    } catch (IOException e) {
      assumeTrue(false, "no IPv6 loopback here: " + e.getMessage());
    }
    try (var server = TestServer.start(ipv6Loopback, exchange -> exchange.respond(200, "hello"))) {
      var report =
          LoadGenerator.run(Load.to("[::1]:" + server.address().getPort()).requests(100).build());

      assertThat(report.ok()).isEqualTo(100);
    }
  }

  @Test
  void theTimelineHasEveryRequestWithItsOutcome() throws Exception {
    try (var server =
        TestServer.start(
            exchange -> exchange.respond(exchange.number % 10 == 0 ? 503 : 200, "x"))) {
      var report = LoadGenerator.run(load(server, true).connections(2).requests(500).build());

      var ok = new AtomicLong();
      var failed = new AtomicLong();
      long durationMicros = report.duration().toNanos() / 1000;
      report.forEachRequest(
          (startMicros, latencyMicros, failure) -> {
            assertThat(startMicros + latencyMicros).isBetween(0L, durationMicros);
            (failure == null ? ok : failed).incrementAndGet();
          });
      assertThat(ok.get()).isEqualTo(450).isEqualTo(report.ok());
      assertThat(failed.get()).isEqualTo(50);
      assertThat(Arrays.stream(report.okPerSecond()).sum()).isEqualTo(450);
      assertThat(Arrays.stream(report.failedPerSecond()).sum()).isEqualTo(50);
      assertThat(report.latencyPercentile(50))
          .isPositive()
          .isLessThanOrEqualTo(report.latencyMax());
    }
  }

  @Test
  void theTimelineStopsAtItsLimitButTheCountsDoNot() throws Exception {
    try (var server = TestServer.ok()) {
      var report =
          LoadGenerator.run(
              load(server, true)
                  .connections(2)
                  .threads(2)
                  .requests(300)
                  .timelineLimit(100)
                  .build());

      assertThat(report.ok()).isEqualTo(300);
      // The limit is shared out between the workers, and a worker that happens to send fewer
      // requests than its share leaves part of it unused: at most the limit, never more.
      assertThat(report.timelineSize()).isBetween(50L, 100L);
      assertThat(report.timelineSize() + report.timelineDropped()).isEqualTo(300);
    }
  }

  @Test
  void theSummarySaysWhatHappened() throws Exception {
    try (var server = TestServer.ok()) {
      var report = LoadGenerator.run(load(server, true).requests(100).build());

      assertThat(report.toString())
          .startsWith("100 requests in ")
          .contains(" req/s: 100 ok, 0 failed. Latency mean ")
          .contains("p99.9")
          .endsWith("4 connections.");
    }
  }
}
