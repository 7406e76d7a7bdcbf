package dev.baton.supervisor;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** [metrics]' server over a real loopback socket, in front of a supervisor on the fake OS. */
class MetricsServerTest {
  @TempDir Path dir;
  private Harness harness;
  private MetricsServer server;

  @BeforeEach
  void serve() {
    harness = new Harness(dir);
    harness.start(Harness.BASE + "\n[metrics]\naddress = \"127.0.0.1:0\"\n");
    harness.deployed();
    server = MetricsServer.bind(harness.supervisor);
    server.start();
  }

  @AfterEach
  void close() {
    server.close();
  }

  /**
   * Sends {@code request} from another thread and drives the loop here until the answer is in: the
   * server asks the loop for each answer, and this test's loop runs only when driven.
   */
  private String exchange(String request) throws Exception {
    var answer =
        CompletableFuture.supplyAsync(
            () -> {
              try (var socket =
                  new Socket(server.address().getAddress(), server.address().getPort())) {
                socket.setSoTimeout(10_000);
                socket.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
                return new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
              } catch (IOException e) {
                throw new UncheckedIOException(e);
              }
            });
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!answer.isDone() && System.nanoTime() < deadline) {
      harness.drive();
      Thread.sleep(5);
    }
    return answer.get(1, TimeUnit.SECONDS);
  }

  private static int contentLength(String answer) {
    var length = Pattern.compile("\r\nContent-Length: (\\d+)\r\n").matcher(answer);
    assertThat(length.find()).as(answer).isTrue();
    return Integer.parseInt(length.group(1));
  }

  @Test
  void aHeadIsAnsweredWithTheHeadOfAGetAndNoBody() throws Exception {
    var get = exchange("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
    var head = exchange("HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n");

    assertThat(get).startsWith("HTTP/1.1 200 OK\r\n").contains("\nbaton_deploys_total{");
    int body = get.length() - get.indexOf("\r\n\r\n") - 4;
    assertThat(contentLength(get)).isEqualTo(body);
    assertThat(head)
        .startsWith("HTTP/1.1 200 OK\r\n")
        .contains("\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n")
        .endsWith("\r\n\r\n");
    // The process' own figures (RSS, CPU) may move between the two answers by a digit or so.
    assertThat(contentLength(head)).isBetween(body - 64, body + 64);
  }

  @Test
  void anythingButGetOrHeadIsRefusedAndChangesNothing() throws Exception {
    var post = exchange("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");

    assertThat(post)
        .startsWith("HTTP/1.1 405 ")
        .contains("\r\nAllow: GET, HEAD\r\n")
        .endsWith("only GET: nothing here changes the service\n");
  }

  @Test
  void thePageIsServedWithItsHistory() throws Exception {
    var page = exchange("GET / HTTP/1.1\r\nHost: x\r\n\r\n");

    assertThat(page)
        .startsWith("HTTP/1.1 200 OK\r\n")
        .contains("\r\nContent-Type: text/html; charset=utf-8\r\n")
        .contains("\r\nCache-Control: no-store\r\n")
        .contains("<tr data-kind=\"deploy\" data-result=\"ok\">")
        .contains("<tr data-kind=\"start\" data-result=\"ok\">");
  }

  @Test
  void aLoopThatDoesNotAnswerIsA503NotAClosedConnection() throws Exception {
    // Nothing drives the loop here: the view is never made.
    long began = System.nanoTime();
    String answer;
    try (var socket = new Socket(server.address().getAddress(), server.address().getPort())) {
      socket.setSoTimeout(20_000);
      socket
          .getOutputStream()
          .write("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
      answer = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    }
    long waited = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - began);

    assertThat(answer)
        .startsWith("HTTP/1.1 503 ")
        .contains("\r\nRetry-After: 1\r\n")
        .endsWith("the supervisor's loop did not answer within 5000 ms\n");
    assertThat(waited).isBetween(MetricsServer.LOOP_WAIT.toMillis(), 15_000L);
  }
}
