package dev.baton.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.baton.protocol.Reply;
import dev.baton.protocol.Request;
import dev.baton.protocol.Status;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code baton haproxy-config}: a backend made from what each supervisor's status says of its
 * listeners. Only prints a config; no HAProxy is run.
 */
class HaproxyConfigCommandTest {
  @TempDir Path dir;
  private String server;
  private FakeSupervisor supervisor;

  @BeforeEach
  void start() {
    server = "s1=" + Cli.config(dir, "[readiness]", "http = \"/healthz\"");
    supervisor = FakeSupervisor.at(dir.resolve("baton.sock"));
  }

  @AfterEach
  void stop() throws Exception {
    supervisor.close();
  }

  private static Reply.StatusReply listening(Status.ListenerStatus... listeners) {
    return new Reply.StatusReply(
        new Status(
            4242,
            Optional.of(1),
            false,
            Optional.empty(),
            List.of(),
            List.of(),
            List.of(listeners),
            List.of()));
  }

  @Test
  void aServerLineForTheSupervisorsHttpListenerCheckedOnItsReadinessPath() {
    supervisor.answer(
        listening(
            new Status.ListenerStatus("admin", "127.0.0.1:9000", "listen-fds", 3),
            new Status.ListenerStatus("http", "0.0.0.0:8080", "listen-fds", 4)));

    var result = Cli.run("haproxy-config", "--backend", "shop", "--server", server);

    assertThat(result.status()).as(result.toString()).isZero();
    assertThat(supervisor.request()).isEqualTo(new Request.GetStatus());
    assertThat(result.outLines())
        .contains("backend shop")
        .anySatisfy(l -> assertThat(l.strip()).startsWith("http-check send meth GET uri /healthz "))
        .anySatisfy(
            l -> assertThat(l.strip()).isEqualTo("server s1 127.0.0.1:8080 check weight 100"))
        .noneMatch(l -> l.startsWith("frontend"));
    assertThat(result.err()).isEmpty();
  }

  @Test
  void listenMakesAWholeConfig() {
    supervisor.answer(listening(new Status.ListenerStatus("http", "10.0.0.5:8080", "fd0", 0)));

    var result =
        Cli.run("haproxy-config", "--server", server, "--listen", ":80", "--check-path", "/ready");

    assertThat(result.status()).as(result.toString()).isZero();
    assertThat(result.out())
        .contains("stats socket /run/haproxy/admin.sock mode 600 level admin")
        .contains("frontend app_front")
        .contains("bind :80")
        .contains("uri /ready ")
        .contains("server s1 10.0.0.5:8080 check weight 100");
  }

  @Test
  void aSupervisorWithoutATcpListenerIsAUsageError() {
    supervisor.answer(listening(new Status.ListenerStatus("http", "unix:/run/app.sock", "fd0", 0)));

    var result = Cli.run("haproxy-config", "--server", server);

    assertThat(result.status()).isEqualTo(Main.USAGE);
    assertThat(result.errLines()).hasSize(1);
    assertThat(result.error())
        .startsWith("baton: server s1 (")
        .endsWith("has no TCP listener for HAProxy to reach");
    assertThat(result.out()).isEmpty();
  }

  @Test
  void aSupervisorThatRefusesExitsOne() {
    supervisor.answer(new Reply.Failed("the supervisor is stopping"));

    var result = Cli.run("haproxy-config", "--server", server);

    assertThat(result.status()).isEqualTo(Main.FAILED);
    assertThat(result.error()).endsWith("refused 'status': the supervisor is stopping");
    assertThat(result.out()).isEmpty();
  }

  @Test
  void noSupervisorExitsThree() throws Exception {
    supervisor.close();

    var result = Cli.run("haproxy-config", "--server", server);

    assertThat(result.status()).isEqualTo(Main.UNREACHABLE);
    assertThat(result.error()).startsWith("baton: no supervisor at ");
    assertThat(result.out()).isEmpty();
  }

  @Test
  void noServerIsAUsageError() {
    var result = Cli.run("haproxy-config");

    assertThat(result.status()).isEqualTo(Main.USAGE);
    assertThat(result.error()).isEqualTo("Missing required option: '--server=NAME=TARGET'");
  }

  @Test
  void aServerWithoutATargetIsAUsageError() {
    var result = Cli.run("haproxy-config", "--server", "s1");

    assertThat(result.status()).isEqualTo(Main.USAGE);
    assertThat(result.error()).startsWith("baton: --server 's1' must be NAME=TARGET");
  }
}
