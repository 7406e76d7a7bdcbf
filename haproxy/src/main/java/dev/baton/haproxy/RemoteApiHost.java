package dev.baton.haproxy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.stream.Stream;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * A supervisor on another host, over its remote API: HTTP/JSON with a bearer token, TLS when the
 * URL says https (trusted through the JDK's trust store, {@code -Djavax.net.ssl.trustStore}). A
 * deploy answers with JSON lines, the control socket's events and then its reply.
 */
final class RemoteApiHost implements Host {
  private static final JsonMapper JSON = JsonMapper.builder().build();

  private final String target;
  private final URI base;
  private final String token;
  private final Duration timeout;
  private final HttpClient client;
  private volatile Optional<JsonNode> service = Optional.empty();

  RemoteApiHost(String target, URI base, String token, Duration timeout) {
    this.target = target;
    this.base = base;
    this.token = token;
    this.timeout = timeout;
    this.client = HttpClient.newBuilder()
        .connectTimeout(timeout.compareTo(Duration.ofSeconds(5)) < 0 ? timeout : Duration.ofSeconds(5))
        .build();
  }

  @Override
  public String target() {
    return target;
  }

  @Override
  public Optional<JsonNode> service() {
    return service;
  }

  @Override
  public Optional<java.net.InetSocketAddress> agent() {
    return service.map(s -> s.path("agent")).filter(JsonNode::isString).map(a -> {
      var text = a.asString();
      int colon = text.lastIndexOf(':');
      return new java.net.InetSocketAddress(text.substring(0, colon).replaceAll("^\\[|\\]$", ""),
          Integer.parseInt(text.substring(colon + 1)));
    });
  }

  @Override
  public JsonNode status() {
    var request = request("/v1/status").timeout(timeout).GET().build();
    var reply = lines(request, timeout, "status", e -> {});
    if (reply.has("service")) {
      service = Optional.of(reply.get("service"));
    }
    return reply.get("status");
  }

  @Override
  public JsonNode deploy(Optional<List<String>> argv, Map<String, String> env, Duration limit, Consumer<JsonNode> events) {
    var body = JSON.createObjectNode();
    body.put("wait", true);
    argv.ifPresent(words -> words.forEach(body.putArray("argv")::add));
    var envNode = body.putObject("env");
    env.forEach(envNode::put);
    return lines(post("/v1/deploy", body), limit, "deploy", events);
  }

  @Override
  public JsonNode rollback(String reason, Duration limit, Consumer<JsonNode> events) {
    var body = JSON.createObjectNode();
    body.put("wait", true);
    body.put("reason", reason);
    return lines(post("/v1/rollback", body), limit, "rollback", events);
  }

  private HttpRequest post(String path, JsonNode body) {
    return request(path)
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body)))
        .build();
  }

  private HttpRequest.Builder request(String path) {
    return HttpRequest.newBuilder(base.resolve(base.getPath() + path))
        .header("Authorization", "Bearer " + token)
        .header("Accept", "application/x-ndjson, application/json");
  }

  /** Sends the request; events before the final line go to {@code events}; the final line is returned. */
  private JsonNode lines(HttpRequest request, Duration limit, String command, Consumer<JsonNode> events) {
    JsonNode reply = TimeLimit.call(limit, () -> send(request, command, events),
        () -> new HostException("the supervisor at " + target + " did not finish '" + command + "' within "
            + limit.toSeconds() + " s; check that host and its supervisor's log", true));
    if (!reply.path("ok").asBoolean(false)) {
      throw new HostException("the supervisor at " + target + " refused '" + command + "': "
          + reply.path("error").asString("no reason given"), false);
    }
    return reply;
  }

  private JsonNode send(HttpRequest request, String command, Consumer<JsonNode> events) {
    HttpResponse<Stream<String>> response;
    try {
      response = client.send(request, HttpResponse.BodyHandlers.ofLines());
    } catch (HttpConnectTimeoutException e) {
      throw new HostException("cannot reach the supervisor at " + target + ": no connection within "
          + timeout.toSeconds() + " s; check the host, its [remote] address and any firewall", true);
    } catch (ConnectException e) {
      throw new HostException("cannot reach the supervisor at " + target + ": connection refused; is baton running"
          + " there with a [remote] table listening on " + base.getAuthority() + "?", true);
    } catch (HttpTimeoutException e) {
      throw new HostException("the supervisor at " + target + " did not answer '" + command + "' within "
          + timeout.toSeconds() + " s", true);
    } catch (IOException e) {
      throw new HostException("cannot talk to the supervisor at " + target + " ('" + command + "'): " + e, true);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new HostException("interrupted while talking to " + target, true);
    }
    try (var lines = response.body()) {
      JsonNode last = null;
      for (var it = lines.iterator(); it.hasNext(); ) {
        var line = it.next();
        if (line.isBlank()) {
          continue;
        }
        var node = parse(line, response.statusCode());
        if (node.has("event")) {
          events.accept(node);
        } else {
          last = node;
        }
      }
      if (last == null) {
        throw new HostException("the supervisor at " + target + " answered '" + command + "' with HTTP "
            + response.statusCode() + " and no reply; check its log", true);
      }
      if (response.statusCode() == 401) {
        throw new HostException("the supervisor at " + target + " refused the bearer token (HTTP 401): "
            + last.path("error").asString("") + "; pass --token-file with the token of that host's [remote] token_file", false);
      }
      return last;
    } catch (UncheckedIOException e) {
      throw new HostException("the connection to the supervisor at " + target + " broke during '" + command + "': "
          + e.getCause().getMessage(), true);
    }
  }

  private JsonNode parse(String line, int status) {
    try {
      return JSON.readTree(line);
    } catch (JacksonException e) {
      throw new HostException("the supervisor at " + target + " answered HTTP " + status + " with something that is"
          + " not JSON: '" + (line.length() > 80 ? line.substring(0, 77) + "..." : line) + "'; is " + target
          + " a baton remote API?", true);
    }
  }

  @Override
  public String toString() {
    return target;
  }
}
