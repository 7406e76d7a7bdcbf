package dev.baton.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.baton.supervisor.LogFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The log integrity scenario: generations that print numbered lines as fast as a shell loop
 * can, while baton deploys 50 times and rotates the log file many times over, and is told to reopen
 * it now and then. Every line of every generation must be in the files exactly once, whole.
 */
class LogIntegrityTest {
  private static final int DEPLOYS = 50;
  private static final int KEEP = 1000;

  /**
   * Prints "GEN N" for N = 1, 2, 3 … in bursts of 50, and on SIGTERM (the drain) "GEN end" as its
   * very last line. A line lost anywhere shows as a gap in the numbers, or as a missing end line.
   */
  private static final String NUMBERED_LINES =
      "i=0; trap 'echo \"$BATON_GENERATION end\"; exit 0' TERM; while :; do j=0;"
          + " while [ $j -lt 50 ]; do i=$((i+1)); j=$((j+1)); echo \"$BATON_GENERATION $i\"; done; sleep 0.02; done";

  /** One line of the file: the time, the generation baton says wrote it, and what it wrote. */
  private static final Pattern LINE =
      Pattern.compile(
          "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}(Z|[+-]\\d\\d:\\d\\d) gen (\\d+) \\| (\\d+) (\\d+|end)");

  @TempDir Path dir;

  @Test
  @Timeout(value = 5, unit = TimeUnit.MINUTES)
  void everyNumberedLineOfFiftyDeploysIsInTheRotatedFilesExactlyOnceAndWhole() throws Exception {
    var config =
        """
        [app]
        command = %s

        [[listen]]
        address = "127.0.0.1:0"

        [readiness]
        alive = "300ms"
        timeout = "20s"

        [drain]
        timeout = "10s"

        [logs]
        file = "app.log"
        max_size = "64KB"
        keep = %d
        """
            .formatted(Service.toml(List.of("/bin/sh", "-c", NUMBERED_LINES)), KEEP);
    var log = dir.resolve("app.log");
    Process follower = null;
    String viaCli;
    try (var service = Service.start(dir, config)) {
      // `baton logs -f` from the start, to check that following loses nothing across rotations.
      follower =
          Service.batonCommand(
                  dir, "logs", "-f", "--generation", "7", "-c", service.config.toString())
              .redirectErrorStream(true)
              .redirectOutput(dir.resolve("follow-7.out").toFile())
              .start();
      for (int d = 1; d <= DEPLOYS; d++) {
        var reply = service.deploy();
        assertThat(reply.path("ok").asBoolean()).as("deploy %d: %s", d, reply).isTrue();
        if (d % 10 == 5) {
          hangUp(service.process.pid());
        }
        if (d == 30) {
          var reopen = service.cli("logs", "--reopen");
          assertThat(reopen.exit()).as(reopen.output()).isZero();
        }
      }
      var stop = service.cli("stop");
      assertThat(stop.exit()).as(stop.output()).isZero();
      assertThat(service.process.waitFor(60, TimeUnit.SECONDS)).isTrue();
      viaCli = service.cli("logs", "--generation", "12").output();
      // Generation 7 was drained long ago; its lines are all in, so the follower has had them.
      Service.sleep(1000);
    } finally {
      if (follower != null) {
        follower.destroy();
        if (!follower.waitFor(10, TimeUnit.SECONDS)) {
          follower.destroyForcibly().waitFor();
        }
      }
    }

    var files = LogFile.oldestFirst(log, KEEP);
    assertThat(files.size() - 1).as("rotations").isGreaterThanOrEqualTo(5);
    assertThat(files.size()).as("rotated files, none dropped").isLessThan(KEEP);

    // generation -> the numbers it printed, in the order they are in the files
    var printed = new TreeMap<Integer, List<Integer>>();
    var ends = new HashMap<Integer, Integer>();
    var byGeneration = new HashMap<Integer, List<String>>();
    long lines = 0;
    for (var file : files) {
      for (var line : Files.readAllLines(file)) {
        lines++;
        var m = LINE.matcher(line);
        assertThat(m.matches())
            .as("line %d of %s is whole and not mixed with another: %s", lines, file, line)
            .isTrue();
        int generation = Integer.parseInt(m.group(2));
        assertThat(Integer.parseInt(m.group(3)))
            .as("the generation that wrote it, in %s", line)
            .isEqualTo(generation);
        assertThat(ends)
            .as("nothing from generation %d after its last line", generation)
            .doesNotContainKey(generation);
        byGeneration.computeIfAbsent(generation, g -> new ArrayList<>()).add(line);
        if (m.group(4).equals("end")) {
          ends.put(generation, printed.getOrDefault(generation, List.of()).size());
        } else {
          printed
              .computeIfAbsent(generation, g -> new ArrayList<>())
              .add(Integer.parseInt(m.group(4)));
        }
      }
    }
    assertThat(printed.keySet()).as("generations that printed").hasSize(DEPLOYS + 1);
    assertThat(ends.keySet())
        .as("generations whose last line, printed as they drained, is in")
        .isEqualTo(printed.keySet());
    for (Map.Entry<Integer, List<Integer>> e : printed.entrySet()) {
      var numbers = e.getValue();
      for (int i = 0; i < numbers.size(); i++) {
        assertThat(numbers.get(i))
            .as("generation %d's line %d", e.getKey(), i + 1)
            .isEqualTo(i + 1);
      }
    }
    long numbered = printed.values().stream().mapToLong(List::size).sum();
    System.out.printf(
        "log integrity: %d lines from %d generations in %d files (%d rotations), each number once%n",
        numbered, printed.size(), files.size(), files.size() - 1);

    assertThat(viaCli.lines().toList())
        .as("baton logs --generation 12")
        .isEqualTo(byGeneration.get(12));
    assertThat(Files.readAllLines(dir.resolve("follow-7.out")))
        .as("baton logs -f --generation 7, across rotations")
        .isEqualTo(byGeneration.get(7));
  }

  @Test
  @Timeout(value = 2, unit = TimeUnit.MINUTES)
  void withJsonTheSupervisorsOwnLogIsOneJsonObjectPerLineAndAGenerationsLineSaysWhoWroteIt()
      throws Exception {
    var config =
        """
        [app]
        command = %s

        [[listen]]
        address = "127.0.0.1:0"

        [readiness]
        alive = "300ms"

        [logs]
        json = true
        """
            .formatted(
                Service.toml(
                    List.of("/bin/sh", "-c", "echo hello from $BATON_GENERATION; exec sleep 600")));
    try (var service = Service.start(dir, config)) {
      var stop = service.cli("stop");
      assertThat(stop.exit()).as(stop.output()).isZero();
      assertThat(service.process.waitFor(60, TimeUnit.SECONDS)).isTrue();
    }
    var lines = Files.readAllLines(dir.resolve("supervisor.log"));
    assertThat(lines).isNotEmpty();
    var json = JsonMapper.builder().build();
    var events = new ArrayList<JsonNode>();
    for (var line : lines) {
      events.add(json.readTree(line)); // throws, failing the test, on a line that is not JSON
    }
    assertThat(events).allSatisfy(e -> assertThat(e.path("level").isString()).as("%s", e).isTrue());
    assertThat(events)
        .anySatisfy(
            e -> {
              assertThat(e.path("formattedMessage").asString()).isEqualTo("gen 1 | hello from 1");
              assertThat(e.path("kvpList").toString())
                  .contains("\"generation\":\"1\"")
                  .contains("\"stream\":\"stdout\"");
            });
    assertThat(events)
        .anySatisfy(e -> assertThat(e.path("formattedMessage").asString()).isEqualTo("stopped"));
  }

  private static void hangUp(long pid) throws IOException, InterruptedException {
    var kill = new ProcessBuilder("kill", "-HUP", Long.toString(pid)).inheritIO().start();
    assertThat(kill.waitFor(10, TimeUnit.SECONDS)).isTrue();
    assertThat(kill.exitValue()).isZero();
  }
}
