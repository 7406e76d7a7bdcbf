package dev.baton.haproxy;

import dev.baton.protocol.Codec;
import dev.baton.protocol.DeployEvent;
import dev.baton.protocol.Reply;
import dev.baton.protocol.Request;
import dev.baton.protocol.ServerMessage;
import dev.baton.protocol.Service;
import dev.baton.protocol.Status;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
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

/**
 * A supervisor on another host, over its remote API: HTTP/JSON with a bearer token, TLS when the
 * URL says https (trusted through the JDK's trust store, {@code -Djavax.net.ssl.trustStore}). A
 * deploy answers with JSON lines, the control socket's events and then its reply.
 */
final class RemoteApiHost implements Host {
  private final String target;
  private final URI base;
  private final String token;
  private final Duration timeout;
  private final HttpClient client;
  private volatile Optional<Service> service = Optional.empty();

  RemoteApiHost(String target, URI base, String token, Duration timeout) {
    this.target = target;
    this.base = base;
    this.token = token;
    this.timeout = timeout;
    this.client =
        HttpClient.newBuilder()
            .connectTimeout(
                timeout.compareTo(Duration.ofSeconds(5)) < 0 ? timeout : Duration.ofSeconds(5))
            .build();
  }

  @Override
  public String target() {
    return target;
  }

  @Override
  public Optional<Service> service() {
    return service;
  }

  @Override
  public Optional<InetSocketAddress> agent() {
    return service
        .flatMap(Service::agent)
        .map(
            text -> {
              int colon = text.lastIndexOf(':');
              return new InetSocketAddress(
                  text.substring(0, colon).replaceAll("^\\[|\\]$", ""),
                  Integer.parseInt(text.substring(colon + 1)));
            });
  }

  @Override
  public Status status() {
    var request = request("/v1/status").timeout(timeout).GET().build();
    var answer = lines(request, timeout, "status", e -> {});
    var status =
        HostException.expect(answer.reply(), Reply.StatusReply.class, target, "status").status();
    service = Codec.decodeService(answer.line());
    return status;
  }

  @Override
  public Reply.Done deploy(
      List<String> argv, Map<String, String> env, Duration limit, Consumer<DeployEvent> events) {
    var answer =
        lines(
            post("/v1/deploy", new Request.Deploy(Host.argv(argv), env, true)),
            limit,
            "deploy",
            events);
    return HostException.expect(answer.reply(), Reply.Done.class, target, "deploy");
  }

  @Override
  public Reply.Done rollback(String reason, Duration limit, Consumer<DeployEvent> events) {
    var answer =
        lines(
            post("/v1/rollback", new Request.Rollback(Optional.of(reason), true)),
            limit,
            "rollback",
            events);
    return HostException.expect(answer.reply(), Reply.Done.class, target, "rollback");
  }

  /** The request as its body; the path names the command, and the remote API ignores the body's. */
  private HttpRequest post(String path, Request body) {
    return request(path)
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(Codec.encode(body)))
        .build();
  }

  private HttpRequest.Builder request(String path) {
    return HttpRequest.newBuilder(base.resolve(base.getPath() + path))
        .header("Authorization", "Bearer " + token)
        .header("Accept", "application/x-ndjson, application/json");
  }

  /** The final line of an answer, as it came (for what only the remote API says) and decoded. */
  private record Answer(Reply reply, String line) {}

  /**
   * Sends the request; events before the final line go to {@code events}; the final line is
   * returned.
   */
  private Answer lines(
      HttpRequest request, Duration limit, String command, Consumer<DeployEvent> events) {
    return TimeLimit.call(
        limit,
        () -> send(request, command, events),
        () ->
            new HostException(
                "the supervisor at "
                    + target
                    + " did not finish '"
                    + command
                    + "' within "
                    + limit.toSeconds()
                    + " s; check that host and its supervisor's log",
                true));
  }

  private Answer send(HttpRequest request, String command, Consumer<DeployEvent> events) {
    HttpResponse<Stream<String>> response;
    try {
      response = client.send(request, HttpResponse.BodyHandlers.ofLines());
    } catch (HttpConnectTimeoutException e) {
      throw new HostException(
          "cannot reach the supervisor at "
              + target
              + ": no connection within "
              + timeout.toSeconds()
              + " s; check the host, its [remote] address and any firewall",
          true);
    } catch (ConnectException e) {
      throw new HostException(
          "cannot reach the supervisor at "
              + target
              + ": connection refused; is baton running"
              + " there with a [remote] table listening on "
              + base.getAuthority()
              + "?",
          true);
    } catch (HttpTimeoutException e) {
      throw new HostException(
          "the supervisor at "
              + target
              + " did not answer '"
              + command
              + "' within "
              + timeout.toSeconds()
              + " s",
          true);
    } catch (IOException e) {
      throw new HostException(
          "cannot talk to the supervisor at " + target + " ('" + command + "'): " + e, true);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new HostException("interrupted while talking to " + target, true);
    }
    int code = response.statusCode();
    try (var lines = response.body()) {
      Answer last = null;
      for (var it = lines.iterator(); it.hasNext(); ) {
        var line = it.next();
        if (line.isBlank()) {
          continue;
        }
        switch (decode(line, code)) {
          case DeployEvent event -> events.accept(event);
          case Reply reply -> last = new Answer(reply, line);
        }
      }
      if (last == null && code == 503) {
        throw new HostException(
            "the remote API of the supervisor at "
                + target
                + " is at its connection limit (HTTP"
                + " 503); something holds many connections to it: look at that host's open connections to its [remote]"
                + " address, then try again",
            true);
      }
      if (last == null) {
        throw new HostException(
            "the supervisor at "
                + target
                + " answered '"
                + command
                + "' with HTTP "
                + code
                + " and no reply; check its log",
            true);
      }
      if (code == 401) {
        var why = last.reply() instanceof Reply.Failed failed ? failed.error() : "";
        throw new HostException(
            "the supervisor at "
                + target
                + " refused the bearer token (HTTP 401): "
                + why
                + "; pass --token-file with the token of that host's [remote] token_file",
            false);
      }
      return last;
    } catch (UncheckedIOException e) {
      throw new HostException(
          "the connection to the supervisor at "
              + target
              + " broke during '"
              + command
              + "': "
              + (e.getCause() == null ? e : e.getCause()).getMessage(),
          true);
    }
  }

  private ServerMessage decode(String line, int status) {
    try {
      return Codec.decodeMessage(line);
    } catch (IllegalArgumentException e) {
      throw new HostException(
          "the supervisor at "
              + target
              + " answered HTTP "
              + status
              + " with something that is"
              + " not the control protocol: '"
              + (line.length() > 80 ? line.substring(0, 77) + "..." : line)
              + "'; is "
              + target
              + " a baton remote API?",
          true);
    }
  }

  @Override
  public String toString() {
    return target;
  }
}
