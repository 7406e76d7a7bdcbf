package dev.baton.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.json.JsonMapper;

/** `baton check`: a config validated, its effective settings printed, and nothing else done. */
class CheckTest {
  @TempDir Path dir;

  private record Run(int exit, String output) {}

  private Run baton(String... args) throws Exception {
    var process = Service.batonCommand(dir, args).redirectErrorStream(true).start();
    var output = new String(process.getInputStream().readAllBytes());
    assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
    return new Run(process.exitValue(), output);
  }

  @Test
  void aValidConfigIsPrintedWithItsDefaultsAndNothingIsStarted() throws Exception {
    var config = dir.resolve("baton.toml");
    Files.writeString(config, Service.sampleConfig());

    var text = baton("check", "-c", config.toString());
    assertThat(text.exit()).as(text.output()).isZero();
    assertThat(text.output())
        .startsWith(config + ": ok")
        .contains("\"backlog\" : 4096", "baton-sample.jar");

    var json = baton("check", "--json", "-c", config.toString());
    assertThat(json.exit()).as(json.output()).isZero();
    var settings = JsonMapper.builder().build().readTree(json.output());
    assertThat(settings.path("listeners").get(0).path("name").asString()).isEqualTo("http");
    assertThat(settings.path("readiness").path("http").asString()).isEqualTo("/healthz");
    assertThat(settings.path("control").path("socket").asString())
        .isEqualTo(dir.resolve("baton.sock").toString());
    assertThat(dir.resolve("baton.sock"))
        .as("no control socket: nothing was started")
        .doesNotExist();
  }

  @Test
  void aTypoExitsTwoNamingFileLineAndKey() throws Exception {
    var config = dir.resolve("baton.toml");
    Files.writeString(
        config, Service.sampleConfig().replace("[drain]\ntimeout", "[drain]\ntimeuot"));

    var run = baton("check", "-c", config.toString());
    assertThat(run.exit()).isEqualTo(2);
    assertThat(run.output())
        .contains(config + ":13: unknown key 'timeuot' in [drain]; did you mean 'timeout'?");
  }
}
