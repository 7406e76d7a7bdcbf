package dev.baton.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.baton.haproxy.RuntimeApi;
import dev.baton.haproxy.ServerState;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * A fleet as the issue describes it, on loopback: a real `baton run` per server (each with its own
 * directory, port, remote API and agent-check), and one real HAProxy 2.6 in front of them, whose
 * config is what `baton haproxy-config` prints. Servers are reached three ways, to cover every kind
 * of TARGET: s1 by its baton.toml, s2 by its control socket, s3 by its remote API URL.
 *
 * <p>Closing it stops HAProxy by its pid and each supervisor as {@link Service} does.
 */
final class HaproxyFleet implements AutoCloseable {
  static final Path HAPROXY = Path.of("/usr/sbin/haproxy");
  static final JsonMapper JSON = JsonMapper.builder().build();

  final Path dir;
  final Path token;
  final Path adminSocket;

  /** HAProxy's frontend; chosen as HAProxy starts, so that nothing else has taken it meanwhile. */
  int frontendPort;

  final List<Service> services = new ArrayList<>();
  final List<Integer> remotePorts = new ArrayList<>();
  private Process haproxy;

  private HaproxyFleet(Path dir) throws IOException {
    this.dir = dir;
    this.token = dir.resolve("token");
    this.adminSocket = dir.resolve("admin.sock");
  }

  /**
   * Starts {@code size} supervisors of the sample, then HAProxy; returns once every server is up in
   * HAProxy.
   */
  static HaproxyFleet start(Path dir, int size) throws Exception {
    assertThat(HAPROXY)
        .as("HAProxy is installed by .ci/run (apt-get install haproxy)")
        .isExecutable();
    var fleet = new HaproxyFleet(dir);
    try {
      Files.writeString(fleet.token, "e2e-" + System.nanoTime() + "\n");
      Files.setPosixFilePermissions(fleet.token, PosixFilePermissions.fromString("rw-------"));
      for (int i = 1; i <= size; i++) {
        fleet.services.add(fleet.launch(Files.createDirectories(dir.resolve("s" + i))));
      }
      fleet.startHaproxy();
      return fleet;
    } catch (Exception | AssertionError e) {
      fleet.close();
      throw e;
    }
  }

  /**
   * One supervisor of the fleet, active, with its remote API and agent-check on ports that were
   * free a moment ago. Such a port can be taken before the supervisor binds it, as the local port
   * of a connection of earlier tests' load (a CI run lost one so): then it is started again on
   * others.
   */
  private Service launch(Path serviceDir) throws Exception {
    for (int attempt = 1; ; attempt++) {
      int remotePort = freePort();
      var service =
          Service.launch(
              serviceDir,
              Service.sampleConfig(
                  """
            [remote]
            address = "127.0.0.1:%d"
            token_file = "%s"
            allow_argv = true

            [agent]
            address = "127.0.0.1:%d"
            """
                      .formatted(remotePort, token, freePort())));
      try {
        service.awaitActive(Duration.ofSeconds(60));
        remotePorts.add(remotePort);
        return service;
      } catch (AssertionError e) {
        service.close();
        if (attempt == 3 || !String.valueOf(e.getMessage()).contains("Address already in use")) {
          throw e;
        }
      }
    }
  }

  String name(int i) {
    return "s" + (i + 1);
  }

  /** s1 by its config file, s2 by its control socket, s3 (and on) by its remote API. */
  String target(int i) {
    return switch (i) {
      case 0 -> services.get(i).config.toString();
      case 1 -> services.get(i).dir.resolve("baton.sock").toString();
      default -> "http://127.0.0.1:" + remotePorts.get(i);
    };
  }

  List<String> serverOptions() {
    var options = new ArrayList<String>();
    for (int i = 0; i < services.size(); i++) {
      options.add("--server");
      options.add(name(i) + "=" + target(i));
    }
    return options;
  }

  private void startHaproxy() throws Exception {
    // A port free a moment ago can be taken before HAProxy binds it: by then the load of earlier
    // tests may hold it as the local port of a connection. Then pick another.
    for (int attempt = 1; ; attempt++) {
      frontendPort = freePort();
      var args =
          new ArrayList<>(
              List.of(
                  "haproxy-config",
                  "--backend",
                  "app",
                  "--token-file",
                  token.toString(),
                  "--inter",
                  "300ms",
                  "--listen",
                  "127.0.0.1:" + frontendPort,
                  "--stats-socket",
                  adminSocket.toString()));
      args.addAll(serverOptions());
      var generated = baton(args);
      assertThat(generated.exit()).as(generated.stderr()).isZero();
      var config = dir.resolve("haproxy.cfg");
      Files.writeString(config, generated.stdout());
      haproxy =
          new ProcessBuilder(HAPROXY.toString(), "-db", "-f", config.toString())
              .redirectErrorStream(true)
              .redirectOutput(dir.resolve("haproxy.log").toFile())
              .start();
      if (haproxy.waitFor(300, TimeUnit.MILLISECONDS)
          && log().contains("Address already in use")
          && attempt < 3) {
        continue;
      }
      break;
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (System.nanoTime() < deadline) {
      assertThat(haproxy.isAlive()).as("haproxy runs: %s", log()).isTrue();
      if (socketAnswers() && servers().stream().allMatch(s -> s.up() && s.ready())) {
        return;
      }
      Service.sleep(50);
    }
    throw new AssertionError(
        "HAProxy did not see every server up within 20 s: " + servers() + "\n" + log());
  }

  private boolean socketAnswers() {
    try (var c = SocketChannel.open(StandardProtocolFamily.UNIX)) {
      c.connect(UnixDomainSocketAddress.of(adminSocket));
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  RuntimeApi api() {
    return RuntimeApi.connect(adminSocket.toString(), Duration.ofSeconds(5));
  }

  List<ServerState> servers() {
    return api().servers("app");
  }

  void assertEveryServerReadyAndUp() {
    var deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    var servers = servers();
    // Up may lag ready by one health check, e.g. after a rollback's last step.
    while (!servers.stream().allMatch(ServerState::up) && System.nanoTime() < deadline) {
      Service.sleep(50);
      servers = servers();
    }
    assertThat(servers)
        .as("every server of backend app")
        .hasSize(services.size())
        .allSatisfy(
            s -> {
              assertThat(s.ready()).as(s + " is ready").isTrue();
              assertThat(s.up()).as(s + " is up").isTrue();
              assertThat(s.userWeight()).as(s + " has its weight back").isEqualTo(100);
            });
  }

  /** The active generation's command on server i, as its supervisor reports it. */
  List<String> activeCommand(int i) {
    var status = services.get(i).status();
    int active = status.path("active_generation").asInt();
    for (var g : status.path("generations")) {
      if (g.path("number").asInt() == active) {
        return g.path("command").valueStream().map(JsonNode::asString).toList();
      }
    }
    throw new AssertionError("no active generation in " + status);
  }

  /** `baton rollout` against this fleet, as its own process, with --json. */
  Result rollout(String... extra) throws Exception {
    var args =
        new ArrayList<>(
            List.of(
                "rollout",
                "--haproxy",
                adminSocket.toString(),
                "--backend",
                "app",
                "--token-file",
                token.toString(),
                "--json"));
    args.addAll(serverOptions());
    args.addAll(List.of(extra));
    return baton(args);
  }

  Result baton(List<String> args) throws Exception {
    var stderr = Files.createTempFile(dir, "stderr", ".txt");
    var process =
        Service.batonCommand(dir, args.toArray(String[]::new))
            .redirectError(stderr.toFile())
            .start();
    var out = new String(process.getInputStream().readAllBytes());
    assertThat(process.waitFor(3, TimeUnit.MINUTES))
        .as("baton %s finished", args.getFirst())
        .isTrue();
    return new Result(process.exitValue(), out, Files.readString(stderr));
  }

  /** A finished `baton` command: exit status, stdout, stderr. */
  record Result(int exit, String stdout, String stderr) {
    List<JsonNode> lines() {
      return stdout.lines().filter(l -> l.startsWith("{")).map(JSON::readTree).toList();
    }

    JsonNode last() {
      return lines().getLast();
    }
  }

  String log() {
    try {
      return Files.readString(dir.resolve("haproxy.log"));
    } catch (IOException e) {
      return "(no haproxy log: " + e + ")";
    }
  }

  static int freePort() throws IOException {
    try (var s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  @Override
  public void close() throws InterruptedException {
    if (haproxy != null) {
      haproxy.destroy();
      if (!haproxy.waitFor(10, TimeUnit.SECONDS)) {
        haproxy.destroyForcibly().waitFor();
      }
    }
    for (var service : services) {
      service.close();
    }
  }
}
