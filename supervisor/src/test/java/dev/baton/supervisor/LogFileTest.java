package dev.baton.supervisor;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LogFileTest {
  private static final String LINE = "\\S+ gen (\\d+) ([|!]) (.*)";

  @TempDir Path dir;

  private static List<String> lines(Path dir, Path log, int keep) throws IOException {
    var all = new ArrayList<String>();
    for (var file : LogFile.oldestFirst(log, keep)) {
      all.addAll(Files.readAllLines(file));
    }
    return all;
  }

  @Test
  void linesWrittenByManyGenerationsAtOnceAreNeitherLostNorInterleavedAcrossRotations()
      throws Exception {
    var log = dir.resolve("app.log");
    var file = LogFile.open(log, 8 << 10, /* rotateEvery= */ null, 1000, InstantSource.system());
    int writers = 4;
    int perWriter = 5000;
    try (var pool = Executors.newFixedThreadPool(writers)) {
      for (int w = 1; w <= writers; w++) {
        int generation = w;
        pool.submit(
            () -> {
              for (int i = 0; i < perWriter; i += 5) {
                int from = i;
                file.append(
                    generation,
                    "|",
                    IntStream.range(from, from + 5)
                        .mapToObj(n -> "number " + n + " " + "x".repeat(n % 97))
                        .toList());
              }
            });
      }
      pool.shutdown();
      assertThat(pool.awaitTermination(60, TimeUnit.SECONDS)).isTrue();
    }
    file.close();

    var seen = new HashMap<String, Integer>();
    for (var line : lines(dir, log, 1000)) {
      assertThat(line).matches(LINE);
      var m = java.util.regex.Pattern.compile(LINE).matcher(line);
      assertThat(m.matches()).isTrue();
      var words = m.group(3).split(" ");
      int n = Integer.parseInt(words[1]);
      assertThat(m.group(3)).isEqualTo("number " + n + " " + "x".repeat(n % 97));
      seen.merge(m.group(1) + ":" + n, 1, Integer::sum);
    }
    assertThat(seen).hasSize(writers * perWriter);
    assertThat(seen.values()).containsOnly(1);
    assertThat(LogFile.oldestFirst(log, 1000).size()).as("rotations").isGreaterThan(50);
  }

  @Test
  void noFilePassesMaxSizeAndOnlyKeepRotatedFilesRemainOldestDropped() throws IOException {
    var log = dir.resolve("app.log");
    try (var file = LogFile.open(log, 1024, /* rotateEvery= */ null, 3, InstantSource.system())) {
      for (int i = 0; i < 400; i++) {
        file.append(7, "!", List.of("line " + i));
      }
    }
    assertThat(LogFile.oldestFirst(log, 10))
        .containsExactly(
            dir.resolve("app.log.3"), dir.resolve("app.log.2"), dir.resolve("app.log.1"), log);
    for (var f : LogFile.oldestFirst(log, 10)) {
      assertThat(Files.size(f)).isLessThanOrEqualTo(1024);
    }
    var kept = lines(dir, log, 3);
    assertThat(kept.getLast()).endsWith(" gen 7 ! line 399");
    assertThat(kept.getFirst()).doesNotContain(" line 0");
    // What is kept is a contiguous tail: the oldest files went, nothing in between.
    int first = Integer.parseInt(kept.getFirst().substring(kept.getFirst().lastIndexOf(' ') + 1));
    assertThat(kept).hasSize(400 - first);
  }

  @Test
  void aLineLongerThanMaxSizeIsWrittenWholeInAFileOfItsOwn() throws IOException {
    var log = dir.resolve("app.log");
    var big = "y".repeat(5000);
    try (var file = LogFile.open(log, 1024, /* rotateEvery= */ null, 5, InstantSource.system())) {
      file.append(1, "|", List.of("before"));
      file.append(1, "|", List.of(big));
      file.append(1, "|", List.of("after"));
    }
    assertThat(Files.readAllLines(dir.resolve("app.log.2")))
        .singleElement()
        .asString()
        .endsWith("| before");
    assertThat(Files.readAllLines(dir.resolve("app.log.1")))
        .singleElement()
        .asString()
        .endsWith("| " + big);
    assertThat(Files.readAllLines(log)).singleElement().asString().endsWith("| after");
  }

  @Test
  void aFileOlderThanRotateEveryIsRotatedAtTheNextLine() throws IOException {
    var log = dir.resolve("app.log");
    var now = new Instant[] {Instant.now()};
    InstantSource clock = () -> now[0];
    try (var file = LogFile.open(log, 1 << 20, Duration.ofHours(1), 5, clock)) {
      file.append(1, "|", List.of("first hour"));
      now[0] = now[0].plus(Duration.ofMinutes(59));
      file.append(1, "|", List.of("still the first hour"));
      assertThat(LogFile.oldestFirst(log, 5)).containsExactly(log);
      now[0] = now[0].plus(Duration.ofMinutes(2));
      file.append(1, "|", List.of("second hour"));
    }
    assertThat(Files.readAllLines(dir.resolve("app.log.1"))).hasSize(2);
    assertThat(Files.readAllLines(log)).singleElement().asString().endsWith("| second hour");
  }

  @Test
  void afterLogrotateMovesTheFileAwayReopenStartsANewOne() throws IOException {
    var log = dir.resolve("app.log");
    try (var file =
        LogFile.open(log, 1 << 20, /* rotateEvery= */ null, 5, InstantSource.system())) {
      file.append(2, "|", List.of("before the move"));
      Files.move(log, dir.resolve("app.log-20250601"));
      file.append(2, "|", List.of("still to the moved file, as with any program until it reopens"));
      file.reopen();
      file.append(2, "|", List.of("after the reopen"));
    }
    assertThat(Files.readAllLines(dir.resolve("app.log-20250601"))).hasSize(2);
    assertThat(Files.readAllLines(log)).singleElement().asString().endsWith("| after the reopen");
  }

  @Test
  void afterLogrotateTruncatesTheFileWritingGoesOnAtItsNewEnd() throws IOException {
    var log = dir.resolve("app.log");
    try (var file = LogFile.open(log, 4096, /* rotateEvery= */ null, 5, InstantSource.system())) {
      file.append(2, "|", List.of("x".repeat(4000)));
      Files.write(log, new byte[0]); // copytruncate
      file.reopen();
      file.append(2, "|", List.of("after the truncation"));
    }
    assertThat(Files.readAllLines(log))
        .singleElement()
        .asString()
        .endsWith("| after the truncation");
    assertThat(dir.resolve("app.log.1"))
        .as("the reopen counted the truncated size, so nothing rotated")
        .doesNotExist();
  }

  @Test
  void aLineTellsWhichGenerationWroteIt() {
    assertThat(LogFile.generationOf("2025-06-01T12:00:00.123+02:00 gen 12 | hello"))
        .isEqualTo(OptionalInt.of(12));
    assertThat(LogFile.generationOf("2025-06-01T12:00:00.123Z gen 3 ! oops | gen 4 |"))
        .isEqualTo(OptionalInt.of(3));
    assertThat(LogFile.generationOf("not a line of ours")).isEmpty();
  }

  @Test
  void theLogAndEachRotatedFileAreReadableByTheOwnerOnlyWhateverTheUmask() throws IOException {
    var log = dir.resolve("app.log");
    try (var file = LogFile.open(log, 1024, /* rotateEvery= */ null, 3, InstantSource.system())) {
      file.append(1, "|", List.of("DB_PASSWORD=" + "z".repeat(1100)));
      file.append(1, "|", List.of("after the rotation"));
    }
    assertThat(LogFile.oldestFirst(log, 10)).containsExactly(dir.resolve("app.log.1"), log);
    for (var f : LogFile.oldestFirst(log, 10)) {
      assertThat(
              java.nio.file.attribute.PosixFilePermissions.toString(
                  Files.getPosixFilePermissions(f)))
          .as(f.toString())
          .isEqualTo("rw-------");
    }
  }

  @Test
  void aWriteThatFailsHalfwaySaysHowManyLinesAreInTheFileSoThatNoneIsLoggedTwice()
      throws Exception {
    // A FIFO whose reader takes 10 KiB and hangs up: the writer's pipe buffer takes some of the
    // batch, then the write fails with EPIPE, halfway through the lines.
    var fifo = dir.resolve("app.log");
    var mkfifo = new ProcessBuilder("mkfifo", fifo.toString()).start();
    assertThat(mkfifo.waitFor(10, TimeUnit.SECONDS)).isTrue();
    assertThat(mkfifo.exitValue()).isZero();
    var received = new java.util.concurrent.CompletableFuture<byte[]>();
    var reader =
        Thread.ofPlatform()
            .start(
                () -> {
                  try (var in = Files.newInputStream(fifo)) {
                    received.complete(in.readNBytes(10 << 10));
                  } catch (IOException e) {
                    received.completeExceptionally(e);
                  }
                });
    var file = LogFile.open(fifo, 1L << 30, /* rotateEvery= */ null, 1, InstantSource.system());
    var lines =
        IntStream.range(0, 200).mapToObj(n -> "line " + n + " " + "x".repeat(1000)).toList();

    var failure =
        org.assertj.core.api.Assertions.catchThrowableOfType(
            LogFile.PartialWrite.class, () -> file.append(1, "|", lines));
    reader.join(10_000);
    file.close();

    assertThat(failure)
        .as("200 KiB cannot all go through a pipe whose reader left after 10 KiB")
        .isNotNull();
    long taken = received.get(10, TimeUnit.SECONDS).length;
    assertThat(taken).isEqualTo(10 << 10);
    // The lines counted as written are exactly those whose every byte the kernel took: at least the
    // ten the reader read, and not one the write did not finish.
    assertThat(failure.written()).isBetween(10, lines.size() - 1);
    assertThat(failure.getMessage()).contains("cannot write");
  }
}
