package dev.baton.supervisor;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Copies a generation's stdout or stderr, a whole line at a time, into the service's {@link
 * LogFile} when {@code [logs] file} is set, or else into the supervisor's log prefixed {@code gen N
 * |} (stdout) or {@code gen N !} (stderr). It reads until EOF, which comes only when every process
 * holding the pipe has exited, so the lines a draining generation prints last are never cut off.
 *
 * <p>A line is passed on only once its newline has arrived (or at EOF), and all the lines one read
 * brings go to the file in one write: a rotation, a reopen or another generation's output can come
 * between lines, never inside one.
 */
final class GenerationOutput implements Runnable {
  private static final Logger LOG = LoggerFactory.getLogger("generation");

  /** A line longer than this is passed on in pieces of this size: an endless line must not exhaust memory. */
  static final int MAX_LINE = 64 * 1024;

  private static final int CHUNK = 16 * 1024;

  private final int generation;
  private final Consumer<String> remember;
  private final InputStream stream;
  private final String mark;
  private final Optional<LogFile> file;

  GenerationOutput(int generation, Consumer<String> remember, InputStream stream, String mark, Optional<LogFile> file) {
    this.generation = generation;
    this.remember = remember;
    this.stream = stream;
    this.mark = mark;
    this.file = file;
  }

  /** Starts copying both streams of the generation, into the file opened by {@link LogFile#forConfig}, if any. */
  static void start(Generation generation) {
    start(generation, LogFile.ofThisProcess());
  }

  static void start(Generation generation, Optional<LogFile> file) {
    var g = generation.number;
    Thread.ofPlatform().daemon().name("gen-" + g + "-stdout")
        .start(new GenerationOutput(g, generation::remember, generation.process.stdout(), "|", file));
    Thread.ofPlatform().daemon().name("gen-" + g + "-stderr")
        .start(new GenerationOutput(g, generation::remember, generation.process.stderr(), "!", file));
  }

  @Override
  public void run() {
    var chunk = new byte[CHUNK];
    var partial = new ByteArrayOutputStream();
    var lines = new ArrayList<String>();
    try (stream) {
      for (int n = stream.read(chunk); n != -1; n = stream.read(chunk)) {
        int from = 0;
        for (int i = 0; i < n; i++) {
          if (chunk[i] == '\n') {
            partial.write(chunk, from, i - from);
            lines.add(line(partial));
            from = i + 1;
          }
        }
        partial.write(chunk, from, n - from);
        if (partial.size() >= MAX_LINE) {
          lines.add(line(partial));
        }
        pass(lines);
      }
      if (partial.size() > 0) {
        lines.add(line(partial)); // its last words, without a newline
        pass(lines);
      }
    } catch (IOException e) {
      LOG.warn("gen {}: output lost after a read error: {}", generation, e.getMessage());
    }
  }

  /** The bytes gathered so far as one line, without a CRLF's CR; empties {@code partial}. */
  private static String line(ByteArrayOutputStream partial) {
    var bytes = partial.toByteArray();
    partial.reset();
    int length = bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
    return new String(bytes, 0, length, StandardCharsets.UTF_8);
  }

  private void pass(List<String> lines) {
    if (lines.isEmpty()) {
      return;
    }
    // Only the last few are kept for failure messages: no need to offer it every line.
    lines.subList(Math.max(0, lines.size() - 5), lines.size()).forEach(remember);
    try {
      if (file.isPresent()) {
        file.get().append(generation, mark, lines);
        lines.clear();
        return;
      }
    } catch (UncheckedIOException e) {
      LOG.warn("gen {}: cannot write to the log file ({}); these lines go here instead", generation, e.getMessage());
    }
    var stream = mark.equals("|") ? "stdout" : "stderr";
    for (var line : lines) {
      LOG.atInfo().addKeyValue("generation", generation).addKeyValue("stream", stream)
          .log("gen {} {} {}", generation, mark, line);
    }
    lines.clear();
  }
}
