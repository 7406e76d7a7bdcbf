package dev.baton.supervisor;

import dev.baton.config.Config;
import dev.baton.protocol.Codec;
import dev.baton.protocol.DeployEvent;
import dev.baton.protocol.MalformedRequest;
import dev.baton.protocol.Reply;
import dev.baton.protocol.Request;
import dev.baton.protocol.Service;
import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
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
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.function.Consumer;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The control socket's commands over HTTP/JSON, so that a rollout run on another host can reach
 * this supervisor. Bound to {@code [remote] address} (loopback unless configured otherwise); every
 * request must carry {@code Authorization: Bearer <token>}, the token being the content of {@code
 * [remote] token_file}, which must be owned by the supervisor's user and readable by it only. TLS
 * when {@code tls_keystore} is set; off loopback it must be, unless {@code insecure = true}.
 *
 * <pre>
 * GET  /v1/status     {"ok":true,"status":{...},"service":{...}}
 * POST /v1/deploy     {"argv":[...],"env":{...},"wait":true}  → JSON lines: events, then the reply
 * POST /v1/rollback   {"reason":"...","wait":true}            → JSON lines: events, then the reply
 * POST /v1/stop       {"ok":true} once everything has drained
 * </pre>
 *
 * <p>The lines are those of the control socket, so one client reads both. A deploy runs the
 * configured {@code [app] command} unless {@code allow_argv = true}, and sets only the environment
 * keys in {@code allow_env}; anything else is refused with 403 and the key that would allow it.
 *
 * <p>Limits, per {@link RemoteHttp}: 64 open connections (the next is answered 503 and closed at
 * once); request line and headers within 8 KiB and 64 lines (431); a body of at most 64 KiB with a
 * Content-Length, refused (413) before a byte of it is read, and read only once the token is right;
 * the whole request, TLS handshake included, within 10 s of the connection, however slowly it
 * trickles; each write of the answer within 10 s. Every connection is closed after its answer.
 */
public final class RemoteApi implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(RemoteApi.class);

  /** Marks the reply among the queued lines; no encoded JSON line starts with a NUL. */
  private static final String LAST = "\u0000";

  private static final int BACKLOG = 1024;
  private static final Set<PosixFilePermission> OWNER_ONLY =
      EnumSet.of(
          PosixFilePermission.OWNER_READ,
          PosixFilePermission.OWNER_WRITE,
          PosixFilePermission.OWNER_EXECUTE);

  private final Supervisor supervisor;
  private final Config.Remote remote;
  private final RemoteHttp server;
  private final byte[] token;
  private final String scheme;

  private RemoteApi(
      Supervisor supervisor,
      Config.Remote remote,
      ServerSocket listener,
      @Nullable SSLContext tls,
      RemoteHttp.Limits limits,
      byte[] token) {
    this.supervisor = supervisor;
    this.remote = remote;
    this.server = new RemoteHttp(listener, tls, limits, this::handle);
    this.token = token;
    this.scheme = tls != null ? "https" : "http";
  }

  /**
   * Reads the token (and the TLS keystore) and binds the address; serves nothing until {@link
   * #start()}. Called before the supervisor starts, so that a bad token file stops it before any
   * generation is spawned.
   *
   * @throws StartException when the token file is missing, empty, readable by others or owned by
   *     another user, the keystore cannot be loaded, the address is off loopback without TLS or
   *     {@code insecure = true}, or the address cannot be bound
   */
  public static RemoteApi bind(Supervisor supervisor) {
    return bind(supervisor, RemoteHttp.Limits.DEFAULT, supervisor.os().uid());
  }

  /**
   * With other limits, and the uid that must own the secrets: tests run as one user and fake
   * another.
   */
  static RemoteApi bind(Supervisor supervisor, RemoteHttp.Limits limits, int uid) {
    var config = supervisor.config();
    var remote =
        config
            .remote()
            .orElseThrow(() -> new IllegalStateException(config.file() + " has no [remote] table"));
    if (!remote.address().getAddress().isLoopbackAddress()
        && remote.tlsKeystore().isEmpty()
        && !remote.insecure()) {
      throw new StartException(
          "the remote API would listen on "
              + hostPort(remote.address())
              + " without TLS, so its"
              + " bearer token would cross the network in clear; set [remote] tls_keystore (and tls_password_file) in "
              + config.file()
              + ", or write insecure = true in [remote] if the network is trusted");
    }
    var token = secret(remote.tokenFile(), "[remote] token_file", config.file(), uid);
    var tls = remote.tlsKeystore().isPresent() ? tls(remote, config.file(), uid) : null;
    ServerSocket listener;
    try {
      listener = new ServerSocket();
    } catch (IOException e) {
      throw new StartException("the remote API cannot open a socket: " + e.getMessage());
    }
    try {
      // An upgrade's new process binds the same port the moment the old one has let it go.
      listener.setReuseAddress(true);
      // A backlog far over the connection cap: the cap is kept by accepting and closing at once. A
      // full backlog would instead leave the excess half-open, the client "connected" while the
      // kernel resends SYN-ACKs for up to a minute (measured by HostileClientsTest: 45 s with 64).
      listener.bind(remote.address(), BACKLOG);
    } catch (BindException e) {
      close(listener);
      throw new StartException(
          "the remote API cannot bind "
              + hostPort(remote.address())
              + ": "
              + e.getMessage()
              + "; stop whatever holds it or change [remote] address in "
              + config.file());
    } catch (IOException e) {
      close(listener);
      throw new StartException(
          "the remote API cannot listen on " + hostPort(remote.address()) + ": " + e.getMessage());
    }
    if (!remote.address().getAddress().isLoopbackAddress() && tls == null) {
      LOG.warn(
          "the remote API listens on {} without TLS (insecure = true): its bearer token crosses the network in"
              + " clear",
          hostPort(remote.address()));
    }
    return new RemoteApi(
        supervisor, remote, listener, tls, limits, token.getBytes(StandardCharsets.UTF_8));
  }

  private static void close(ServerSocket listener) {
    try {
      if (listener != null) {
        listener.close();
      }
    } catch (IOException e) {
      // Not bound: nothing to free.
    }
  }

  /** Starts serving requests. */
  public void start() {
    server.start();
    LOG.info("remote API on {}://{}", scheme, hostPort(address()));
  }

  /** The address it listens on, with the port the kernel chose when the config said 0. */
  InetSocketAddress address() {
    return server.address();
  }

  /** The server under the API, for tests that count what it refused. */
  RemoteHttp http() {
    return server;
  }

  /**
   * Stops taking requests, lets the ones in progress finish for up to {@code grace}, then closes.
   */
  CompletableFuture<Void> drain(Duration grace) {
    return CompletableFuture.runAsync(() -> server.stop(grace), Thread::startVirtualThread);
  }

  @Override
  public void close() {
    drain(Duration.ofSeconds(1)).join();
  }

  private void handle(RemoteHttp.Exchange exchange) throws IOException {
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
    return new Service(config.readiness().http(), config.agent().map(a -> hostPort(a.address())));
  }

  /**
   * Why {@code deploy} may not run as asked, naming the key that would allow it; empty when it may.
   * A token opens deploys, but what runs stays what this host's config says unless it says more.
   */
  static Optional<String> forbidden(Config.Remote remote, Request.Deploy deploy, Path config) {
    if (deploy.argv().isPresent() && !remote.allowArgv()) {
      return Optional.of(
          "this supervisor runs its configured [app] command on a remote deploy and takes no argv;"
              + " set [remote] allow_argv = true in "
              + config
              + " to allow one");
    }
    for (var key : deploy.env().keySet().stream().sorted().toList()) {
      if (!remote.allowEnv().contains(key)) {
        return Optional.of(
            "a remote deploy may not set the environment variable "
                + key
                + "; add \""
                + key
                + "\" to [remote] allow_env in "
                + config
                + " to allow it");
      }
    }
    return Optional.empty();
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
      var why = forbidden(remote, deploy, supervisor.config().file());
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

  /**
   * A secret from a file that only its owner can read: the supervisor refuses to start with a token
   * that other users of the host could take.
   */
  static String secret(Path file, String key, Path config, int uid) {
    Set<PosixFilePermission> permissions;
    String text;
    int owner;
    try {
      permissions = Files.getPosixFilePermissions(file);
      owner = (Integer) Files.getAttribute(file, "unix:uid");
      text = Files.readString(file).strip();
    } catch (NoSuchFileException e) {
      throw new StartException(
          key
              + " "
              + file
              + " (in "
              + config
              + ") does not exist; create it, e.g."
              + " (umask 077; head -c 32 /dev/urandom | base64 > "
              + file
              + ")");
    } catch (IOException e) {
      throw new StartException("cannot read " + key + " " + file + ": " + e.getMessage());
    }
    // Another user who owns the file can rewrite it, and with it the token, whatever its mode.
    if (owner != uid) {
      throw new StartException(
          key
              + " "
              + file
              + " is owned by uid "
              + owner
              + ", not by uid "
              + uid
              + ", the user"
              + " baton runs as, so another user can change it; chown "
              + uid
              + " "
              + file
              + " (and keep it mode 0600)");
    }
    if (!OWNER_ONLY.containsAll(permissions)) {
      throw new StartException(
          key
              + " "
              + file
              + " is mode "
              + mode(permissions)
              + ", so other users can read it;"
              + " it must be mode 0600: chmod 600 "
              + file);
    }
    if (text.isEmpty()) {
      throw new StartException(key + " " + file + " is empty; put a long random secret in it");
    }
    return text;
  }

  private static SSLContext tls(Config.Remote remote, Path config, int uid) {
    var keystore = remote.tlsKeystore().orElseThrow();
    var passwordFile =
        remote
            .tlsPasswordFile()
            .orElseThrow(
                () ->
                    new StartException(
                        "[remote] tls_keystore needs tls_password_file too (in "
                            + config
                            + "): a file, mode 0600, with the keystore's password"));
    var password = secret(passwordFile, "[remote] tls_password_file", config, uid).toCharArray();
    try {
      var store = KeyStore.getInstance(keystore.toFile(), password);
      var keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      keys.init(store, password);
      var context = SSLContext.getInstance("TLS");
      context.init(keys.getKeyManagers(), null, null);
      return context;
    } catch (IOException | GeneralSecurityException e) {
      throw new StartException(
          "cannot load [remote] tls_keystore "
              + keystore
              + ": "
              + e.getMessage()
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
