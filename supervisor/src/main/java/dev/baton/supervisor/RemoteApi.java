package dev.baton.supervisor;

import dev.baton.config.Config;
import dev.baton.protocol.Request;
import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
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

  private static final int BACKLOG = 1024;

  private final RemoteHttp server;
  private final String scheme;

  private RemoteApi(
      Supervisor supervisor,
      Config.Remote remote,
      ServerSocket listener,
      @Nullable SSLContext tls,
      RemoteHttp.Limits limits,
      byte[] token) {
    this.server =
        new RemoteHttp(listener, tls, limits, new RemoteRoutes(supervisor, remote, token));
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
    var token = RemoteSecrets.secret(remote.tokenFile(), "[remote] token_file", config.file(), uid);
    var tls =
        remote.tlsKeystore().isPresent() ? RemoteSecrets.tls(remote, config.file(), uid) : null;
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

  /** A secret from a file only its owner can read: {@link RemoteSecrets#secret}. */
  static String secret(Path file, String key, Path config, int uid) {
    return RemoteSecrets.secret(file, key, config, uid);
  }

  static String hostPort(InetSocketAddress address) {
    var host = address.getAddress().getHostAddress();
    return (host.contains(":") ? "[" + host + "]" : host) + ":" + address.getPort();
  }
}
