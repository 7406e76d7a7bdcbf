package dev.baton.supervisor;

import dev.baton.os.NativeException;
import dev.baton.os.Os;
import dev.baton.os.UnixConnection;
import dev.baton.os.UnixListener;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * The supervisor's end of the control socket: a Unix stream socket with mode 0600, and a check of
 * each caller's uid (SO_PEERCRED) against the supervisor's own and root's.
 *
 * <p>The protocol is one JSON object per line. The client sends one request; the server answers
 * with zero or more {@code {"event": ...}} lines and one final line with {@code "ok"}.
 */
public final class ControlServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ControlServer.class);
  static final JsonMapper JSON = JsonMapper.builder().findAndAddModules().build();
  private static final int MAX_REQUEST = 1 << 20;

  private final Supervisor supervisor;
  private final Os os;
  private final UnixListener listener;
  /** Connections being served; `stop` replies after the supervisor stopped, so exit waits for them. */
  private final java.util.concurrent.atomic.AtomicInteger serving = new java.util.concurrent.atomic.AtomicInteger();

  private ControlServer(Supervisor supervisor, Os os, UnixListener listener) {
    this.supervisor = supervisor;
    this.os = os;
    this.listener = listener;
  }

  public static ControlServer start(Supervisor supervisor, Os os) {
    var path = supervisor.config().control().socket();
    UnixListener listener;
    try {
      listener = os.listenUnix(path, 0600);
    } catch (NativeException e) {
      throw new StartException("cannot create the control socket " + path + ": " + e.getMessage()
          + "; check that its directory exists and is writable, or set [control] socket");
    }
    var server = new ControlServer(supervisor, os, listener);
    Thread.ofPlatform().daemon().name("control-accept").start(server::acceptLoop);
    return server;
  }

  private void acceptLoop() {
    for (var c = listener.accept(); c.isPresent(); c = listener.accept()) {
      var connection = c.get();
      serving.incrementAndGet();
      Thread.ofPlatform().daemon().name("control-" + connection.peer().pid()).start(() -> serve(connection));
    }
  }

  private void serve(UnixConnection connection) {
    try (connection; var done = (AutoCloseable) serving::decrementAndGet) {
      var out = connection.output();
      var peer = connection.peer();
      if (peer.uid() != os.uid() && peer.uid() != 0) {
        LOG.warn("refused a control connection from uid {} (pid {})", peer.uid(), peer.pid());
        reply(out, error("uid " + peer.uid() + " may not control this supervisor, which runs as uid " + os.uid()
            + "; run baton as uid " + os.uid() + " or as root"));
        return;
      }
      Optional<String> line = readLine(connection.input());
      if (line.isEmpty()) {
        return;
      }
      Request request;
      try {
        request = Request.parse(line.get());
      } catch (MalformedRequest e) {
        reply(out, e.reply());
        return;
      }
      handle(request, out);
    } catch (Exception e) {
      LOG.debug("control connection ended: {}", e.toString());
    }
  }

  /** Waits until no connection is being served, or the timeout passes. */
  void awaitIdle(java.time.Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (serving.get() > 0 && System.nanoTime() < deadline) {
      try {
        Thread.sleep(5);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  /** The commands a request may name. */
  static final List<String> COMMANDS = List.of("deploy", "rollback", "status", "stop", "upgrade", "reopen-logs");

  /**
   * One request line, read and checked before anything acts on it: a JSON object whose "command"
   * is known and whose fields have the types that command needs.
   */
  record Request(String command, JsonNode fields) {

    /** @throws MalformedRequest naming what is wrong with the line and what to send instead */
    static Request parse(String line) throws MalformedRequest {
      JsonNode node;
      try {
        node = JSON.readTree(line);
      } catch (JacksonException e) {
        throw new MalformedRequest("not JSON (" + abbreviate(String.valueOf(e.getOriginalMessage()), 200)
            + "); send one JSON object per line, e.g. {\"command\":\"status\"}");
      }
      if (node == null || !node.isObject()) {
        throw new MalformedRequest("a request must be a JSON object, not " + abbreviate(String.valueOf(node))
            + "; send e.g. {\"command\":\"status\"}");
      }
      var command = node.get("command");
      if (command == null || !command.isString() || !COMMANDS.contains(command.stringValue())) {
        throw new MalformedRequest("unknown or missing \"command\" in " + abbreviate(node.toString())
            + "; use one of " + String.join(", ", COMMANDS.stream().map(c -> "\"" + c + "\"").toList()));
      }
      try {
        switch (command.stringValue()) {
          case "deploy" -> {
            parseDeploy(node);
            flag(node, "wait");
          }
          case "rollback" -> {
            flag(node, "wait");
            var reason = node.get("reason");
            if (reason != null && !reason.isNull() && !reason.isString()) {
              throw new IllegalArgumentException("\"reason\" must be a string");
            }
          }
          default -> {}
        }
      } catch (IllegalArgumentException e) {
        throw new MalformedRequest(e.getMessage());
      }
      return new Request(command.stringValue(), node);
    }

    private static void flag(JsonNode node, String key) {
      var value = node.get(key);
      if (value != null && !value.isNull() && !value.isBoolean()) {
        throw new IllegalArgumentException("\"" + key + "\" must be true or false");
      }
    }
  }

  /** A request line that cannot be acted on; {@link #reply()} is what the caller is told. */
  static final class MalformedRequest extends Exception {
    private static final long serialVersionUID = 1L;

    MalformedRequest(String problem) {
      super("malformed control message: " + problem);
    }

    ObjectNode reply() {
      return error(getMessage());
    }
  }

  private void handle(Request parsed, OutputStream out) throws IOException {
    var request = parsed.fields();
    switch (parsed.command()) {
      case "status" -> {
        var reply = ok();
        reply.set("status", JSON.valueToTree(supervisor.status()));
        reply(out, reply);
      }
      case "deploy" -> deploy(request, out);
      case "rollback" -> rollback(request, out);
      case "upgrade" -> {
        try {
          supervisor.upgrade(() -> {
            var reply = ok();
            reply.put("upgrading", true);
            reply.put("pid", os.pid());
            try {
              reply(out, reply);
            } catch (IOException e) {
              // The caller went away; the upgrade goes on.
            }
          });
        } catch (DeployException e) {
          reply(out, error(e.getMessage()));
        }
      }
      case "stop" -> {
        supervisor.stop().join();
        reply(out, ok());
      }
      case "reopen-logs" -> reopenLogs(out);
      default -> throw new IllegalStateException("Request.parse let through the unknown command " + parsed.command());
    }
  }

  private void reopenLogs(OutputStream out) throws IOException {
    Optional<LogFile> file;
    try {
      file = LogFile.forConfig(supervisor.config());
    } catch (StartException e) {
      reply(out, error(e.getMessage()));
      return;
    }
    if (file.isEmpty()) {
      reply(out, error(supervisor.config().file() + " has no [logs] file: the generations' output goes to the"
          + " supervisor's own log, so there is nothing to reopen"));
      return;
    }
    try {
      file.get().reopen();
    } catch (java.io.UncheckedIOException e) {
      reply(out, error(e.getMessage()));
      return;
    }
    LOG.info("reopened {}", file.get().path());
    var reply = ok();
    reply.put("file", file.get().path().toString());
    reply(out, reply);
  }

  private void deploy(JsonNode request, OutputStream out) throws IOException {
    DeployRequest deployRequest;
    try {
      deployRequest = parseDeploy(request);
    } catch (IllegalArgumentException e) {
      reply(out, error("malformed control message: " + e.getMessage()));
      return;
    }
    boolean wait = request.path("wait").asBoolean(false);
    try {
      var deployed = supervisor.deploy(deployRequest, event -> emit(out, event));
      if (wait && deployed.retired().isPresent()) {
        emit(out, deployed.retired().get().join());
      }
      var reply = ok();
      reply.put("generation", deployed.generation());
      reply.put("pid", deployed.pid());
      reply(out, reply);
    } catch (DeployException | StartException e) {
      reply(out, error(e.getMessage()));
    }
  }

  private void rollback(JsonNode request, OutputStream out) throws IOException {
    boolean wait = request.path("wait").asBoolean(false);
    var reason = request.path("reason").asString("requested with baton rollback");
    try {
      var deployed = supervisor.rollback(event -> emit(out, event), reason);
      if (wait && deployed.retired().isPresent()) {
        emit(out, deployed.retired().get().join());
      }
      var reply = ok();
      reply.put("generation", deployed.generation());
      reply.put("pid", deployed.pid());
      reply(out, reply);
    } catch (DeployException e) {
      reply(out, error(e.getMessage()));
    }
  }

  static DeployRequest parseDeploy(JsonNode request) {
    Optional<List<String>> command = Optional.empty();
    var argv = request.get("argv");
    if (argv != null && !argv.isNull()) {
      if (!argv.isArray() || argv.isEmpty()) {
        throw new IllegalArgumentException("\"argv\" must be a non-empty array of strings");
      }
      var list = new ArrayList<String>();
      for (var word : argv.values()) {
        if (!word.isString()) {
          throw new IllegalArgumentException("\"argv\" must contain only strings");
        }
        list.add(word.stringValue());
      }
      command = Optional.of(list);
    }
    var env = new HashMap<String, String>();
    var envNode = request.get("env");
    if (envNode != null && !envNode.isNull()) {
      if (!envNode.isObject()) {
        throw new IllegalArgumentException("\"env\" must be an object of strings");
      }
      for (var e : envNode.properties()) {
        if (!e.getValue().isString()) {
          throw new IllegalArgumentException("\"env\"." + e.getKey() + " must be a string");
        }
        env.put(e.getKey(), e.getValue().stringValue());
      }
    }
    return new DeployRequest(command, env);
  }

  private static void emit(OutputStream out, DeployEvent event) {
    var node = JSON.createObjectNode();
    node.put("event", event.step());
    node.put("generation", event.generation());
    node.put("pid", event.pid());
    node.put("elapsed_ms", event.elapsed().toNanos() / 1e6);
    node.put("detail", event.detail());
    try {
      reply(out, node);
    } catch (IOException e) {
      // The client went away; the deploy goes on regardless.
    }
  }

  private static ObjectNode ok() {
    var node = JSON.createObjectNode();
    node.put("ok", true);
    return node;
  }

  private static ObjectNode error(String message) {
    var node = JSON.createObjectNode();
    node.put("ok", false);
    node.put("error", message);
    return node;
  }

  private static void reply(OutputStream out, JsonNode node) throws IOException {
    synchronized (out) {
      out.write((JSON.writeValueAsString(node) + "\n").getBytes(StandardCharsets.UTF_8));
      out.flush();
    }
  }

  private static Optional<String> readLine(InputStream in) throws IOException {
    var buffer = new ByteArrayOutputStream();
    for (int b = in.read(); b != -1; b = in.read()) {
      if (b == '\n') {
        return Optional.of(buffer.toString(StandardCharsets.UTF_8));
      }
      if (buffer.size() >= MAX_REQUEST) {
        throw new IOException("control request longer than " + MAX_REQUEST + " bytes");
      }
      buffer.write(b);
    }
    return buffer.size() == 0 ? Optional.empty() : Optional.of(buffer.toString(StandardCharsets.UTF_8));
  }

  private static String abbreviate(String s) {
    return abbreviate(s, 80);
  }

  private static String abbreviate(String s, int max) {
    return s.length() <= max ? s : s.substring(0, max - 3) + "...";
  }

  @Override
  public void close() {
    listener.close();
  }
}
