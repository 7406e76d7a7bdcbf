package dev.baton.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.baton.bench.LoadGenerator;
import dev.baton.protocol.ControlClient;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * The supervisor out of file descriptors, and a generation that misbehaves on BATON_CONTROL: the
 * service goes on serving, and the supervisor answers again as soon as the pressure is gone.
 */
class ExhaustionTest {
  /** Descriptors the supervisor may open beyond those it holds when the pressure begins. */
  private static final int HEADROOM = 24;

  @TempDir Path dir;

  private static int openFds(long pid) throws IOException {
    try (var fds = Files.list(Path.of("/proc/" + pid + "/fd"))) {
      return (int) fds.count();
    }
  }

  /** prlimit(1) on a running process: only the soft limit, so it can be raised again. */
  private static void softFdLimit(long pid, int limit) throws Exception {
    var p =
        new ProcessBuilder("prlimit", "--pid", Long.toString(pid), "--nofile=" + limit + ":")
            .redirectErrorStream(true)
            .start();
    var out = new String(p.getInputStream().readAllBytes());
    assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as("prlimit: %s", out).isZero();
  }

  private static long count(String text, String what) {
    return Pattern.compile(Pattern.quote(what)).matcher(text).results().count();
  }

  private static int activePid(JsonNode status) {
    int active = status.path("active_generation").asInt();
    for (var g : status.path("generations")) {
      if (g.path("number").asInt() == active) {
        return g.path("pid").asInt();
      }
    }
    throw new AssertionError("no active generation in " + status);
  }

  @Test
  void outOfDescriptorsTheServiceServesOnAndTheSupervisorRecoversOnceTheyAreFree()
      throws Exception {
    try (var service = Service.start(dir, Service.sampleConfig())) {
      long pid = service.process.pid();
      var load =
          LoadGenerator.start(
              ZeroDowntimeTest.load(service.port()).keepAlive().get("/").connections(4).build());
      Service.sleep(500);
      softFdLimit(pid, openFds(pid) + HEADROOM);

      // Connections that never send their request: each holds a descriptor in the supervisor for
      // up to ControlServer's 10 s request timeout; past the limit, accept fails with EMFILE.
      var held = new ArrayList<SocketChannel>();
      var socket = UnixDomainSocketAddress.of(dir.resolve("baton.sock"));
      long pressureStart = System.nanoTime();
      try {
        for (int i = 0; i < HEADROOM + 16; i++) {
          var channel = SocketChannel.open(StandardProtocolFamily.UNIX);
          channel.connect(socket);
          held.add(channel);
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(8);
        while (!service.logText().contains("EMFILE") && System.nanoTime() < deadline) {
          Service.sleep(50);
        }
        assertThat(service.logText())
            .as("accept ran out of descriptors")
            .contains("cannot accept on")
            .contains("EMFILE");
        Service.sleep(2000); // two seconds of pressure with the load running
        assertThat(service.process.isAlive()).isTrue();
      } finally {
        for (var channel : held) {
          channel.close();
        }
      }
      double pressureSeconds = (System.nanoTime() - pressureStart) / 1e9;

      // Released: within 5 s the control socket answers again.
      long released = System.nanoTime();
      JsonNode status = null;
      while (status == null && System.nanoTime() - released < TimeUnit.SECONDS.toNanos(5)) {
        try {
          status = service.status();
        } catch (ControlClient.ControlException e) {
          Service.sleep(50);
        }
      }
      assertThat(status).as("status within 5 s of the release:\n%s", service.logText()).isNotNull();
      assertThat(status.path("active_generation").asInt()).isEqualTo(1);
      var report = load.stop();
      System.out.println(
          "keep-alive GET while the supervisor had no descriptors: " + report.summary());
      assertThat(report.failed())
          .as("failed: %s; first: %s", report.failures(), report.failureMessages())
          .isZero();
      assertThat(report.requests()).as("requests served").isGreaterThan(100);
      // The acceptor waits 100 ms after each failure instead of spinning on a readiness it cannot
      // clear: a spinning one writes a warning per turn, thousands a second.
      long warnings = count(service.logText(), "cannot accept on");
      assertThat(warnings)
          .as("accept warnings in %.1f s of pressure", pressureSeconds)
          .isLessThanOrEqualTo((long) (pressureSeconds * 10) + 20);

      // Still under the lowered limit: a deploy works, and a crashed generation is restarted.
      var deployed = service.deploy();
      assertThat(deployed.path("ok").asBoolean())
          .as("%s\n%s", deployed, service.logText())
          .isTrue();
      assertThat(deployed.path("generation").asInt()).isEqualTo(2);
      int crashed = activePid(service.status());
      assertThat(ProcessHandle.of(crashed).orElseThrow().destroyForcibly()).isTrue();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      int restarted = -1;
      while (System.nanoTime() < deadline) {
        var now = service.status();
        if (now.hasNonNull("active_generation") && now.path("active_generation").asInt() > 2) {
          restarted = activePid(now);
          break;
        }
        Service.sleep(100);
      }
      assertThat(restarted)
          .as("a restarted generation became active:\n%s", service.logText())
          .isPositive()
          .isNotEqualTo(crashed);
      assertThat(service.logText()).contains("restarting it");
    }
  }

  /** A generation that says HELLO, is resumed, then writes one endless line to BATON_CONTROL. */
  private static final String ENDLESS_LINE_APP =
      """
      import os, socket, sys, time
      control = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
      control.connect(os.environ["BATON_CONTROL"])
      control.sendall(("HELLO %s\\n" % os.environ["BATON_GENERATION"]).encode())
      heard = control.makefile("rb")
      assert heard.readline() == b"OK\\n"
      notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
      notify.sendto(b"READY=1", os.environ["NOTIFY_SOCKET"])
      line = heard.readline()
      if line == b"RESUME\\n":
          control.sendall(b"RESUMED\\n")
      sent = 0
      piece = b"x" * 4096
      try:
          while sent < (256 << 20):
              sent += control.send(piece)
          print("still connected after %d bytes" % sent, flush=True)
      except OSError as e:
          print("disconnected after %d bytes: %s" % (sent, e.strerror), flush=True)
      while True:
          time.sleep(1)
      """;

  @Test
  void aGenerationWritingAnEndlessLineToBatonControlIsCutOffAndTheSupervisorAnswersOn()
      throws Exception {
    var app = dir.resolve("endless.py");
    Files.writeString(app, ENDLESS_LINE_APP);
    var config =
        """
        [app]
        command = %s

        [[listen]]
        name = "http"
        address = "127.0.0.1:0"

        [readiness]
        notify = true
        timeout = "20s"
        """
            .formatted(Service.toml(List.of("python3", app.toString())));
    try (var service = Service.start(dir, config)) {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      var matcher =
          Pattern.compile("(disconnected|still connected) after (\\d+) bytes").matcher("");
      while (!matcher.reset(service.logText()).find() && System.nanoTime() < deadline) {
        Service.sleep(100);
      }
      var log = service.logText();
      assertThat(matcher.reset(log).find()).as(log).isTrue();
      assertThat(matcher.group(1)).as(log).isEqualTo("disconnected");
      // What the app got away with: the supervisor's 4 KiB line, one 4 KiB read, and the kernel's
      // socket buffers; nothing like the 256 MiB it tried.
      long sent = Long.parseLong(matcher.group(2));
      System.out.println("the endless line was cut off after " + sent + " bytes");
      assertThat(sent).isLessThan(16L << 20);
      assertThat(log).contains("sent a line over 4096 bytes; closing it");
      var status = service.status();
      assertThat(status.path("active_generation").asInt()).isEqualTo(1);
      assertThat(service.process.isAlive()).isTrue();
    }
  }
}
