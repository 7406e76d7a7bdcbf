package dev.baton.protocol;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.MapperFeature;
import tools.jackson.databind.PropertyNamingStrategies;
import tools.jackson.databind.cfg.DateTimeFeature;
import tools.jackson.databind.cfg.EnumFeature;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * The control protocol's JSON, both ways: one object per line, snake_case keys, enums in lower
 * case, instants as ISO-8601 strings, an absent value as {@code null}. The supervisor, the remote
 * API, the CLI, rollouts and bench all go through here, so that they cannot disagree on a key.
 *
 * <p>A status is bound as it is; every other message goes over the wire as one of the private
 * {@code *Line} records below, which name its keys once. A request is read field by field instead,
 * since the supervisor must say exactly what is wrong with a bad one. Encoded lines have no
 * trailing newline; the sender adds it.
 */
public final class Codec {
  private static final JsonMapper JSON =
      JsonMapper.builder()
          .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
          .enable(EnumFeature.WRITE_ENUMS_TO_LOWERCASE)
          .enable(MapperFeature.ACCEPT_CASE_INSENSITIVE_ENUMS)
          .disable(DateTimeFeature.WRITE_DATES_AS_TIMESTAMPS)
          // A newer peer may say more than this version knows; what it knows still reads the same.
          .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
          .build();

  /** The commands a request may name, as they go over the wire. */
  static final List<String> COMMANDS =
      List.of("deploy", "rollback", "status", "stop", "upgrade", "reopen-logs");

  private static final String EXAMPLE = "{\"command\":\"status\"}";

  private Codec() {}

  // Requests

  /** A request as a line: {@code {"command":"deploy","argv":[...],"env":{...},"wait":true}}. */
  public static String encode(Request request) {
    return JSON.writeValueAsString(RequestLine.of(request));
  }

  /**
   * One request line, checked before anything acts on it: a JSON object whose {@code command} is
   * known and whose fields have the types that command needs. Unknown fields are ignored.
   *
   * @throws MalformedRequest naming what is wrong with the line and what to send instead
   */
  public static Request decodeRequest(String line) throws MalformedRequest {
    JsonNode node;
    try {
      node = JSON.readTree(line);
    } catch (JacksonException e) {
      throw new MalformedRequest(
          "not JSON ("
              + abbreviate(String.valueOf(e.getOriginalMessage()), 200)
              + "); send one JSON object per line, e.g. "
              + EXAMPLE);
    }
    if (node == null || !node.isObject()) {
      throw new MalformedRequest(
          "a request must be a JSON object, not "
              + abbreviate(String.valueOf(node), 80)
              + "; send e.g. "
              + EXAMPLE);
    }
    return checked((ObjectNode) node);
  }

  /**
   * A request of the remote API, whose path names the command and whose body holds the rest of the
   * request (an empty body is {@code {}}); a {@code command} in the body is overridden.
   *
   * @throws MalformedRequest when the body is not one JSON object, or a field has the wrong type
   */
  public static Request decodeRequest(String command, String body) throws MalformedRequest {
    ObjectNode node;
    if (body.isBlank()) {
      node = JSON.createObjectNode();
    } else {
      JsonNode parsed;
      try {
        parsed = JSON.readTree(body);
      } catch (JacksonException e) {
        parsed = null;
      }
      if (parsed == null || !parsed.isObject()) {
        throw new MalformedRequest(
            "the body must be one JSON object, e.g. {\"argv\":[\"./server\",\"--v2\"],\"wait\":true}");
      }
      node = (ObjectNode) parsed;
    }
    node.put("command", command);
    return checked(node);
  }

  private static Request checked(ObjectNode node) throws MalformedRequest {
    var command = node.get("command");
    if (command == null || !command.isString() || !COMMANDS.contains(command.stringValue())) {
      throw new MalformedRequest(
          "unknown or missing \"command\" in "
              + abbreviate(node.toString(), 80)
              + "; use one of "
              + String.join(", ", COMMANDS.stream().map(c -> "\"" + c + "\"").toList()));
    }
    return switch (command.stringValue()) {
      case "deploy" ->
          new Request.Deploy(argv(node.get("argv")), env(node.get("env")), flag(node, "wait"));
      case "rollback" -> {
        boolean wait = flag(node, "wait");
        yield new Request.Rollback(reason(node.get("reason")), wait);
      }
      case "status" -> new Request.GetStatus();
      case "stop" -> new Request.Stop();
      case "upgrade" -> new Request.Upgrade();
      case "reopen-logs" -> new Request.ReopenLogs();
      default ->
          throw new IllegalStateException(
              "COMMANDS has " + command + ", which this switch does not");
    };
  }

  private static Optional<List<String>> argv(JsonNode argv) throws MalformedRequest {
    if (!present(argv)) {
      return Optional.empty();
    }
    if (!argv.isArray() || argv.isEmpty()) {
      throw new MalformedRequest("\"argv\" must be a non-empty array of strings");
    }
    var words = new ArrayList<String>();
    for (var word : argv.values()) {
      if (!word.isString()) {
        throw new MalformedRequest("\"argv\" must contain only strings");
      }
      words.add(word.stringValue());
    }
    return Optional.of(words);
  }

  private static Map<String, String> env(JsonNode env) throws MalformedRequest {
    if (!present(env)) {
      return Map.of();
    }
    if (!env.isObject()) {
      throw new MalformedRequest("\"env\" must be an object of strings");
    }
    var variables = new LinkedHashMap<String, String>();
    for (var entry : env.properties()) {
      if (!entry.getValue().isString()) {
        throw new MalformedRequest(
            "\"env\"." + abbreviate(entry.getKey(), 80) + " must be a string");
      }
      variables.put(entry.getKey(), entry.getValue().stringValue());
    }
    return variables;
  }

  private static boolean flag(JsonNode node, String key) throws MalformedRequest {
    var value = node.get(key);
    if (present(value) && !value.isBoolean()) {
      throw new MalformedRequest("\"" + key + "\" must be true or false");
    }
    return present(value) && value.booleanValue();
  }

  private static Optional<String> reason(JsonNode reason) throws MalformedRequest {
    if (present(reason) && !reason.isString()) {
      throw new MalformedRequest("\"reason\" must be a string");
    }
    return present(reason) ? Optional.of(reason.stringValue()) : Optional.empty();
  }

  private static boolean present(@Nullable JsonNode value) {
    return value != null && !value.isNull();
  }

  // What the supervisor sends

  /** A reply as a line, e.g. {@code {"ok":true,"generation":2,"pid":123}}. */
  public static String encode(Reply reply) {
    return JSON.writeValueAsString(ReplyLine.of(reply, null));
  }

  /**
   * The remote API's status reply: {@code {"ok":true,"status":{...},"service":{...}}}, which a
   * control-socket client reads as a plain {@link Reply.StatusReply}.
   */
  public static String encode(Reply.StatusReply reply, Service service) {
    return JSON.writeValueAsString(ReplyLine.of(reply, service));
  }

  /**
   * An event as a line: {@code
   * {"event":"spawned","generation":2,"pid":123,"elapsed_ms":4.1,"detail":"..."}}.
   */
  public static String encode(DeployEvent event) {
    return JSON.writeValueAsString(EventLine.of(event));
  }

  /** A status alone, as {@code baton status --json} prints it. */
  public static String encode(Status status) {
    return JSON.writeValueAsString(status);
  }

  /**
   * One line from the supervisor: an event if it has an {@code "event"} key, else a reply.
   *
   * @throws IllegalArgumentException when the line is not a message of this protocol
   */
  public static ServerMessage decodeMessage(String line) {
    return decode(
        line,
        node ->
            node.has("event")
                ? JSON.treeToValue(node, EventLine.class).toEvent()
                : JSON.treeToValue(node, ReplyLine.class).toReply());
  }

  /**
   * The {@link Service} beside the status in a remote API's status reply; empty for any other line.
   *
   * @throws IllegalArgumentException when the line is not a message of this protocol
   */
  public static Optional<Service> decodeService(String line) {
    return decode(
        line, node -> Optional.ofNullable(JSON.treeToValue(node, ReplyLine.class).service()));
  }

  /**
   * A status as {@link #encode(Status)} wrote it.
   *
   * @throws IllegalArgumentException when the text is not a status
   */
  public static Status decodeStatus(String json) {
    return decode(json, node -> JSON.treeToValue(node, Status.class));
  }

  /** Reads one JSON object and makes a message of it; any failure names the line. */
  private static <T> T decode(String line, Function<JsonNode, T> message) {
    try {
      var node = JSON.readTree(line);
      if (node == null || !node.isObject()) {
        throw new IllegalArgumentException("not a JSON object");
      }
      return message.apply(node);
    } catch (JacksonException | IllegalArgumentException e) {
      var why = e instanceof JacksonException j ? j.getOriginalMessage() : e.getMessage();
      throw new IllegalArgumentException(
          "not a line of baton's control protocol ("
              + abbreviate(String.valueOf(why), 200)
              + "): '"
              + abbreviate(line, 120)
              + "'; is the other end a baton supervisor of the same version?",
          e);
    }
  }

  private static String abbreviate(String s, int max) {
    return s.length() <= max ? s : s.substring(0, max - 3) + "...";
  }

  // The lines on the wire

  @JsonInclude(JsonInclude.Include.NON_NULL)
  private record RequestLine(
      String command,
      @Nullable List<String> argv,
      @Nullable Map<String, String> env,
      @JsonProperty("wait") @Nullable Boolean await,
      @Nullable String reason) {

    static RequestLine of(Request request) {
      return switch (request) {
        case Request.Deploy d ->
            new RequestLine("deploy", d.argv().orElse(null), d.env(), d.await(), null);
        case Request.Rollback r ->
            new RequestLine("rollback", null, null, r.await(), r.reason().orElse(null));
        case Request.GetStatus s -> new RequestLine("status", null, null, null, null);
        case Request.Stop s -> new RequestLine("stop", null, null, null, null);
        case Request.Upgrade u -> new RequestLine("upgrade", null, null, null, null);
        case Request.ReopenLogs r -> new RequestLine("reopen-logs", null, null, null, null);
      };
    }
  }

  /** Every reply's keys; a reply is told from the others by which of them it has. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  private record ReplyLine(
      @Nullable Boolean ok,
      @Nullable Boolean upgrading,
      @Nullable Integer generation,
      @Nullable Integer pid,
      @Nullable String error,
      @Nullable Status status,
      @Nullable String file,
      @Nullable Service service) {

    static ReplyLine of(Reply reply, @Nullable Service service) {
      return switch (reply) {
        case Reply.Done d ->
            new ReplyLine(true, null, d.generation(), d.pid(), null, null, null, null);
        case Reply.Failed f -> new ReplyLine(false, null, null, null, f.error(), null, null, null);
        case Reply.StatusReply s ->
            new ReplyLine(true, null, null, null, null, s.status(), null, service);
        case Reply.Ok o -> new ReplyLine(true, null, null, null, null, null, null, null);
        case Reply.Upgrading u -> new ReplyLine(true, true, null, u.pid(), null, null, null, null);
        case Reply.Reopened r -> new ReplyLine(true, null, null, null, null, null, r.file(), null);
      };
    }

    Reply toReply() {
      if (ok == null) {
        throw new IllegalArgumentException("a reply needs \"ok\"");
      }
      if (!ok) {
        return new Reply.Failed(error == null ? "the supervisor gave no reason" : error);
      }
      if (status != null) {
        return new Reply.StatusReply(status);
      }
      if (Boolean.TRUE.equals(upgrading)) {
        return new Reply.Upgrading(required(pid, "pid"));
      }
      if (generation != null) {
        return new Reply.Done(generation, required(pid, "pid"));
      }
      return file != null ? new Reply.Reopened(file) : new Reply.Ok();
    }

    private static int required(@Nullable Integer value, String key) {
      if (value == null) {
        throw new IllegalArgumentException("this reply needs \"" + key + "\"");
      }
      return value;
    }
  }

  private record EventLine(
      @Nullable DeployStep event, int generation, int pid, double elapsedMs, String detail) {

    static EventLine of(DeployEvent e) {
      return new EventLine(
          e.step(), e.generation(), e.pid(), e.elapsed().toNanos() / 1e6, e.detail());
    }

    DeployEvent toEvent() {
      if (event == null) {
        throw new IllegalArgumentException("an event needs a step in \"event\"");
      }
      return new DeployEvent(
          event, generation, pid, Duration.ofNanos(Math.round(elapsedMs * 1e6)), detail);
    }
  }
}
