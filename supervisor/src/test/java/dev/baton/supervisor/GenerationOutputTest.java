package dev.baton.supervisor;

import static org.assertj.core.api.Assertions.assertThat;

import dev.baton.config.Config;
import dev.baton.os.SpawnSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A generation's output, read on the loop from a fake pipe into a log file, a whole line at a time.
 */
class GenerationOutputTest {
  @TempDir Path dir;

  private final ManualClock clock = new ManualClock(Harness.T0);
  private final FakeOs os = new FakeOs(clock);
  private Loop loop;
  private FakePoller poller;
  private LogFile file;
  private FakeProcess process;
  private Generation generation;
  private List<GenerationOutput> output;

  @BeforeEach
  void generation() {
    poller = (FakePoller) os.poller();
    loop = new Loop(poller, clock, Runnable::run);
    file = LogFile.open(dir.resolve("app.log"), 1 << 20, /* rotateEvery= */ null, 5, clock);
    os.app = p -> {};
    var child =
        (FakeChild)
            os.spawn(
                new SpawnSpec(List.of("/bin/app"), Map.of(), dir, Optional.empty(), List.of()));
    process = child.process;
    generation =
        new Generation(
            4,
            new Config.App(List.of("/bin/app"), Map.of(), dir),
            Harness.T0,
            child,
            /* probeAddress= */ null,
            0,
            GenerationState.STARTING);
  }

  @AfterEach
  void close() {
    file.close();
    assertThat(os.violations).isEmpty();
  }

  private void start(List<String> carried) {
    output = GenerationOutput.start(loop, generation, carried, file);
  }

  private void drive() {
    for (int i = 0; i < 100; i++) {
      loop.runOnce(0);
      if (poller.lastReported() == 0) {
        return;
      }
    }
    throw new AssertionError("the loop never settles: " + poller.describe());
  }

  private List<String> logged() throws IOException {
    return Files.readAllLines(dir.resolve("app.log")).stream()
        .map(l -> l.substring(l.indexOf(" gen ") + 1))
        .toList();
  }

  @Test
  void aLineSplitAcrossReadsIsWrittenOnceWholeAndTheLastOneEvenWithoutANewline()
      throws IOException {
    start(List.of());
    process.print("hel");
    drive();
    assertThat(logged()).isEmpty();
    process.print("lo\r\nwor");
    drive();
    process.print("ld\nlast words");
    drive();
    assertThat(logged()).containsExactly("gen 4 | hello", "gen 4 | world");
    process.exitWith(0);
    drive();
    assertThat(logged()).containsExactly("gen 4 | hello", "gen 4 | world", "gen 4 | last words");
  }

  @Test
  void stdoutAndStderrAreMarkedApart() throws IOException {
    start(List.of());
    process.print("to stdout\n");
    process.printErr("to stderr\n");
    drive();
    assertThat(logged()).containsExactly("gen 4 | to stdout", "gen 4 ! to stderr");
  }

  @Test
  void anEndlessLineIsPassedOnInPiecesRatherThanHeldInMemory() throws IOException {
    start(List.of());
    var endless = "z".repeat(3 * GenerationOutput.MAX_LINE);
    process.print(endless + "\n");
    drive();
    assertThat(logged())
        .containsExactly(
            "gen 4 | " + "z".repeat(GenerationOutput.MAX_LINE),
            "gen 4 | " + "z".repeat(GenerationOutput.MAX_LINE),
            "gen 4 | " + "z".repeat(GenerationOutput.MAX_LINE),
            "gen 4 | ");
  }

  @Test
  void theLastFiveLinesAreRememberedToExplainAFailure() {
    start(List.of());
    process.print("1\n2\n3\n4\n5\n6\n7\n");
    drive();
    assertThat(generation.lastOutput()).isEqualTo("; its last output: 3 / 4 / 5 / 6 / 7");
  }

  @Test
  void whatALineHoldsBeforeItsNewlineIsItsPartial() {
    start(List.of());
    process.print("half a li");
    process.printErr("err");
    drive();
    assertThat(output).extracting(GenerationOutput::partial).containsExactly("half a li", "err");
  }

  @Test
  void aReaderStartsFromThePartialLinesItWasHandedAsAfterAnUpgrade() throws IOException {
    start(List.of("half a li", "err"));
    process.print("ne\n");
    process.printErr("or\n");
    drive();
    assertThat(logged()).containsExactly("gen 4 | half a line", "gen 4 ! error");
  }

  @Test
  void atTheEndOfTheStreamTheReadEndIsUnwatchedAndClosed() {
    start(List.of());
    var fds =
        List.of(
            generation.process.stdout().fd().orElseThrow(),
            generation.process.stderr().fd().orElseThrow());
    process.exitWith(0);
    drive();
    assertThat(fds)
        .allSatisfy(
            fd -> {
              assertThat(poller.watches(fd)).isFalse();
              assertThat(os.isOpen(fd)).isFalse();
            });
  }
}
