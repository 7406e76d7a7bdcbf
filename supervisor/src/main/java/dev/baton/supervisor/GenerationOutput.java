package dev.baton.supervisor;

import dev.baton.os.PipeInput;
import dev.baton.os.Poller;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Copies a generation's stdout or stderr, a whole line at a time, into the service's {@link
 * LogFile} when {@code [logs] file} is set, or else into the supervisor's log prefixed {@code gen N
 * |} (stdout) or {@code gen N !} (stderr). It reads until EOF, which comes only when every process
 * holding the pipe has exited, so the lines a draining generation prints last are never cut off.
 *
 * <p>It reads on the supervisor's loop, which is the only reader: at an upgrade's execve no read is
 * half done, and what {@link #partial()} holds of an unfinished line is all there is between the
 * pipe and the log, so it travels in the state journal. All the lines one read brings go to the
 * file in one write: a rotation, a reopen or another generation's output can come between lines,
 * never inside one.
 */
final class GenerationOutput {
  private static final Logger LOG = LoggerFactory.getLogger("generation");

  /**
   * A line longer than this is passed on in pieces of this size: an endless line must not exhaust
   * memory.
   */
  static final int MAX_LINE = 64 * 1024;

  /** One buffer for every reader: they all read on the one loop thread. */
  private static final ThreadLocal<byte[]> CHUNK =
      ThreadLocal.withInitial(() -> new byte[16 * 1024]);

  private final Generation generation;
  private final PipeInput stream;
  private final String mark;
  private final @Nullable LogFile file;
  private final ByteArrayOutputStream partial = new ByteArrayOutputStream();
  private final List<String> lines = new ArrayList<>();

  private GenerationOutput(
      Generation generation,
      PipeInput stream,
      String mark,
      @Nullable LogFile file,
      String carried) {
    this.generation = generation;
    this.stream = stream;
    this.mark = mark;
    this.file = file;
    partial.writeBytes(carried.getBytes(StandardCharsets.ISO_8859_1));
  }

  /**
   * Starts copying both streams of {@code generation}; {@code carried} is what the previous program
   * had read of each (stdout, stderr) without its newline yet, handed over through the state
   * journal. Without a {@code file}, the lines go to the supervisor's log.
   */
  static List<GenerationOutput> start(
      Loop loop, Generation generation, List<String> carried, @Nullable LogFile file) {
    var out =
        new GenerationOutput(
            generation,
            generation.process.stdout(),
            "|",
            file,
            carried.size() == 2 ? carried.get(0) : "");
    var err =
        new GenerationOutput(
            generation,
            generation.process.stderr(),
            "!",
            file,
            carried.size() == 2 ? carried.get(1) : "");
    out.watch(loop);
    err.watch(loop);
    return List.of(out, err);
  }

  private void watch(Loop loop) {
    var fd = stream.fd();
    if (fd.isEmpty()) {
      return;
    }
    loop.watch(
        fd.get(),
        Poller.READABLE,
        events -> {
          if (!readOnce()) {
            loop.unwatch(fd.get());
            closeQuietly();
          }
        });
  }

  /** What has been read of a line whose newline has not come yet, as ISO-8859-1 text. */
  String partial() {
    return partial.toString(StandardCharsets.ISO_8859_1);
  }

  /** Reads what is there and passes its whole lines on; false at end of stream or on an error. */
  boolean readOnce() {
    var chunk = CHUNK.get();
    int n;
    try {
      n = stream.readNow(chunk);
    } catch (IOException e) {
      LOG.warn("gen {}: output lost after a read error: {}", generation.number, e.getMessage());
      return false;
    }
    if (n == 0) {
      return true;
    }
    if (n < 0) {
      if (partial.size() > 0) {
        lines.add(line()); // its last words, without a newline
        pass();
      }
      return false;
    }
    int from = 0;
    for (int i = 0; i < n; i++) {
      if (chunk[i] == '\n') {
        partial.write(chunk, from, i - from);
        lines.add(line());
        from = i + 1;
      }
    }
    partial.write(chunk, from, n - from);
    if (partial.size() >= MAX_LINE) {
      lines.add(line());
    }
    pass();
    return true;
  }

  /** The bytes gathered so far as one line, without a CRLF's CR; empties {@code partial}. */
  private String line() {
    var bytes = partial.toByteArray();
    partial.reset();
    int length =
        bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
    return new String(bytes, 0, length, StandardCharsets.UTF_8);
  }

  private void pass() {
    if (lines.isEmpty()) {
      return;
    }
    // Only the last few are kept for failure messages: no need to offer it every line.
    lines.subList(Math.max(0, lines.size() - 5), lines.size()).forEach(generation::remember);
    List<String> rest = lines;
    try {
      if (file != null) {
        file.append(generation.number, mark, lines);
        lines.clear();
        return;
      }
    } catch (LogFile.PartialWrite e) {
      // The lines already in the file must not be logged twice: only the rest go here.
      LOG.warn(
          "gen {}: cannot write to the log file ({}); the {} lines not in it go here instead",
          generation.number,
          e.getMessage(),
          lines.size() - e.written());
      rest = lines.subList(e.written(), lines.size());
    } catch (UncheckedIOException e) {
      LOG.warn(
          "gen {}: cannot write to the log file ({}); these lines go here instead",
          generation.number,
          e.getMessage());
    }
    var stream = mark.equals("|") ? "stdout" : "stderr";
    for (var line : rest) {
      LOG.atInfo()
          .addKeyValue("generation", generation.number)
          .addKeyValue("stream", stream)
          .log("gen {} {} {}", generation.number, mark, line);
    }
    lines.clear();
  }

  private void closeQuietly() {
    try {
      stream.close();
    } catch (IOException e) {
      // Nothing more will be read from it either way.
    }
  }
}
