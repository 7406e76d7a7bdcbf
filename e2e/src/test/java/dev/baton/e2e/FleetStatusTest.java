package dev.baton.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.json.JsonMapper;

/**
 * {@code baton fleet status} against three real supervisors named by a rollout file: one serving
 * after a good deploy, one whose last deploy failed, and one stopped.
 */
class FleetStatusTest {
  @TempDir Path dir;

  @Test
  void oneRowPerServerTheStoppedOneUnreachableAndExitOne() throws Exception {
    var dirs = List.of(dir.resolve("a"), dir.resolve("b"), dir.resolve("c"));
    for (var d : dirs) {
      Files.createDirectories(d);
    }
    try (var a = Service.start(dirs.get(0), Service.sampleConfig());
        var b = Service.start(dirs.get(1), Service.sampleConfig());
        var c = Service.start(dirs.get(2), Service.sampleConfig())) {
      assertThat(a.deploy().path("ok").asBoolean()).isTrue();
      assertThat(b.deploy(List.of("/bin/false")).path("ok").asBoolean()).isFalse();
      c.close();

      var rollout = dir.resolve("rollout.toml");
      Files.writeString(
          rollout,
          """
          haproxy = "/run/haproxy/admin.sock"
          backend = "app"
          [[server]]
          name = "s1"
          target = "a/baton.toml"
          [[server]]
          name = "s2"
          target = "b/baton.toml"
          [[server]]
          name = "s3"
          target = "c/baton.toml"
          """);

      var table = fleet(rollout, false);
      assertThat(table.exit()).as(table.output()).isEqualTo(1);
      var lines = table.output().lines().toList();
      assertThat(lines.get(0)).startsWith("SERVER").contains("REACHABLE", "LAST DEPLOY");
      assertThat(lines.get(1)).matches("s1 +yes +2 +serving +ok: deploy .*");
      assertThat(lines.get(2)).matches("s2 +yes +1 +serving +failed: generation 2 .*");
      assertThat(lines.get(3)).matches("s3 +no +- +unreachable +- *");
      assertThat(lines.get(4)).contains("c/baton.sock");

      var json = fleet(rollout, true);
      assertThat(json.exit()).isEqualTo(1);
      var rows = json.output().lines().map(l -> JsonMapper.shared().readTree(l)).toList();
      assertThat(rows).hasSize(3);
      assertThat(rows)
          .extracting(r -> r.path("reachable").asBoolean())
          .containsExactly(true, true, false);
      assertThat(rows)
          .extracting(r -> r.path("active_generation").asInt())
          .containsExactly(2, 1, 0);
      assertThat(rows.get(1).path("last_deploy").asString()).startsWith("failed: generation 2");
      assertThat(rows.get(0).path("command").get(0).asString()).isEqualTo(Service.JAVA);
      assertThat(rows.get(2).path("error").asString()).isNotEmpty();
    }
  }

  private Service.CliResult fleet(Path rollout, boolean json) throws Exception {
    var args =
        json
            ? new String[] {"fleet", "status", "-f", rollout.toString(), "--json"}
            : new String[] {"fleet", "status", "-f", rollout.toString()};
    var p = Service.batonCommand(dir, args).redirectErrorStream(true).start();
    var out = new String(p.getInputStream().readAllBytes());
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    return new Service.CliResult(p.exitValue(), out);
  }
}
