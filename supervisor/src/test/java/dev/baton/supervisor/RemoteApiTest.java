package dev.baton.supervisor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.baton.config.Config;
import dev.baton.protocol.Request;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The token file's checks, the policy for what a remote deploy may set, and the server's limits,
 * against a live RemoteApi on loopback in front of a stopped supervisor (which answers status, and
 * refuses deploys, from any thread).
 */
class RemoteApiTest {
  static final String TOKEN = "s3cret-token";

  @TempDir Path dir;
  private RemoteApi api;

  @AfterEach
  void close() {
    if (api != null) {
      api.close();
    }
  }

  private Path token(String text, String mode) throws Exception {
    var file = dir.resolve("token");
    Files.writeString(file, text);
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString(mode));
    return file;
  }

  static int owner(Path file) throws IOException {
    return (Integer) Files.getAttribute(file, "unix:uid");
  }

  /** A supervisor whose loop has ended, with a [remote] table and its token file in {@code dir}. */
  static Supervisor stoppedSupervisor(Path dir, String remote) throws Exception {
    var file = dir.resolve("token");
    Files.writeString(file, TOKEN + "\n");
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    var harness = new Harness(dir);
    harness.start(Harness.BASE + "\n[remote]\ntoken_file = \"token\"\n" + remote);
    harness.supervisor.stop();
    harness.advance(Duration.ofSeconds(5));
    assertThat(harness.supervisor.stopped()).isDone();
    // Ends the stopped loop as baton run's thread would, so that calls from other threads run at
    // once.
    harness.supervisor.loop().run();
    return harness.supervisor;
  }

  private RemoteApi live(String remote, RemoteHttp.Limits limits) throws Exception {
    var supervisor = stoppedSupervisor(dir, "address = \"127.0.0.1:0\"\n" + remote);
    api = RemoteApi.bind(supervisor, limits, owner(dir.resolve("token")));
    api.start();
    return api;
  }

  /** Sends {@code request} and returns all the server answers before it closes the connection. */
  static String exchange(RemoteApi api, String request) throws IOException {
    try (var socket = new Socket(api.address().getAddress(), api.address().getPort())) {
      socket.setSoTimeout(10_000);
      socket.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
      return readToEnd(socket.getInputStream());
    }
  }

  static String readToEnd(InputStream in) throws IOException {
    try {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (SocketException e) {
      return "(reset: " + e.getMessage() + ")";
    }
  }

  static String post(String path, String token, String body) {
    return "POST "
        + path
        + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
        + token
        + "\r\nContent-Type: application/json\r\n"
        + "Content-Length: "
        + body.getBytes(StandardCharsets.UTF_8).length
        + "\r\n\r\n"
        + body;
  }

  @Test
  void aTokenFileReadableByItsOwnerOnlyIsRead() throws Exception {
    var file = token("s3cret\n", "rw-------");
    assertThat(
            RemoteApi.secret(file, "[remote] token_file", dir.resolve("baton.toml"), owner(file)))
        .isEqualTo("s3cret");
  }

  @Test
  void aTokenFileOthersCanReadStopsTheSupervisorWithTheFix() throws Exception {
    var file = token("s3cret", "rw-r--r--");

    assertThatThrownBy(
            () ->
                RemoteApi.secret(
                    file, "[remote] token_file", dir.resolve("baton.toml"), owner(file)))
        .isInstanceOf(StartException.class)
        .hasMessageContaining("is mode 0644, so other users can read it")
        .hasMessageContaining("chmod 600 " + file);
  }

  @Test
  void aTokenFileOwnedByAnotherUserStopsTheSupervisorWithTheFix() throws Exception {
    var file = token("s3cret", "rw-------");
    int someoneElse = owner(file) + 1;

    assertThatThrownBy(
            () ->
                RemoteApi.secret(
                    file, "[remote] token_file", dir.resolve("baton.toml"), someoneElse))
        .isInstanceOf(StartException.class)
        .hasMessage(
            "[remote] token_file "
                + file
                + " is owned by uid "
                + owner(file)
                + ", not by uid "
                + someoneElse
                + ", the user baton runs as, so another user can change it; chown "
                + someoneElse
                + " "
                + file
                + " (and keep it mode 0600)");
  }

  @Test
  void anEmptyTokenFileIsRefused() throws Exception {
    var file = token("\n", "rw-------");
    assertThatThrownBy(
            () ->
                RemoteApi.secret(
                    file, "[remote] token_file", dir.resolve("baton.toml"), owner(file)))
        .hasMessageContaining("is empty");
  }

  @Test
  void aMissingTokenFileSaysHowToMakeOne() {
    assertThatThrownBy(
            () ->
                RemoteApi.secret(
                    dir.resolve("nope"), "[remote] token_file", dir.resolve("baton.toml"), 0))
        .hasMessageContaining("does not exist; create it");
  }

  @Test
  void offLoopbackWithoutTlsOrInsecureTheSupervisorRefusesToStartNamingBothFixes()
      throws Exception {
    var supervisor = stoppedSupervisor(dir, "address = \"0.0.0.0:0\"\n");

    assertThatThrownBy(
            () ->
                RemoteApi.bind(supervisor, RemoteHttp.Limits.DEFAULT, owner(dir.resolve("token"))))
        .isInstanceOf(StartException.class)
        .hasMessage(
            "the remote API would listen on 0.0.0.0:0 without TLS, so its bearer token would cross the network"
                + " in clear; set [remote] tls_keystore (and tls_password_file) in "
                + dir.resolve("baton.toml")
                + ", or write insecure = true in [remote] if the network is trusted");
  }

  @Test
  void offLoopbackWithInsecureTrueItStarts() throws Exception {
    var supervisor = stoppedSupervisor(dir, "address = \"0.0.0.0:0\"\ninsecure = true\n");
    api = RemoteApi.bind(supervisor, RemoteHttp.Limits.DEFAULT, owner(dir.resolve("token")));
    assertThat(api.address().getPort()).isPositive();
  }

  @Test
  void aRemoteDeployMayNotChooseArgvOrEnvUnlessTheConfigAllowsIt() {
    var config = Path.of("/srv/baton.toml");
    var strict =
        new Config.Remote(
            null,
            Path.of("t"),
            Optional.empty(),
            Optional.empty(),
            false,
            List.of("LOG_LEVEL"),
            false);
    var open =
        new Config.Remote(
            null,
            Path.of("t"),
            Optional.empty(),
            Optional.empty(),
            true,
            List.of("LOG_LEVEL"),
            false);

    assertThat(
            RemoteApi.forbidden(
                strict, new Request.Deploy(Optional.of(List.of("sh")), Map.of(), true), config))
        .contains(
            "this supervisor runs its configured [app] command on a remote deploy and takes no argv; set [remote]"
                + " allow_argv = true in /srv/baton.toml to allow one");
    assertThat(
            RemoteApi.forbidden(
                strict,
                new Request.Deploy(
                    Optional.empty(), Map.of("LD_PRELOAD", "x", "LOG_LEVEL", "d"), true),
                config))
        .contains(
            "a remote deploy may not set the environment variable LD_PRELOAD; add \"LD_PRELOAD\" to [remote]"
                + " allow_env in /srv/baton.toml to allow it");
    assertThat(
            RemoteApi.forbidden(
                strict,
                new Request.Deploy(Optional.empty(), Map.of("LOG_LEVEL", "debug"), true),
                config))
        .isEmpty();
    assertThat(
            RemoteApi.forbidden(
                open, new Request.Deploy(Optional.of(List.of("sh")), Map.of(), true), config))
        .isEmpty();
  }

  @Test
  void aDeployWithArgvGets403WithOneLineOfJsonNamingTheKey() throws Exception {
    live("", RemoteHttp.Limits.DEFAULT);

    var answer =
        exchange(
            api,
            post("/v1/deploy", TOKEN, "{\"argv\":[\"/bin/sh\",\"-c\",\"evil\"],\"wait\":true}"));

    assertThat(answer).startsWith("HTTP/1.1 403 Forbidden\r\n");
    var body = answer.substring(answer.indexOf("\r\n\r\n") + 4);
    assertThat(body)
        .isEqualTo(
            "{\"ok\":false,\"error\":\"this supervisor runs its configured [app] command on a remote"
                + " deploy and takes no argv; set [remote] allow_argv = true in "
                + dir.resolve("baton.toml")
                + " to allow one\"}\n");
  }

  @Test
  void withAllowArgvTheDeployReachesTheSupervisor() throws Exception {
    live("allow_argv = true\n", RemoteHttp.Limits.DEFAULT);

    var answer =
        exchange(api, post("/v1/deploy", TOKEN, "{\"argv\":[\"/bin/true\"],\"wait\":true}"));

    // Past the policy: this supervisor has stopped, so it is the supervisor that says no.
    assertThat(answer)
        .startsWith("HTTP/1.1 200 OK\r\n")
        .contains("the supervisor is stopping; it takes no more deploys");
  }

  @Test
  void statusAnswersWithTheTokenAnd401WithoutIt() throws Exception {
    live("", RemoteHttp.Limits.DEFAULT);

    assertThat(
            exchange(api, "GET /v1/status HTTP/1.1\r\nAuthorization: Bearer " + TOKEN + "\r\n\r\n"))
        .startsWith("HTTP/1.1 200 OK\r\n")
        .contains("\"ok\":true");
    assertThat(exchange(api, "GET /v1/status HTTP/1.1\r\nAuthorization: Bearer wrong\r\n\r\n"))
        .startsWith("HTTP/1.1 401 Unauthorized\r\n")
        .contains("WWW-Authenticate: Bearer realm=\"baton\"");
  }

  @Test
  void connectionsOverTheCapAreAnswered503AndClosedAtOnce() throws Exception {
    live("", new RemoteHttp.Limits(4, 8 << 10, 64, 64 << 10, Duration.ofSeconds(30)));
    var held = new java.util.ArrayList<Socket>();
    try {
      for (int i = 0; i < 4; i++) {
        held.add(new Socket(api.address().getAddress(), api.address().getPort()));
      }
      // The four are counted once the server has accepted them; the refusal count says when.
      awaitAccepted(held);

      long start = System.nanoTime();
      try (var extra = new Socket(api.address().getAddress(), api.address().getPort())) {
        extra.setSoTimeout(10_000);
        assertThat(readToEnd(extra.getInputStream()))
            .startsWith("HTTP/1.1 503 Service Unavailable\r\n");
      }
      // Closed long before the 30 s request deadline could have closed it.
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
      assertThat(api.http().refused()).isEqualTo(1);
    } finally {
      for (var s : held) {
        s.close();
      }
    }
  }

  /**
   * Waits until the server holds one connection per socket: a status request on another would then
   * be refused.
   */
  private void awaitAccepted(List<Socket> sockets) throws Exception {
    for (var socket : sockets) {
      socket.getOutputStream().write('G');
    }
    long end = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (api.http().open() < sockets.size() && System.nanoTime() < end) {
      Thread.sleep(10);
    }
    assertThat(api.http().open()).isEqualTo(sockets.size());
  }

  @Test
  void anEndlessHeaderIsCutAtTheHeaderLimitWith431() throws Exception {
    live("", RemoteHttp.Limits.DEFAULT);

    var answer =
        exchange(api, "GET /v1/status HTTP/1.1\r\nX-Endless: " + "a".repeat(64 << 10) + "\r\n\r\n");

    assertThat(answer)
        .startsWith("HTTP/1.1 431 Request Header Fields Too Large\r\n")
        .contains("request line and headers over 8192 bytes");
  }

  @Test
  void aClientTricklingOneByteAtATimeIsClosedAtTheRequestDeadline() throws Exception {
    live("", new RemoteHttp.Limits(64, 1 << 20, 64, 64 << 10, Duration.ofSeconds(1)));
    var stop = new AtomicBoolean();
    try (var socket = new Socket(api.address().getAddress(), api.address().getPort())) {
      socket.setSoTimeout(20_000);
      long start = System.nanoTime();
      var writer =
          Thread.ofVirtual()
              .start(
                  () -> {
                    try {
                      var out = socket.getOutputStream();
                      out.write(
                          "GET /v1/status HTTP/1.1\r\nX-Slow: "
                              .getBytes(StandardCharsets.US_ASCII));
                      while (!stop.get()) {
                        out.write('a');
                        out.flush();
                        Thread.sleep(20);
                      }
                    } catch (IOException | InterruptedException e) {
                      // The server closed it: what the test waits for.
                    }
                  });
      var answer = readToEnd(socket.getInputStream());
      var took = Duration.ofNanos(System.nanoTime() - start);
      stop.set(true);
      writer.join();

      assertThat(answer).isIn("", "(reset: Connection reset)");
      assertThat(took).isBetween(Duration.ofMillis(900), Duration.ofSeconds(6));
      assertThat(api.http().expired()).isEqualTo(1);
    }
  }

  @Test
  void aBodyOverTheLimitIs413BeforeAByteOfItIsRead() throws Exception {
    live("", new RemoteHttp.Limits(64, 8 << 10, 64, 64 << 10, Duration.ofSeconds(30)));

    // No body follows: reading it would wait for the 30 s deadline instead of answering.
    var answer =
        exchange(
            api,
            "POST /v1/deploy HTTP/1.1\r\nAuthorization: Bearer "
                + TOKEN
                + "\r\nContent-Length: 1000000000\r\n\r\n");

    assertThat(answer)
        .startsWith("HTTP/1.1 413 Content Too Large\r\n")
        .contains("request body over 65536 bytes");
  }

  @Test
  void withoutTheTokenTheBodyIsNotRead() throws Exception {
    live("", new RemoteHttp.Limits(64, 8 << 10, 64, 64 << 10, Duration.ofSeconds(30)));

    var answer = exchange(api, "POST /v1/deploy HTTP/1.1\r\nContent-Length: 60000\r\n\r\n{");

    assertThat(answer).startsWith("HTTP/1.1 401 Unauthorized\r\n");
  }
}
