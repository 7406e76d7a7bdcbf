package dev.baton.supervisor;

import dev.baton.config.Config;
import dev.baton.protocol.Codec;
import dev.baton.protocol.DeployEvent;
import dev.baton.protocol.MalformedRequest;
import dev.baton.protocol.Reply;
import dev.baton.protocol.Request;
import dev.baton.protocol.Service;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The remote API's endpoints, as {@link RemoteApi} documents them: the bearer token checked first,
 * then each path with its method, answered in the control socket's JSON lines. Apart from {@link
 * RemoteApi}, which binds and runs the server, so that what a request may do reads on its own.
 */
final class RemoteRoutes implements RemoteHttp.Handler {
  /** Under {@link RemoteApi}'s name: one logger for everything the remote API says. */
  private static final Logger LOG = LoggerFactory.getLogger(RemoteApi.class);

  /** Marks the reply among the queued lines; no encoded JSON line starts with a NUL. */
  private static final String LAST = "\u0000";

  private final Supervisor supervisor;
  private final Config.Remote remote;
  private final byte[] token;

  RemoteRoutes(Supervisor supervisor, Config.Remote remote, byte[] token) {
    this.supervisor = supervisor;
    this.remote = remote;
    this.token = token;
  }

  @Override
  public void handle(RemoteHttp.Exchange exchange) throws IOException {
    if (!authorized(exchange)) {
      refusals.warn(exchange);
      var headers = RemoteHttp.json();
      headers.put("WWW-Authenticate", "Bearer realm=\"baton\"");
      send(
          exchange,
          401,
          headers,
          new Reply.Failed(
              "missing or wrong bearer token: send 'Authorization: Bearer TOKEN'"
                  + " with the token in this supervisor's [remote] token_file"));
      return;
    }
    var path = exchange.path();
    switch (path) {
      case "/v1/status" -> {
        if (allowed(exchange, "GET")) {
          var bytes =
              (Codec.encode(new Reply.StatusReply(supervisor.status()), service()) + "\n")
                  .getBytes(StandardCharsets.UTF_8);
          exchange.send(200, RemoteHttp.json(), bytes);
        }
      }
      case "/v1/deploy", "/v1/rollback" -> {
        if (allowed(exchange, "POST")) {
          deployOrRollback(exchange, path.substring("/v1/".length()));
        }
      }
      case "/v1/stop" -> {
        if (allowed(exchange, "POST")) {
          exchange.body();
          supervisor.stop().join();
          send(exchange, 200, RemoteHttp.json(), new Reply.Ok());
        }
      }
      default ->
          send(
              exchange,
              404,
              RemoteHttp.json(),
              new Reply.Failed(
                  "no such endpoint: "
                      + exchange.method()
                      + " "
                      + path
                      + "; use GET /v1/status, POST /v1/deploy, POST /v1/rollback or POST /v1/stop"));
    }
  }

  /**
   * The refusals of bad tokens, logged at most once a second with the count since: a client trying
   * tokens in a loop must not fill the log (and the disk) with a line per try.
   */
  private final Refusals refusals = new Refusals();

  private static final class Refusals {
    private final java.util.concurrent.atomic.AtomicLong last =
        new java.util.concurrent.atomic.AtomicLong(Long.MIN_VALUE);
    private final java.util.concurrent.atomic.AtomicLong since =
        new java.util.concurrent.atomic.AtomicLong();

    void warn(RemoteHttp.Exchange exchange) {
      long now = System.nanoTime();
      long before = last.get();
      if (before != Long.MIN_VALUE && now - before < 1_000_000_000L
          || !last.compareAndSet(before, now)) {
        since.incrementAndGet();
        return;
      }
      long more = since.getAndSet(0);
      LOG.warn(
          "remote API: refused {} {} from {}: missing or wrong bearer token{}",
          exchange.method(),
          exchange.path(),
          exchange.remote(),
          more == 0 ? "" : " (and " + more + " more refused since the last such line)");
    }
  }

  /** Compared in constant time: how long a refusal takes says nothing about the token. */
  private boolean authorized(RemoteHttp.Exchange exchange) {
    var header = exchange.header("Authorization").orElse("");
    if (!header.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return false;
    }
    return MessageDigest.isEqual(
        header.substring(7).strip().getBytes(StandardCharsets.UTF_8), token);
  }

  private static boolean allowed(RemoteHttp.Exchange exchange, String method) throws IOException {
    if (exchange.method().equals(method)) {
      return true;
    }
    var headers = RemoteHttp.json();
    headers.put("Allow", method);
    send(
        exchange,
        405,
        headers,
        new Reply.Failed(exchange.path() + " takes " + method + ", not " + exchange.method()));
    return false;
  }

  /**
   * What a load balancer's config needs of this service: the readiness path and the agent-check
   * address.
   */
  private Service service() {
    var config = supervisor.config();
    return new Service(
        config.readiness().http(), config.agent().map(a -> RemoteApi.hostPort(a.address())));
  }

  /**
   * A chunked 200 of JSON lines: deploy events as they happen, then the reply. The events come from
   * the supervisor's loop, which must never wait for a slow client, so they are queued here and
   * written by this exchange's own thread.
   */
  private void deployOrRollback(RemoteHttp.Exchange exchange, String command) throws IOException {
    var bytes = exchange.body();
    Request request;
    try {
      request = Codec.decodeRequest(command, new String(bytes, StandardCharsets.UTF_8));
    } catch (MalformedRequest e) {
      send(exchange, 400, RemoteHttp.json(), e.reply());
      return;
    }
    var lines = new LinkedBlockingQueue<String>();
    Consumer<DeployEvent> progress = event -> lines.add(Codec.encode(event));
    boolean await;
    CompletableFuture<Supervisor.Deployed> deployed;
    if (request instanceof Request.Deploy deploy) {
      var why = RemoteApi.forbidden(remote, deploy, supervisor.config().file());
      if (why.isPresent()) {
        LOG.warn("remote API: refused a deploy from {}: {}", exchange.remote(), why.get());
        send(exchange, 403, RemoteHttp.json(), new Reply.Failed(why.get()));
        return;
      }
      await = deploy.await();
      deployed = supervisor.deploy(deploy, progress);
    } else if (request instanceof Request.Rollback rollback) {
      await = rollback.await();
      deployed =
          supervisor.rollback(rollback.reason().orElse("requested over the remote API"), progress);
    } else {
      send(
          exchange,
          400,
          RemoteHttp.json(),
          new Reply.Failed(command + " takes a " + command + " request"));
      return;
    }
    // The reply is the last line: once it is queued, the writer below ends.
    deployed
        .thenCompose(
            d ->
                await && d.retired().isPresent()
                    ? d.retired()
                        .get()
                        .thenApply(
                            event -> {
                              lines.add(Codec.encode(event));
                              return (Reply) new Reply.Done(d.generation(), d.pid());
                            })
                    : CompletableFuture.completedFuture(
                        (Reply) new Reply.Done(d.generation(), d.pid())))
        .exceptionally(e -> new Reply.Failed(DeployException.reason(e)))
        .thenAccept(r -> lines.add(LAST + Codec.encode(r)));
    try (var out = exchange.stream(200, "application/x-ndjson")) {
      while (true) {
        var line = lines.take();
        boolean last = line.startsWith(LAST);
        out.write(
            ((last ? line.substring(LAST.length()) : line) + "\n")
                .getBytes(StandardCharsets.UTF_8));
        if (last) {
          return;
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    // A client that went away ends here with an IOException; the deploy goes on regardless, as on
    // the control socket.
  }

  private static void send(
      RemoteHttp.Exchange exchange, int code, Map<String, String> headers, Reply reply)
      throws IOException {
    exchange.send(code, headers, (Codec.encode(reply) + "\n").getBytes(StandardCharsets.UTF_8));
  }
}
