package dev.baton.haproxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.baton.config.ConfigException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RolloutPlanTest {
  @TempDir Path dir;

  @Test
  void aRolloutFileGivesEverythingAndResolvesPathsAgainstItself() throws Exception {
    var file = dir.resolve("rollout.toml");
    Files.writeString(
        file,
        """
        haproxy = "/run/haproxy/admin.sock"
        backend = "app"
        batch = 2
        token_file = "token"
        command = ["java", "-jar", "app-v2.jar"]
        env = { MODE = "blue" }

        [[server]]
        name = "s1"
        target = "s1/baton.toml"

        [[server]]
        name = "s2"
        target = "https://10.0.0.2:7070"

        [canary]
        server = "s2"
        weight = 5
        bake = "1m"

        [timeouts]
        drain = "90s"
        """);

    var plan = RolloutPlan.read(file).build();

    assertThat(plan.haproxy()).isEqualTo("/run/haproxy/admin.sock");
    assertThat(plan.servers())
        .containsExactly(
            new RolloutPlan.Server("s1", dir.resolve("s1/baton.toml").toString()),
            new RolloutPlan.Server("s2", "https://10.0.0.2:7070"));
    assertThat(plan.tokenFile()).contains(dir.resolve("token"));
    assertThat(plan.command()).contains(List.of("java", "-jar", "app-v2.jar"));
    assertThat(plan.env()).containsEntry("MODE", "blue");
    assertThat(plan.canary()).contains(new RolloutPlan.Canary("s2", 5, Duration.ofMinutes(1)));
    assertThat(plan.timeouts().drain()).isEqualTo(Duration.ofSeconds(90));
    assertThat(plan.timeouts().deploy()).isEqualTo(RolloutPlan.Timeouts.DEFAULT.deploy());
  }

  @Test
  void theCommandLineOverridesTheFile() throws Exception {
    var file = dir.resolve("rollout.toml");
    Files.writeString(
        file,
        "haproxy = \"/a.sock\"\nbackend = \"app\"\n[[server]]\nname = \"s1\"\ntarget = \"/x.sock\"\n");

    var plan =
        RolloutPlan.read(file)
            .backend("web")
            .servers(List.of(RolloutPlan.Server.parse("s7=/y.sock")))
            .build();

    assertThat(plan.backend()).isEqualTo("web");
    assertThat(plan.servers()).containsExactly(new RolloutPlan.Server("s7", "/y.sock"));
  }

  @Test
  void aTypoInTheRolloutFileNamesTheKey() throws Exception {
    var file = dir.resolve("rollout.toml");
    Files.writeString(file, "haproxy = \"/a.sock\"\nbakend = \"app\"\n");

    assertThatThrownBy(() -> RolloutPlan.read(file))
        .hasMessageContaining("unknown key 'bakend' in the top level");
  }

  @Test
  void theCanaryGoesFirstAloneAndTheRestFollowInBatches() {
    var plan =
        RolloutPlan.builder()
            .haproxy("127.0.0.1:9999")
            .backend("app")
            .servers(
                List.of(
                    RolloutPlan.Server.parse("a=/a"),
                    RolloutPlan.Server.parse("b=/b"),
                    RolloutPlan.Server.parse("c=/c"),
                    RolloutPlan.Server.parse("d=/d")))
            .batch(2)
            .canary("c")
            .build();

    assertThat(plan.batches()).containsExactly(List.of("c"), List.of("a", "b"), List.of("d"));
  }

  @Test
  void aCanaryThatIsNotOneOfTheServersIsRefused() {
    assertThatThrownBy(
            () ->
                RolloutPlan.builder()
                    .haproxy("/a.sock")
                    .backend("app")
                    .servers(List.of(RolloutPlan.Server.parse("s1=/a")))
                    .canary("s2")
                    .build())
        .hasMessageContaining("--canary s2 is not one of the servers given (s1)");
  }

  @Test
  void aServerWithoutATargetIsExplained() {
    assertThatThrownBy(() -> RolloutPlan.Server.parse("s1"))
        .hasMessageContaining("must be NAME=TARGET");
  }

  @Test
  void durationsInTheFileTakeBatonsOneGrammar() throws Exception {
    var file = dir.resolve("rollout.toml");
    Files.writeString(
        file,
        """
        haproxy = "/a.sock"
        backend = "app"
        [[server]]
        name = "s1"
        target = "/x.sock"
        [canary]
        server = "s1"
        bake = "1d"
        [timeouts]
        haproxy = 2
        drain = "1500ms"
        deploy = "2m30s"
        health = "0.5s"
        """);

    var plan = RolloutPlan.read(file).build();

    assertThat(plan.canary().orElseThrow().bake()).isEqualTo(Duration.ofDays(1));
    assertThat(plan.timeouts())
        .isEqualTo(
            new RolloutPlan.Timeouts(
                Duration.ofSeconds(2),
                Duration.ofMillis(1500),
                Duration.ofSeconds(150),
                Duration.ofMillis(500)));
  }

  @Test
  void aBadDurationInTheFileNamesTheFileTheLineTheTableAndTheKey() throws Exception {
    var file = dir.resolve("rollout.toml");
    Files.writeString(file, "haproxy = \"/a.sock\"\n[timeouts]\ndrain = \"soon\"\n");

    assertThatThrownBy(() -> RolloutPlan.read(file))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith(file + ":3: [timeouts] drain 'soon' is not a duration; write");
    Files.writeString(file, "haproxy = \"/a.sock\"\n[timeouts]\ndrain = \"0s\"\n");
    assertThatThrownBy(() -> RolloutPlan.read(file))
        .hasMessage(file + ":3: [timeouts] drain must be longer than zero");
  }

  @Test
  void aZeroTimeoutFromTheCommandLineIsRefused() {
    assertThatThrownBy(() -> plan("/a.sock").drainTimeout(Duration.ZERO).build())
        .hasMessage("--drain-timeout must be longer than zero");
  }

  /**
   * RolloutPlan used to read its tables with a reader of its own, which lacked what the config
   * fuzzer had forced into baton.toml's: a number past 32 bits threw from intValue(), a NUL in a
   * path escaped as an InvalidPathException. Both readers are now one.
   */
  @Test
  void whatTheConfigFuzzerFoundIsAClearErrorHereToo() throws Exception {
    var file = dir.resolve("rollout.toml");
    Files.writeString(file, "haproxy = \"/a.sock\"\nbatch = 2147483648\n");
    assertThatThrownBy(() -> RolloutPlan.read(file))
        .isInstanceOf(ConfigException.class)
        .hasMessage(file + ":2: the top level batch is far too large a number (2147483648)");
    Files.writeString(file, "[[server]]\nname = \"s1\"\ntarget = \"a\\u0000b\"\n");
    assertThatThrownBy(() -> RolloutPlan.read(file))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith(file + ":3: [[server]] #1 target is not a usable path");
    Files.writeString(file, "[canary]\nserver = \"s1\"\nbake = \"9223372036854775807h\"\n");
    assertThatThrownBy(() -> RolloutPlan.read(file))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("longer than any duration baton can wait");
    Files.writeString(file, "canary = 1\n");
    assertThatThrownBy(() -> RolloutPlan.read(file))
        .hasMessage(file + ":1: the top level canary must be a table: [canary]");
  }

  private static RolloutPlan.Builder plan(String target) {
    return RolloutPlan.builder()
        .haproxy("/run/haproxy/admin.sock")
        .backend("app")
        .servers(List.of(new RolloutPlan.Server("s1", target)));
  }

  @Test
  void aTokenOverPlainHttpToAnotherHostIsRefusedWithBothWaysOut() {
    assertThatThrownBy(() -> plan("http://10.0.0.2:7070").build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "server 's1' is http://10.0.0.2:7070: plain http:// to another host would send the bearer token in"
                + " clear; use https:// (set [remote] tls_keystore on that host), or pass --insecure (insecure = true in the"
                + " rollout file) if the network is trusted");
    // A name is not looked up, so it counts as another host even when it is this one.
    assertThatThrownBy(() -> plan("http://app.internal:7070").build())
        .hasMessageContaining("--insecure");
  }

  @Test
  void plainHttpToLoopbackHttpsAnywhereAndInsecureArePlanned() {
    assertThat(plan("http://127.0.0.1:7070").build().insecure()).isFalse();
    assertThat(plan("http://[::1]:7070/").build().servers()).hasSize(1);
    assertThat(plan("http://localhost:7070").build().servers()).hasSize(1);
    assertThat(plan("https://10.0.0.2:7070").build().servers()).hasSize(1);
    assertThat(plan("http://10.0.0.2:7070").insecure(true).build().insecure()).isTrue();
  }

  @Test
  void aRolloutFileCanSayInsecure() throws Exception {
    var file = dir.resolve("rollout.toml");
    Files.writeString(
        file,
        """
        haproxy = "/run/haproxy/admin.sock"
        backend = "app"
        insecure = true

        [[server]]
        name = "s1"
        target = "http://10.0.0.2:7070"
        """);

    assertThat(RolloutPlan.read(file).build().insecure()).isTrue();
    Files.writeString(
        file,
        "haproxy = \"/run/haproxy/admin.sock\"\nbackend = \"app\"\n[[server]]\nname = \"s1\"\n"
            + "target = \"http://10.0.0.2:7070\"\n");
    assertThatThrownBy(() -> RolloutPlan.read(file).build())
        .hasMessageContaining("--insecure (insecure = true in the rollout file)");
  }
}
