package dev.baton.haproxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.baton.protocol.Codec;
import dev.baton.protocol.DeployEvent;
import dev.baton.protocol.DeployKind;
import dev.baton.protocol.DeployStep;
import dev.baton.protocol.Reply;
import dev.baton.protocol.Request;
import dev.baton.protocol.Service;
import dev.baton.protocol.Status;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A rollout's view of a remote supervisor, against a fake remote API that answers in the codec's
 * lines.
 */
class RemoteApiHostTest {
  private static final Status STATUS =
      new Status(
          7,
          Optional.of(1),
          false,
          Optional.empty(),
          List.of(),
          List.of(
              new Status.GenerationStatus(
                  1,
                  "active",
                  70,
                  List.of("./server"),
                  Instant.EPOCH,
                  Optional.of(Instant.EPOCH),
                  Optional.of(Instant.EPOCH),
                  Optional.empty(),
                  "READY from baton-app",
                  Optional.empty(),
                  "")),
          List.of(new Status.ListenerStatus("http", "0.0.0.0:8080", "fd", 3)),
          List.of(
              new Status.HistoryEntry(Instant.EPOCH, DeployKind.START, 1, Optional.empty(), "")));

  private HttpServer server;
  private final Map<String, String> bodies = new ConcurrentHashMap<>();
  private final Map<String, Answer> answers = new ConcurrentHashMap<>();

  private record Answer(int code, List<String> lines) {}

  @BeforeEach
  void start() throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 8);
    server.createContext("/", this::answer);
    server.start();
  }

  @AfterEach
  void stop() {
    server.stop(0);
  }

  private void answer(HttpExchange exchange) throws IOException {
    try (exchange) {
      var path = exchange.getRequestURI().getPath();
      bodies.put(
          path, new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
      var answer =
          exchange.getRequestHeaders().getFirst("Authorization").equals("Bearer secret")
              ? answers.get(path)
              : new Answer(
                  401, List.of(Codec.encode(new Reply.Failed("missing or wrong bearer token"))));
      var bytes = (String.join("\n", answer.lines()) + "\n").getBytes(StandardCharsets.UTF_8);
      exchange.sendResponseHeaders(answer.code(), bytes.length);
      exchange.getResponseBody().write(bytes);
    }
  }

  private RemoteApiHost host(String token) {
    var url = "http://127.0.0.1:" + server.getAddress().getPort();
    return new RemoteApiHost(url, URI.create(url), token, Duration.ofSeconds(5));
  }

  @Test
  void statusBringsTheServiceAlong() {
    answers.put(
        "/v1/status",
        new Answer(
            200,
            List.of(
                Codec.encode(
                    new Reply.StatusReply(STATUS),
                    new Service(Optional.of("/healthz"), Optional.of("[::1]:9000"))))));
    var host = host("secret");
    assertThat(host.status()).isEqualTo(STATUS);
    assertThat(host.service().flatMap(Service::readinessHttp)).contains("/healthz");
    assertThat(host.agent()).contains(new InetSocketAddress("::1", 9000));
  }

  @Test
  void aDeploySendsTheRequestAndRelaysEachEvent() throws Exception {
    var promoted =
        new DeployEvent(DeployStep.PROMOTED, 2, 71, Duration.ofMillis(40), "replaces generation 1");
    var drained =
        new DeployEvent(
            DeployStep.DRAINED, 1, 70, Duration.ofMillis(90), "generation 1 exited with status 0");
    answers.put(
        "/v1/deploy",
        new Answer(
            200,
            List.of(
                Codec.encode(promoted),
                Codec.encode(drained),
                Codec.encode(new Reply.Done(2, 71)))));
    var events = new ArrayList<DeployEvent>();

    var done =
        host("secret")
            .deploy(
                List.of("./server", "--v2"),
                Map.of("MODE", "v2"),
                Duration.ofSeconds(5),
                events::add);

    assertThat(done).isEqualTo(new Reply.Done(2, 71));
    assertThat(events).containsExactly(promoted, drained);
    assertThat(bodies.get("/v1/deploy"))
        .isEqualTo(
            Codec.encode(
                new Request.Deploy(
                    Optional.of(List.of("./server", "--v2")), Map.of("MODE", "v2"), true)));
  }

  @Test
  void aRefusalNamesTheHostAndTheSupervisorsReason() {
    answers.put(
        "/v1/rollback",
        new Answer(200, List.of(Codec.encode(new Reply.Failed("nothing to roll back to")))));
    assertThatThrownBy(() -> host("secret").rollback("bad canary", Duration.ofSeconds(5), e -> {}))
        .isInstanceOfSatisfying(HostException.class, e -> assertThat(e.unreachable()).isFalse())
        .hasMessageEndingWith("refused 'rollback': nothing to roll back to");
  }

  @Test
  void aWrongTokenSaysWhichFileToPass() {
    assertThatThrownBy(() -> host("guess").status())
        .isInstanceOf(HostException.class)
        .hasMessageContaining(
            "refused the bearer token (HTTP 401): missing or wrong bearer token; pass --token-file");
  }

  @Test
  void somethingElseAtTheUrlIsNamed() {
    answers.put("/v1/status", new Answer(200, List.of("<html>It works!</html>")));
    assertThatThrownBy(() -> host("secret").status())
        .isInstanceOfSatisfying(HostException.class, e -> assertThat(e.unreachable()).isTrue())
        .hasMessageContaining(
            "answered HTTP 200 with something that is not the control protocol: '<html>It works!</html>'");
  }

  @Test
  void aRemoteApiAtItsConnectionLimitIsNamed() {
    answers.put("/v1/status", new Answer(503, List.of()));
    assertThatThrownBy(() -> host("secret").status())
        .isInstanceOfSatisfying(HostException.class, e -> assertThat(e.unreachable()).isTrue())
        .hasMessageContaining("is at its connection limit (HTTP 503)");
  }
}
