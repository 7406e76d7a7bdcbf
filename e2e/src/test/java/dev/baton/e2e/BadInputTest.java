package dev.baton.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.baton.bench.LoadGenerator;
import dev.baton.bench.LoadReport;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Each kind of bad input gets one clear message, and the active generation keeps serving through it
 * with zero failed requests.
 */
class BadInputTest {
  @TempDir Path dir;
  private Service service;
  private LoadGenerator load;
  private int activeBefore;

  @BeforeEach
  void startServiceUnderLoad() throws IOException {
    service =
        Service.start(dir, Service.sampleConfig().replace("timeout = \"20s\"", "timeout = \"3s\""));
    activeBefore = service.status().path("active_generation").asInt();
    load = ZeroDowntimeTest.connectionPerRequest(service.port(), 8);
  }

  @AfterEach
  void oldGenerationKeptServingWithoutAFailure() throws Exception {
    try {
      if (load != null) {
        // Some cases take milliseconds; keep the load on long enough to see the old generation
        // serve.
        Service.sleep(1500);
        LoadReport report = load.stop();
        assertThat(report.failed())
            .as("failed: %s %s", report.failures(), report.failureMessages())
            .isZero();
        assertThat(report.ok()).isGreaterThan(100);
        assertThat(service.status().path("active_generation").asInt()).isEqualTo(activeBefore);
      }
    } finally {
      service.close();
    }
  }

  private static List<String> sample(String... args) {
    var argv =
        new ArrayList<>(
            List.of(
                Service.JAVA,
                "-XX:TieredStopAtLevel=1",
                "-XX:+UseSerialGC",
                "-jar",
                Service.SAMPLE_JAR.toString()));
    argv.addAll(List.of(args));
    return argv;
  }

  @Test
  void aNewGenerationThatExitsAtOnceIsReportedAndNeverPromoted() {
    var reply = service.deploy(sample("--exit-at-start=3"));
    assertThat(reply.path("ok").asBoolean()).isFalse();
    assertThat(reply.path("error").asString())
        .matches("generation 2 \\(pid \\d+\\) exited with status 3 before it was ready.*");
  }

  @Test
  void aNewGenerationThatNeverBecomesReadyIsKilledAtTheDeadline() {
    var reply = service.deploy(sample("--hang"));
    assertThat(reply.path("ok").asBoolean()).isFalse();
    assertThat(reply.path("error").asString())
        .contains(
            "was not ready within 3000 ms, waiting for a 2xx from GET /healthz on its probe listener")
        .contains("it was killed and the active generation keeps serving");
    var failed = service.status().path("generations").get(1);
    assertThat(failed.path("state").asString()).isEqualTo("failed");
    assertThat(ProcessHandle.of(failed.path("pid").asInt())).isEmpty();
  }

  @Test
  void aNewGenerationKilledMidStartupIsReported() throws Exception {
    var reply = CompletableFuture.supplyAsync(() -> service.deploy(sample("--startup-delay=2500")));
    int pid = 0;
    for (int i = 0; i < 200 && pid == 0; i++) {
      for (var g : service.status().path("generations")) {
        if (g.path("state").asString().equals("starting")) {
          pid = g.path("pid").asInt();
        }
      }
      Service.sleep(20);
    }
    assertThat(pid).as("a starting generation").isPositive();
    ProcessHandle.of(pid).orElseThrow().destroyForcibly();
    var result = reply.get(30, TimeUnit.SECONDS);
    assertThat(result.path("ok").asBoolean()).isFalse();
    assertThat(result.path("error").asString()).contains("killed by SIGKILL before it was ready");
  }

  @Test
  void aCommandThatIsNotFoundIsNamed() {
    var reply = service.deploy(List.of("no-such-server", "--port", "80"));
    assertThat(reply.path("ok").asBoolean()).isFalse();
    assertThat(reply.path("error").asString())
        .startsWith("command not found: 'no-such-server' is not on PATH");
  }

  @Test
  void aMalformedControlMessageGetsAClearErrorAndChangesNothing() throws Exception {
    assertThat(raw("this is not json\n"))
        .contains("\"ok\":false")
        .contains("malformed control message: not JSON");
    assertThat(raw("{\"command\":\"dance\"}\n"))
        .contains("malformed control message: unknown or missing \\\"command\\\"");
    assertThat(raw("{\"command\":\"deploy\",\"argv\":\"java -jar x\"}\n"))
        .contains("malformed control message: \\\"argv\\\" must be a non-empty array of strings");
    assertThat(raw("[1,2,3]\n")).contains("malformed control message");
  }

  @Test
  void aCallerWithAnotherUidIsRefused() throws Exception {
    var socket = dir.resolve("baton.sock");
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
    assertThat(Files.getPosixFilePermissions(socket))
        .isEqualTo(PosixFilePermissions.fromString("rw-------"));
    // With the socket's own mode the kernel already turns a stranger away.
    assertThat(asNobody(socket)).contains("PermissionError");
    // Widen the mode as a careless operator might: the supervisor's SO_PEERCRED check still
    // refuses.
    Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-rw-rw-"));
    assertThat(asNobody(socket)).contains("uid 65534 may not control this supervisor");
  }

  @Test
  void aPortInUseIsNamedWithItsOwner(@TempDir Path other) throws Exception {
    try (var taken = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      var config =
          Service.sampleConfig().replace("127.0.0.1:0", "127.0.0.1:" + taken.getLocalPort());
      var second = Service.launch(other, config);
      try {
        assertThat(second.process.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(second.process.exitValue()).isEqualTo(1);
        assertThat(second.logText())
            .contains(
                "listener 'http' cannot bind 127.0.0.1:"
                    + taken.getLocalPort()
                    + ": the address is in use by pid "
                    + ProcessHandle.current().pid()
                    + " (java); stop it or change [[listen]] address");
      } finally {
        second.close();
      }
    }
  }

  @Test
  void aConfigWithATypoIsRefusedNamingFileLineAndKey(@TempDir Path other) throws Exception {
    var config = Service.sampleConfig().replace("[drain]\ntimeout", "[drain]\ntimeuot");
    var second = Service.launch(other, config);
    try {
      assertThat(second.process.waitFor(60, TimeUnit.SECONDS)).isTrue();
      assertThat(second.process.exitValue()).isEqualTo(2);
      assertThat(second.logText())
          .contains(
              other.resolve("baton.toml")
                  + ":13: unknown key 'timeuot' in [drain]; did you mean 'timeout'?");
    } finally {
      second.close();
    }
    var status = service.cli("status");
    assertThat(status.exit()).isZero();
    var missing =
        Service.batonCommand(other, "status", "-c", other.resolve("nope.toml").toString())
            .redirectErrorStream(true)
            .start();
    assertThat(new String(missing.getInputStream().readAllBytes()))
        .contains("nope.toml: no such file");
    assertThat(missing.waitFor()).isEqualTo(2);
  }

  private String raw(String message) throws IOException {
    try (var channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
      channel.connect(UnixDomainSocketAddress.of(dir.resolve("baton.sock")));
      channel.write(ByteBuffer.wrap(message.getBytes(StandardCharsets.UTF_8)));
      return new String(readAll(channel), StandardCharsets.UTF_8);
    }
  }

  private static byte[] readAll(SocketChannel channel) throws IOException {
    var buffer = ByteBuffer.allocate(64 * 1024);
    while (channel.read(buffer) > 0) {
      // Read until the server closes.
    }
    return java.util.Arrays.copyOf(buffer.array(), buffer.position());
  }

  private static String asNobody(Path socket) throws Exception {
    var script =
        "import socket\n"
            + "s = socket.socket(socket.AF_UNIX)\n"
            + "try:\n"
            + "    s.connect('"
            + socket
            + "')\n"
            + "    s.sendall(b'{\"command\":\"status\"}\\n')\n"
            + "    print(s.recv(4096).decode())\n"
            + "except Exception as e:\n"
            + "    print(type(e).__name__, e)\n";
    var p =
        new ProcessBuilder(
                "setpriv",
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
                "/usr/bin/python3",
                "-c",
                script)
            .redirectErrorStream(true)
            .start();
    var out = new String(p.getInputStream().readAllBytes());
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    return out;
  }
}
