package dev.baton.protocol;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonGenerator;

/**
 * The control protocol's JSON, both ways: one object per line, snake_case keys, enums in lower
 * case, instants as ISO-8601 strings, an absent value as {@code null}. The supervisor, the remote
 * API, the CLI, rollouts and bench all go through here, so that they cannot disagree on a key.
 *
 * <p>Each message's keys are named once, in its writer, and read back by name through {@link
 * Json.Fields}; a key this version does not know is ignored, so a newer peer may say more. A
 * request is checked field by field, since the supervisor must say exactly what is wrong with a bad
 * one. Encoded lines have no trailing newline; the sender adds it.
 */
public final class Codec {
  /** The commands a request may name, as they go over the wire. */
  static final List<String> COMMANDS =
      List.of("deploy", "rollback", "status", "stop", "upgrade", "reopen-logs");

  private static final String EXAMPLE = "{\"command\":\"status\"}";

  private Codec() {}

  // Requests

  /** A request as a line: {@code {"command":"deploy","argv":[...],"env":{...},"wait":true}}. */
  public static String encode(Request request) {
    return Json.write(
        out -> {
          out.writeStartObject();
          switch (request) {
            case Request.Deploy d -> {
              out.writeStringProperty("command", "deploy");
              if (d.argv().isPresent()) {
                Json.writeStrings(out, "argv", d.argv().get());
              }
              out.writeName("env");
              out.writeStartObject();
              d.env().forEach(out::writeStringProperty);
              out.writeEndObject();
              out.writeBooleanProperty("wait", d.await());
            }
            case Request.Rollback r -> {
              out.writeStringProperty("command", "rollback");
              out.writeBooleanProperty("wait", r.await());
              r.reason().ifPresent(reason -> out.writeStringProperty("reason", reason));
            }
            case Request.GetStatus s -> out.writeStringProperty("command", "status");
            case Request.Stop s -> out.writeStringProperty("command", "stop");
            case Request.Upgrade u -> out.writeStringProperty("command", "upgrade");
            case Request.ReopenLogs r -> out.writeStringProperty("command", "reopen-logs");
          }
          out.writeEndObject();
        });
  }

  /**
   * One request line, checked before anything acts on it: a JSON object whose {@code command} is
   * known and whose fields have the types that command needs. Unknown fields are ignored.
   *
   * @throws MalformedRequest naming what is wrong with the line and what to send instead
   */
  public static Request decodeRequest(String line) throws MalformedRequest {
    Object node;
    try {
      node = Json.parse(line);
    } catch (JacksonException | IllegalArgumentException e) {
      throw new MalformedRequest(
          "not JSON ("
              + abbreviate(String.valueOf(why(e)), 200)
              + "); send one JSON object per line, e.g. "
              + EXAMPLE);
    }
    if (!(node instanceof Map<?, ?> map)) {
      throw new MalformedRequest(
          "a request must be a JSON object, not "
              + abbreviate(Json.write(node), 80)
              + "; send e.g. "
              + EXAMPLE);
    }
    return checked(map);
  }

  /**
   * A request of the remote API, whose path names the command and whose body holds the rest of the
   * request (an empty body is {@code {}}); a {@code command} in the body is overridden.
   *
   * @throws MalformedRequest when the body is not one JSON object, or a field has the wrong type
   */
  public static Request decodeRequest(String command, String body) throws MalformedRequest {
    var node = new LinkedHashMap<Object, @Nullable Object>();
    if (!body.isBlank()) {
      Object parsed;
      try {
        parsed = Json.parse(body);
      } catch (JacksonException | IllegalArgumentException e) {
        parsed = null;
      }
      if (!(parsed instanceof Map<?, ?> map)) {
        throw new MalformedRequest(
            "the body must be one JSON object, e.g. {\"argv\":[\"./server\",\"--v2\"],\"wait\":true}");
      }
      node.putAll(map);
    }
    node.put("command", command);
    return checked(node);
  }

  private static Request checked(Map<?, ?> node) throws MalformedRequest {
    if (!(node.get("command") instanceof String command) || !COMMANDS.contains(command)) {
      throw new MalformedRequest(
          "unknown or missing \"command\" in "
              + abbreviate(Json.write(node), 80)
              + "; use one of "
              + String.join(", ", COMMANDS.stream().map(c -> "\"" + c + "\"").toList()));
    }
    return switch (command) {
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

  private static Optional<List<String>> argv(@Nullable Object argv) throws MalformedRequest {
    if (argv == null) {
      return Optional.empty();
    }
    if (!(argv instanceof List<?> list) || list.isEmpty()) {
      throw new MalformedRequest("\"argv\" must be a non-empty array of strings");
    }
    var words = new ArrayList<String>();
    for (var word : list) {
      if (!(word instanceof String s)) {
        throw new MalformedRequest("\"argv\" must contain only strings");
      }
      words.add(s);
    }
    return Optional.of(words);
  }

  private static Map<String, String> env(@Nullable Object env) throws MalformedRequest {
    if (env == null) {
      return Map.of();
    }
    if (!(env instanceof Map<?, ?> map)) {
      throw new MalformedRequest("\"env\" must be an object of strings");
    }
    var variables = new LinkedHashMap<String, String>();
    for (var entry : map.entrySet()) {
      var name = String.valueOf(entry.getKey());
      if (!(entry.getValue() instanceof String value)) {
        throw new MalformedRequest("\"env\"." + abbreviate(name, 80) + " must be a string");
      }
      variables.put(name, value);
    }
    return variables;
  }

  private static boolean flag(Map<?, ?> node, String key) throws MalformedRequest {
    var value = node.get(key);
    if (value != null && !(value instanceof Boolean)) {
      throw new MalformedRequest("\"" + key + "\" must be true or false");
    }
    return Boolean.TRUE.equals(value);
  }

  private static Optional<String> reason(@Nullable Object reason) throws MalformedRequest {
    if (reason != null && !(reason instanceof String)) {
      throw new MalformedRequest("\"reason\" must be a string");
    }
    return Optional.ofNullable((String) reason);
  }

  // What the supervisor sends

  /** A reply as a line, e.g. {@code {"ok":true,"generation":2,"pid":123}}. */
  public static String encode(Reply reply) {
    return Json.write(out -> writeReply(out, reply, null));
  }

  /**
   * The remote API's status reply: {@code {"ok":true,"status":{...},"service":{...}}}, which a
   * control-socket client reads as a plain {@link Reply.StatusReply}.
   */
  public static String encode(Reply.StatusReply reply, Service service) {
    return Json.write(out -> writeReply(out, reply, service));
  }

  private static void writeReply(JsonGenerator out, Reply reply, @Nullable Service service) {
    out.writeStartObject();
    out.writeBooleanProperty("ok", !(reply instanceof Reply.Failed));
    switch (reply) {
      case Reply.Done d -> {
        out.writeNumberProperty("generation", d.generation());
        out.writeNumberProperty("pid", d.pid());
      }
      case Reply.Failed f -> out.writeStringProperty("error", f.error());
      case Reply.StatusReply s -> {
        out.writeName("status");
        writeStatus(out, s.status());
        if (service != null) {
          out.writeName("service");
          out.writeStartObject();
          Json.writeOptional(out, "readiness_http", service.readinessHttp());
          Json.writeOptional(out, "agent", service.agent());
          out.writeEndObject();
        }
      }
      case Reply.Ok o -> {}
      case Reply.Upgrading u -> {
        out.writeBooleanProperty("upgrading", true);
        out.writeNumberProperty("pid", u.pid());
      }
      case Reply.Reopened r -> out.writeStringProperty("file", r.file());
    }
    out.writeEndObject();
  }

  /**
   * An event as a line: {@code
   * {"event":"spawned","generation":2,"pid":123,"elapsed_ms":4.1,"detail":"..."}}.
   */
  public static String encode(DeployEvent event) {
    return Json.write(
        out -> {
          out.writeStartObject();
          out.writeStringProperty("event", lower(event.step()));
          out.writeNumberProperty("generation", event.generation());
          out.writeNumberProperty("pid", event.pid());
          out.writeNumberProperty("elapsed_ms", event.elapsed().toNanos() / 1e6);
          out.writeStringProperty("detail", event.detail());
          out.writeEndObject();
        });
  }

  /** A status alone, as {@code baton status --json} prints it. */
  public static String encode(Status status) {
    return Json.write(out -> writeStatus(out, status));
  }

  private static void writeStatus(JsonGenerator out, Status status) {
    out.writeStartObject();
    out.writeNumberProperty("supervisor_pid", status.supervisorPid());
    writeOptionalNumber(out, "active_generation", status.activeGeneration());
    out.writeBooleanProperty("deploying", status.deploying());
    Json.writeOptional(out, "crash_loop", status.crashLoop());
    out.writeName("parked");
    out.writeStartArray();
    status.parked().forEach(out::writeNumber);
    out.writeEndArray();
    out.writeName("generations");
    out.writeStartArray();
    for (var g : status.generations()) {
      out.writeStartObject();
      out.writeNumberProperty("number", g.number());
      out.writeStringProperty("state", g.state());
      out.writeNumberProperty("pid", g.pid());
      Json.writeStrings(out, "command", g.command());
      out.writeStringProperty("started", g.started().toString());
      Json.writeOptional(out, "ready", g.ready());
      Json.writeOptional(out, "promoted", g.promoted());
      Json.writeOptional(out, "exited", g.exited());
      out.writeStringProperty("readiness", g.readiness());
      Json.writeOptional(out, "exit", g.exit());
      out.writeStringProperty("reason", g.reason());
      out.writeEndObject();
    }
    out.writeEndArray();
    out.writeName("listeners");
    out.writeStartArray();
    for (var l : status.listeners()) {
      out.writeStartObject();
      out.writeStringProperty("name", l.name());
      out.writeStringProperty("address", l.address());
      out.writeStringProperty("pass", l.pass());
      out.writeNumberProperty("fd", l.fd());
      out.writeStringProperty("steer", l.steer());
      out.writeName("generations");
      out.writeStartArray();
      l.generations().forEach(out::writeNumber);
      out.writeEndArray();
      out.writeBooleanProperty("retired", l.retired());
      out.writeEndObject();
    }
    out.writeEndArray();
    out.writeName("history");
    out.writeStartArray();
    for (var h : status.history()) {
      out.writeStartObject();
      out.writeStringProperty("at", h.at().toString());
      out.writeStringProperty("kind", lower(h.kind()));
      out.writeNumberProperty("generation", h.generation());
      writeOptionalNumber(out, "replaced", h.replaced());
      out.writeStringProperty("reason", h.reason());
      out.writeEndObject();
    }
    out.writeEndArray();
    out.writeEndObject();
  }

  private static void writeOptionalNumber(JsonGenerator out, String name, Optional<Integer> n) {
    if (n.isPresent()) {
      out.writeNumberProperty(name, n.get());
    } else {
      out.writeNullProperty(name);
    }
  }

  private static String lower(Enum<?> constant) {
    return constant.name().toLowerCase(Locale.ROOT);
  }

  /**
   * One line from the supervisor: an event if it has an {@code "event"} key, else a reply.
   *
   * @throws IllegalArgumentException when the line is not a message of this protocol
   */
  public static ServerMessage decodeMessage(String line) {
    return decode(line, fields -> fields.has("event") ? event(fields) : reply(fields));
  }

  private static DeployEvent event(Json.Fields fields) {
    var step =
        fields
            .optionalEnum("event", DeployStep.class)
            .orElseThrow(() -> new IllegalArgumentException("an event needs a step in \"event\""));
    return new DeployEvent(
        step,
        fields.integer("generation"),
        fields.integer("pid"),
        Duration.ofNanos(Math.round(fields.number("elapsed_ms") * 1e6)),
        fields.string("detail"));
  }

  /** A reply is told from the others by which keys it has. */
  private static Reply reply(Json.Fields fields) {
    if (!fields.has("ok")) {
      throw new IllegalArgumentException("a reply needs \"ok\"");
    }
    if (!fields.bool("ok")) {
      return new Reply.Failed(
          fields.optionalString("error").orElse("the supervisor gave no reason"));
    }
    if (fields.has("status")) {
      return new Reply.StatusReply(status(Json.Fields.of(fields.raw("status"), "\"status\"")));
    }
    if (fields.bool("upgrading")) {
      return new Reply.Upgrading(required(fields, "pid"));
    }
    if (fields.has("generation")) {
      return new Reply.Done(fields.integer("generation"), required(fields, "pid"));
    }
    return fields.optionalString("file").<Reply>map(Reply.Reopened::new).orElseGet(Reply.Ok::new);
  }

  private static int required(Json.Fields fields, String key) {
    return fields
        .optionalInteger(key)
        .orElseThrow(() -> new IllegalArgumentException("this reply needs \"" + key + "\""));
  }

  private static Status status(Json.Fields s) {
    s.require(
        "a status",
        "supervisor_pid",
        "active_generation",
        "deploying",
        "crash_loop",
        "parked",
        "generations",
        "listeners",
        "history");
    return new Status(
        s.integer("supervisor_pid"),
        s.optionalInteger("active_generation"),
        s.bool("deploying"),
        s.optionalString("crash_loop"),
        s.integers("parked"),
        s.list("generations", Codec::generation),
        s.list("listeners", Codec::listener),
        s.list("history", Codec::historyEntry));
  }

  private static Status.GenerationStatus generation(@Nullable Object value) {
    var g = Json.Fields.of(value, "a generation");
    return new Status.GenerationStatus(
        g.integer("number"),
        g.string("state"),
        g.integer("pid"),
        g.strings("command"),
        g.instant("started"),
        g.optionalInstant("ready"),
        g.optionalInstant("promoted"),
        g.optionalInstant("exited"),
        g.string("readiness"),
        g.optionalString("exit"),
        g.string("reason"));
  }

  private static Status.ListenerStatus listener(@Nullable Object value) {
    var l = Json.Fields.of(value, "a listener");
    return new Status.ListenerStatus(
        l.string("name"),
        l.string("address"),
        l.string("pass"),
        l.integer("fd"),
        l.integers("generations"),
        l.bool("retired"),
        // A supervisor from before steered listeners shares them all.
        l.has("steer") ? l.string("steer") : "shared");
  }

  private static Status.HistoryEntry historyEntry(@Nullable Object value) {
    var h = Json.Fields.of(value, "a history entry");
    return new Status.HistoryEntry(
        h.instant("at"),
        h.optionalEnum("kind", DeployKind.class).orElse(DeployKind.DEPLOY),
        h.integer("generation"),
        h.optionalInteger("replaced"),
        h.string("reason"));
  }

  /**
   * The {@link Service} beside the status in a remote API's status reply; empty for any other line.
   *
   * @throws IllegalArgumentException when the line is not a message of this protocol
   */
  public static Optional<Service> decodeService(String line) {
    return decode(
        line,
        fields -> {
          if (!fields.has("service")) {
            return Optional.empty();
          }
          var s = Json.Fields.of(fields.raw("service"), "\"service\"");
          return Optional.of(
              new Service(s.optionalString("readiness_http"), s.optionalString("agent")));
        });
  }

  /**
   * A status as {@link #encode(Status)} wrote it.
   *
   * @throws IllegalArgumentException when the text is not a status
   */
  public static Status decodeStatus(String json) {
    return decode(json, Codec::status);
  }

  /** Reads one JSON object and makes a message of it; any failure names the line. */
  private static <T> T decode(String line, Function<Json.Fields, T> message) {
    try {
      return message.apply(Json.Fields.of(Json.parse(line), "a line"));
    } catch (JacksonException | IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "not a line of baton's control protocol ("
              + abbreviate(String.valueOf(why(e)), 200)
              + "): '"
              + abbreviate(line, 120)
              + "'; is the other end a baton supervisor of the same version?",
          e);
    }
  }

  private static @Nullable String why(RuntimeException e) {
    return e instanceof JacksonException j ? j.getOriginalMessage() : e.getMessage();
  }

  private static String abbreviate(String s, int max) {
    return s.length() <= max ? s : s.substring(0, max - 3) + "...";
  }
}
