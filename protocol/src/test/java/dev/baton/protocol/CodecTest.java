package dev.baton.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Every message both ways, with the exact lines the supervisor and its clients exchange. */
class CodecTest {
  private static final Instant T0 = Instant.parse("2025-03-01T12:00:00.125Z");

  static Status status() {
    return new Status(
        4242,
        Optional.of(3),
        false,
        Optional.empty(),
        List.of(2),
        List.of(
            new Status.GenerationStatus(
                2,
                "parked",
                101,
                List.of("./server", "--v1"),
                T0,
                Optional.of(T0.plusSeconds(1)),
                Optional.of(T0.plusSeconds(2)),
                Optional.empty(),
                "http GET /healthz: 200",
                Optional.empty(),
                ""),
            new Status.GenerationStatus(
                3,
                "active",
                102,
                List.of("./server", "--v2"),
                T0.plusSeconds(60),
                Optional.of(T0.plusSeconds(61)),
                Optional.of(T0.plusSeconds(62)),
                Optional.empty(),
                "READY from baton-app",
                Optional.empty(),
                "")),
        List.of(
            new Status.ListenerStatus("http", "0.0.0.0:8080", "fd", 3),
            new Status.ListenerStatus("admin", "127.0.0.1:9090", "fd", 4, List.of(2, 3), true)),
        List.of(
            new Status.HistoryEntry(T0.plusSeconds(2), DeployKind.START, 2, Optional.empty(), ""),
            new Status.HistoryEntry(T0.plusSeconds(62), DeployKind.DEPLOY, 3, Optional.of(2), "")));
  }

  @Test
  void requestsGoOverTheWireAsTheSupervisorReadsThem() throws MalformedRequest {
    var deploy =
        new Request.Deploy(Optional.of(List.of("./server", "--v2")), Map.of("MODE", "blue"), true);
    assertThat(Codec.encode(deploy))
        .isEqualTo(
            "{\"command\":\"deploy\",\"argv\":[\"./server\",\"--v2\"],\"env\":{\"MODE\":\"blue\"},\"wait\":true}");
    assertThat(Codec.encode(new Request.Deploy(Optional.empty(), Map.of(), false)))
        .isEqualTo("{\"command\":\"deploy\",\"env\":{},\"wait\":false}");
    assertThat(Codec.encode(new Request.Rollback(Optional.of("bad canary"), false)))
        .isEqualTo("{\"command\":\"rollback\",\"wait\":false,\"reason\":\"bad canary\"}");
    assertThat(Codec.encode(new Request.GetStatus())).isEqualTo("{\"command\":\"status\"}");
    assertThat(Codec.encode(new Request.ReopenLogs())).isEqualTo("{\"command\":\"reopen-logs\"}");

    for (var request :
        List.of(
            deploy,
            new Request.Deploy(Optional.empty(), Map.of(), false),
            new Request.Rollback(Optional.empty(), true),
            new Request.Rollback(Optional.of("why"), false),
            new Request.GetStatus(),
            new Request.Stop(),
            new Request.Upgrade(),
            new Request.ReopenLogs())) {
      assertThat(Codec.decodeRequest(Codec.encode(request)))
          .as(Codec.encode(request))
          .isEqualTo(request);
    }
  }

  @Test
  void requestsMayLeaveOutWhatTheyDoNotNeed() throws MalformedRequest {
    assertThat(Codec.decodeRequest("{\"command\":\"deploy\"}"))
        .isEqualTo(new Request.Deploy(Optional.empty(), Map.of(), false));
    assertThat(
            Codec.decodeRequest(
                "{\"command\":\"deploy\",\"argv\":null,\"env\":null,\"wait\":null}"))
        .isEqualTo(new Request.Deploy(Optional.empty(), Map.of(), false));
    assertThat(Codec.decodeRequest("{\"command\":\"rollback\",\"reason\":null,\"future\":[1]}"))
        .isEqualTo(new Request.Rollback(Optional.empty(), false));
  }

  @Test
  void theRemoteApiTakesTheCommandFromItsPath() throws MalformedRequest {
    assertThat(Codec.decodeRequest("status", "")).isEqualTo(new Request.GetStatus());
    assertThat(Codec.decodeRequest("deploy", "{\"argv\":[\"./v2\"],\"wait\":true}"))
        .isEqualTo(new Request.Deploy(Optional.of(List.of("./v2")), Map.of(), true));
    assertThat(Codec.decodeRequest("rollback", "{\"command\":\"stop\",\"reason\":\"r\"}"))
        .isEqualTo(new Request.Rollback(Optional.of("r"), false));
    assertThatThrownBy(() -> Codec.decodeRequest("deploy", "[1]"))
        .isInstanceOf(MalformedRequest.class)
        .hasMessage(
            "malformed control message: the body must be one JSON object, e.g. {\"argv\":[\"./server\",\"--v2\"],\"wait\":true}");
    assertThatThrownBy(() -> Codec.decodeRequest("deploy", "{\"wait\":1}"))
        .hasMessage("malformed control message: \"wait\" must be true or false");
    assertThatThrownBy(() -> Codec.decodeRequest("launch", ""))
        .hasMessageStartingWith("malformed control message: unknown or missing \"command\"");
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      quoteCharacter = '`',
      value = {
        "nonsense | not JSON (",
        "[1,2] | a request must be a JSON object, not [1,2]; send e.g. {\"command\":\"status\"}",
        "`\"status\"` | a request must be a JSON object, not \"status\"",
        "{} | unknown or missing \"command\" in {}; use one of \"deploy\", \"rollback\", \"status\", \"stop\", \"upgrade\", \"reopen-logs\"",
        "{\"command\":\"launch\"} | unknown or missing \"command\" in {\"command\":\"launch\"}",
        "{\"command\":7} | unknown or missing \"command\"",
        "{\"command\":\"deploy\",\"argv\":\"./server\"} | \"argv\" must be a non-empty array of strings",
        "{\"command\":\"deploy\",\"argv\":[]} | \"argv\" must be a non-empty array of strings",
        "{\"command\":\"deploy\",\"argv\":[\"./server\",1]} | \"argv\" must contain only strings",
        "{\"command\":\"deploy\",\"env\":[\"A=1\"]} | \"env\" must be an object of strings",
        "{\"command\":\"deploy\",\"env\":{\"A\":1}} | \"env\".A must be a string",
        "{\"command\":\"deploy\",\"wait\":\"yes\"} | \"wait\" must be true or false",
        "{\"command\":\"rollback\",\"wait\":0} | \"wait\" must be true or false",
        "{\"command\":\"rollback\",\"reason\":[\"x\"]} | \"reason\" must be a string",
      })
  void malformedRequestsSayWhatIsWrongAndWhatToSend(String line, String problem) {
    assertThatThrownBy(() -> Codec.decodeRequest(line))
        .isInstanceOfSatisfying(
            MalformedRequest.class,
            e -> {
              assertThat(e.getMessage()).startsWith("malformed control message: " + problem);
              assertThat(Codec.encode(e.reply()))
                  .startsWith("{\"ok\":false,\"error\":\"malformed control message: ");
            });
  }

  @Test
  void anExceptionsNullMessageStillMakesALine() {
    assertThat(Codec.encode(new DeployEvent(DeployStep.FAILED, 2, 9, Duration.ZERO, null)))
        .endsWith(",\"detail\":\"\"}");
    assertThat(Codec.encode(new Reply.Failed(null)))
        .isEqualTo("{\"ok\":false,\"error\":\"the supervisor gave no reason\"}");
  }

  @Test
  void aDeployCannotNameAnEmptyCommand() {
    assertThatThrownBy(() -> new Request.Deploy(Optional.of(List.of()), Map.of(), false))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("must name a program");
  }

  @Test
  void repliesGoOverTheWireAsClientsReadThem() {
    var lines =
        Map.<Reply, String>of(
            new Reply.Done(2, 123), "{\"ok\":true,\"generation\":2,\"pid\":123}",
            new Reply.Failed("a deploy is already in progress"),
                "{\"ok\":false,\"error\":\"a deploy is already in progress\"}",
            new Reply.Ok(), "{\"ok\":true}",
            new Reply.Upgrading(77), "{\"ok\":true,\"upgrading\":true,\"pid\":77}",
            new Reply.Reopened("/var/log/app.log"), "{\"ok\":true,\"file\":\"/var/log/app.log\"}");
    lines.forEach(
        (reply, line) -> {
          assertThat(Codec.encode(reply)).isEqualTo(line);
          assertThat(Codec.decodeMessage(line)).isEqualTo(reply);
        });
    var statusReply = new Reply.StatusReply(status());
    assertThat(Codec.encode(statusReply))
        .startsWith("{\"ok\":true,\"status\":{\"supervisor_pid\":4242,");
    assertThat(Codec.decodeMessage(Codec.encode(statusReply))).isEqualTo(statusReply);
    assertThat(Codec.decodeMessage("{\"ok\":false}"))
        .isEqualTo(new Reply.Failed("the supervisor gave no reason"));
  }

  @Test
  void eventsCarryTheirElapsedTimeInFractionalMilliseconds() {
    var event =
        new DeployEvent(DeployStep.SPAWNED, 2, 123, Duration.ofNanos(4_100_000), "./server --v2");
    var line =
        "{\"event\":\"spawned\",\"generation\":2,\"pid\":123,\"elapsed_ms\":4.1,\"detail\":\"./server --v2\"}";
    assertThat(Codec.encode(event)).isEqualTo(line);
    assertThat(Codec.decodeMessage(line)).isEqualTo(event);
    for (var step : DeployStep.values()) {
      var each = new DeployEvent(step, 1, 2, Duration.ofMillis(1500), "");
      assertThat(Codec.decodeMessage(Codec.encode(each))).isEqualTo(each);
    }
  }

  @Test
  void statusIsSnakeCaseWithIsoInstantsAndNullForWhatIsAbsent() {
    var json = Codec.encode(status());
    assertThat(json)
        .contains(
            "\"supervisor_pid\":4242",
            "\"active_generation\":3",
            "\"crash_loop\":null",
            "\"parked\":[2]")
        .contains(
            "\"started\":\"2025-03-01T12:00:00.125Z\"",
            "\"exited\":null",
            "\"kind\":\"start\"",
            "\"replaced\":null")
        .contains(
            "{\"name\":\"http\",\"address\":\"0.0.0.0:8080\",\"pass\":\"fd\",\"fd\":3,\"steer\":\"shared\","
                + "\"generations\":[],\"retired\":false}")
        .doesNotContain("supervisorPid", "activeGeneration", "crashLoop");
    assertThat(Codec.decodeStatus(json)).isEqualTo(status());
    var idle =
        new Status(
            1,
            Optional.empty(),
            true,
            Optional.of("3 crashes in 10 s"),
            List.of(),
            List.of(),
            List.of(),
            List.of());
    assertThat(Codec.decodeStatus(Codec.encode(idle))).isEqualTo(idle);
  }

  @Test
  void theRemoteStatusCarriesTheServiceBesideIt() {
    var reply = new Reply.StatusReply(status());
    var line = Codec.encode(reply, new Service(Optional.of("/healthz"), Optional.empty()));
    assertThat(line).endsWith(",\"service\":{\"readiness_http\":\"/healthz\",\"agent\":null}}");
    assertThat(Codec.decodeMessage(line)).isEqualTo(reply);
    assertThat(Codec.decodeService(line))
        .contains(new Service(Optional.of("/healthz"), Optional.empty()));
    assertThat(Codec.decodeService(Codec.encode(reply))).isEmpty();
  }

  @Test
  void aNewerSupervisorMaySayMore() {
    assertThat(Codec.decodeMessage("{\"ok\":true,\"generation\":2,\"pid\":3,\"took_ms\":12}"))
        .isEqualTo(new Reply.Done(2, 3));
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      quoteCharacter = '`',
      value = {
        "HTTP/1.1 502 Bad Gateway",
        "[]",
        "{\"generation\":2}",
        "{\"ok\":\"yes\"}",
        "{\"ok\":true,\"generation\":2}",
        "{\"event\":\"exploded\",\"generation\":2}",
        "{\"event\":null}",
        "{\"ok\":true,\"status\":{\"supervisor_pid\":1}}",
      })
  void whatIsNotTheProtocolIsNamedAsSuch(String line) {
    assertThatThrownBy(() -> Codec.decodeMessage(line))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("not a line of baton's control protocol (")
        .hasMessageContaining(line.length() > 100 ? line.substring(0, 100) : line);
  }
}
