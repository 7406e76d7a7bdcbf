package dev.baton.supervisor;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import dev.baton.os.PipeInput;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GenerationOutputTest {
  @TempDir Path dir;

  /** A pipe that hands out exactly these pieces, one per read, as a real pipe may. */
  private static PipeInput pieces(String... pieces) {
    var queue = new ArrayDeque<byte[]>();
    for (var p : pieces) {
      queue.add(p.getBytes(StandardCharsets.UTF_8));
    }
    return new PipeInput() {
      @Override
      public void awaitReadable() {}

      @Override
      public int read() {
        throw new UnsupportedOperationException();
      }

      @Override
      public int read(byte[] b, int off, int len) {
        if (queue.isEmpty()) {
          return -1;
        }
        var next = queue.removeFirst();
        int n = Math.min(len, next.length);
        System.arraycopy(next, 0, b, off, n);
        if (n < next.length) {
          queue.addFirst(java.util.Arrays.copyOfRange(next, n, next.length));
        }
        return n;
      }
    };
  }

  private List<String> copy(PipeInput in, List<String> remembered) throws IOException {
    var log = dir.resolve("app.log");
    try (var file = LogFile.open(log, 1 << 20, Optional.empty(), 5, InstantSource.system())) {
      new GenerationOutput(4, remembered::add, in, "|", Optional.of(file)).run();
    }
    return Files.readAllLines(log).stream().map(l -> l.substring(l.indexOf(" gen "))).toList();
  }

  @Test
  void aLineSplitAcrossReadsIsWrittenOnceWholeAndTheLastOneEvenWithoutANewline() throws IOException {
    var lines = copy(pieces("hel", "lo\r\nwor", "ld\nlast words"), new ArrayList<>());
    assertThat(lines).containsExactly(" gen 4 | hello", " gen 4 | world", " gen 4 | last words");
  }

  @Test
  void anEndlessLineIsPassedOnInPiecesRatherThanHeldInMemory() throws IOException {
    var endless = "z".repeat(3 * GenerationOutput.MAX_LINE);
    var lines = copy(pieces(endless, "\n"), new ArrayList<>());
    assertThat(String.join("", lines.stream().map(l -> l.substring(" gen 4 | ".length())).toList())).isEqualTo(endless);
    assertThat(lines).hasSizeBetween(3, 4);
  }

  @Test
  void theLastLinesAreRememberedToExplainAFailure() throws IOException {
    var remembered = new ArrayList<String>();
    copy(pieces("1\n2\n3\n4\n5\n6\n7\n"), remembered);
    assertThat(remembered).endsWith("3", "4", "5", "6", "7");
  }
}
