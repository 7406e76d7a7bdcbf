package dev.baton.supervisor;

import dev.baton.config.Config;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import dev.baton.protocol.Codec;
import dev.baton.protocol.DeployEvent;
import dev.baton.protocol.MalformedRequest;
import dev.baton.protocol.Reply;
import dev.baton.protocol.Request;
import dev.baton.protocol.Service;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.function.Consumer;

/**
 * The control socket's commands over HTTP/JSON, so that a rollout run on another host can reach
 * this supervisor. Bound to {@code [remote] address} (loopback unless configured otherwise);
 * every request must carry {@code Authorization: Bearer <token>}, the token being the content of
 * {@code [remote] token_file}, which must be readable by its owner only. TLS when {@code
 * tls_keystore} is set.
 *
 * <pre>
 * GET  /v1/status     {"ok":true,"status":{...},"service":{...}}
 * POST /v1/deploy     {"argv":[...],"env":{...},"wait":true}  → JSON lines: events, then the reply
 * POST /v1/rollback   {"reason":"...","wait":true}            → JSON lines: events, then the reply
 * POST /v1/stop       {"ok":true} once everything has drained
 * </pre>
 *
 * <p>The lines are those of the control socket, so one client reads both.
 */
public final class RemoteApi implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(RemoteApi.class);
  private static final int MAX_BODY = 1 << 20;
  /** Marks the reply among the queued lines; no encoded JSON line starts with a NUL. */
  private static final String LAST = "\u0000";
  private static final Set<PosixFilePermission> OWNER_ONLY =
      EnumSet.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE, PosixFilePermission.OWNER_EXECUTE);

  private final Supervisor supervisor;
  private final HttpServer server;
  private final byte[] token;
  private final String scheme;
  private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();

  private RemoteApi(Supervisor supervisor, HttpServer server, byte[] token, String scheme) {
    this.supervisor = supervisor;
    this.server = server;
    this.token = token;
    this.scheme = scheme;
  }

  /**
   * Reads the token (and the TLS keystore) and binds the address; serves nothing until {@link
   * #start()}. Called before the supervisor starts, so that a bad token file stops it before any
   * generation is spawned.
   *
   * @throws StartException when the token file is missing, empty or readable by others, the
   *     keystore cannot be loaded, or the address cannot be bound
   */
  public static RemoteApi bind(Supervisor supervisor) {
    var config = supervisor.config();
    var remote = config.remote().orElseThrow(() -> new IllegalStateException(config.file() + " has no [remote] table"));
    var token = secret(remote.tokenFile(), "[remote] token_file", config.file());
    HttpServer server;
    try {
      if (remote.tlsKeystore().isPresent()) {
        var https = HttpsServer.create(remote.address(), 64);
        https.setHttpsConfigurator(new HttpsConfigurator(tls(remote, config.file())));
        server = https;
      } else {
        server = HttpServer.create(remote.address(), 64);
      }
    } catch (BindException e) {
      throw new StartException("the remote API cannot bind " + hostPort(remote.address()) + ": " + e.getMessage()
          + "; stop whatever holds it or change [remote] address in " + config.file());
    } catch (IOException e) {
      throw new StartException("the remote API cannot listen on " + hostPort(remote.address()) + ": " + e.getMessage());
    }
    var api = new RemoteApi(supervisor, server, token.getBytes(StandardCharsets.UTF_8),
        remote.tlsKeystore().isPresent() ? "https" : "http");
    server.createContext("/", api::handle);
    server.setExecutor(api.executor);
    if (!remote.address().getAddress().isLoopbackAddress() && remote.tlsKeystore().isEmpty()) {
      LOG.warn("the remote API listens on {} without TLS: its bearer token crosses the network in clear;"
          + " set [remote] tls_keystore", hostPort(remote.address()));
    }
    return api;
  }

  /** Starts serving requests. */
  public void start() {
    server.start();
    LOG.info("remote API on {}://{}", scheme, hostPort(address()));
  }

  /** The address it listens on, with the port the kernel chose when the config said 0. */
  public InetSocketAddress address() {
    return server.getAddress();
  }

  /** Stops taking requests, lets the ones in progress finish for up to {@code grace}, then closes. */
  public CompletableFuture<Void> drain(Duration grace) {
    return CompletableFuture.runAsync(() -> server.stop((int) Math.max(0, grace.toSeconds())), Thread::startVirtualThread)
        .thenRun(executor::shutdownNow);
  }

  @Override
  public void close() {
    drain(Duration.ofSeconds(1)).join();
  }

  private void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      if (!authorized(exchange)) {
        LOG.warn("remote API: refused {} {} from {}: missing or wrong bearer token", exchange.getRequestMethod(),
            exchange.getRequestURI().getPath(), exchange.getRemoteAddress());
        exchange.getResponseHeaders().set("WWW-Authenticate", "Bearer realm=\"baton\"");
        send(exchange, 401, new Reply.Failed("missing or wrong bearer token: send 'Authorization: Bearer TOKEN' with the"
            + " token in this supervisor's [remote] token_file"));
        return;
      }
      var method = exchange.getRequestMethod();
      var path = exchange.getRequestURI().getPath();
      switch (path) {
        case "/v1/status" -> {
          if (allowed(exchange, "GET")) {
            var bytes = (Codec.encode(new Reply.StatusReply(supervisor.status()), service()) + "\n")
                .getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "application/json");
            exchange.sendResponseHeaders(200, bytes.length);
            exchange.getResponseBody().write(bytes);
          }
        }
        case "/v1/deploy", "/v1/rollback" -> {
          if (allowed(exchange, "POST")) {
            deployOrRollback(exchange, path.substring("/v1/".length()));
          }
        }
        case "/v1/stop" -> {
          if (allowed(exchange, "POST")) {
            supervisor.stop().join();
            send(exchange, 200, new Reply.Ok());
          }
        }
        default -> send(exchange, 404, new Reply.Failed("no such endpoint: " + method + " " + path
            + "; use GET /v1/status, POST /v1/deploy, POST /v1/rollback or POST /v1/stop"));
      }
    } catch (IOException | RuntimeException e) {
      LOG.debug("remote API exchange ended: {}", e.toString());
    }
  }

  /** Compared in constant time: how long a refusal takes says nothing about the token. */
  private boolean authorized(HttpExchange exchange) {
    var header = exchange.getRequestHeaders().getFirst("Authorization");
    if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return false;
    }
    return MessageDigest.isEqual(header.substring(7).strip().getBytes(StandardCharsets.UTF_8), token);
  }

  private static boolean allowed(HttpExchange exchange, String method) throws IOException {
    if (exchange.getRequestMethod().equals(method)) {
      return true;
    }
    exchange.getResponseHeaders().set("Allow", method);
    send(exchange, 405, new Reply.Failed(exchange.getRequestURI().getPath() + " takes " + method + ", not "
        + exchange.getRequestMethod()));
    return false;
  }

  /** What a load balancer's config needs of this service: the readiness path and the agent-check address. */
  private Service service() {
    var config = supervisor.config();
    return new Service(config.readiness().http(), config.agent().map(a -> hostPort(a.address())));
  }

  /**
   * A chunked 200 of JSON lines: deploy events as they happen, then the reply. The events come from
   * the supervisor's loop, which must never wait for a slow client, so they are queued here and
   * written by this exchange's own thread.
   */
  private void deployOrRollback(HttpExchange exchange, String command) throws IOException {
    var bytes = exchange.getRequestBody().readNBytes(MAX_BODY + 1);
    if (bytes.length > MAX_BODY) {
      send(exchange, 413, new Reply.Failed("request body over " + MAX_BODY + " bytes"));
      return;
    }
    Request request;
    try {
      request = Codec.decodeRequest(command, new String(bytes, StandardCharsets.UTF_8));
    } catch (MalformedRequest e) {
      send(exchange, 400, e.reply());
      return;
    }
    var lines = new LinkedBlockingQueue<String>();
    Consumer<DeployEvent> progress = event -> lines.add(Codec.encode(event));
    boolean await;
    CompletableFuture<Supervisor.Deployed> deployed;
    if (request instanceof Request.Deploy deploy) {
      await = deploy.await();
      deployed = supervisor.deploy(deploy, progress);
    } else if (request instanceof Request.Rollback rollback) {
      await = rollback.await();
      deployed = supervisor.rollback(rollback.reason().orElse("requested over the remote API"), progress);
    } else {
      throw new IllegalStateException(command + " decoded as " + request);
    }
    // The reply is the last line: once it is queued, the writer below ends.
    deployed.thenCompose(d -> await && d.retired().isPresent()
            ? d.retired().get().thenApply(event -> {
              lines.add(Codec.encode(event));
              return (Reply) new Reply.Done(d.generation(), d.pid());
            })
            : CompletableFuture.completedFuture((Reply) new Reply.Done(d.generation(), d.pid())))
        .exceptionally(e -> new Reply.Failed(DeployException.reason(e)))
        .thenAccept(r -> lines.add(LAST + Codec.encode(r)));
    exchange.getResponseHeaders().set("Content-Type", "application/x-ndjson");
    exchange.sendResponseHeaders(200, 0);
    var out = exchange.getResponseBody();
    try {
      while (true) {
        var line = lines.take();
        boolean last = line.startsWith(LAST);
        out.write(((last ? line.substring(LAST.length()) : line) + "\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
        if (last) {
          return;
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (IOException e) {
      // The client went away; the deploy goes on regardless, as on the control socket.
    }
  }

  private static void send(HttpExchange exchange, int code, Reply reply) throws IOException {
    var bytes = (Codec.encode(reply) + "\n").getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", "application/json");
    exchange.sendResponseHeaders(code, bytes.length);
    exchange.getResponseBody().write(bytes);
  }

  /**
   * A secret from a file that only its owner can read: the supervisor refuses to start with a
   * token that other users of the host could take.
   */
  static String secret(Path file, String key, Path config) {
    Set<PosixFilePermission> permissions;
    String text;
    try {
      permissions = Files.getPosixFilePermissions(file);
      text = Files.readString(file).strip();
    } catch (NoSuchFileException e) {
      throw new StartException(key + " " + file + " (in " + config + ") does not exist; create it, e.g."
          + " (umask 077; head -c 32 /dev/urandom | base64 > " + file + ")");
    } catch (IOException e) {
      throw new StartException("cannot read " + key + " " + file + ": " + e.getMessage());
    }
    if (!OWNER_ONLY.containsAll(permissions)) {
      throw new StartException(key + " " + file + " is mode " + mode(permissions) + ", so other users can read it;"
          + " it must be mode 0600: chmod 600 " + file);
    }
    if (text.isEmpty()) {
      throw new StartException(key + " " + file + " is empty; put a long random secret in it");
    }
    return text;
  }

  private static SSLContext tls(Config.Remote remote, Path config) {
    var keystore = remote.tlsKeystore().orElseThrow();
    var passwordFile = remote.tlsPasswordFile().orElseThrow(() -> new StartException(
        "[remote] tls_keystore needs tls_password_file too (in " + config + "): a file, mode 0600, with the keystore's password"));
    var password = secret(passwordFile, "[remote] tls_password_file", config).toCharArray();
    try {
      var store = KeyStore.getInstance(keystore.toFile(), password);
      var keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      keys.init(store, password);
      var context = SSLContext.getInstance("TLS");
      context.init(keys.getKeyManagers(), null, null);
      return context;
    } catch (IOException | GeneralSecurityException e) {
      throw new StartException("cannot load [remote] tls_keystore " + keystore + ": " + e.getMessage()
          + "; it must be a PKCS12 or JKS keystore whose password is in tls_password_file");
    }
  }

  private static String mode(Set<PosixFilePermission> permissions) {
    int mode = 0;
    for (var p : permissions) {
      mode |= 1 << (8 - p.ordinal());
    }
    return String.format("0%03o", mode);
  }

  private static String hostPort(InetSocketAddress address) {
    var host = address.getAddress().getHostAddress();
    return (host.contains(":") ? "[" + host + "]" : host) + ":" + address.getPort();
  }
}
