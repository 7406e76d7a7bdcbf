package dev.baton.supervisor;

import dev.baton.os.PipeInput;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
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

  /**
   * Readers hold it shared from a read(2) until its lines are passed on; an upgrade takes it
   * exclusively, so that at execve no byte is between the pipe and the log. Readers wait for data
   * in poll(2), outside it, which takes nothing from the pipe.
   */
  private static final ReentrantReadWriteLock HANDOVER = new ReentrantReadWriteLock();

  /** Set by {@link #freeze()}: readers stop before their next read. Guarded by THAW. */
  private static boolean frozen;

  private static final Object THAW = new Object();
  private static final Set<GenerationOutput> RUNNING = ConcurrentHashMap.newKeySet();

  private final int generation;
  private final Consumer<String> remember;
  private final PipeInput stream;
  private final String mark;
  private final Optional<LogFile> file;

  /** The start of a line whose newline has not come yet. Guarded by HANDOVER. */
  private final ByteArrayOutputStream partial = new ByteArrayOutputStream();

  GenerationOutput(int generation, Consumer<String> remember, PipeInput stream, String mark, Optional<LogFile> file) {
    this.generation = generation;
    this.remember = remember;
    this.stream = stream;
    this.mark = mark;
    this.file = file;
  }

  /** Starts copying both streams of the generation, into the file opened by {@link LogFile#forConfig}, if any. */
  static void start(Generation generation) {
    start(generation, List.of(), LogFile.ofThisProcess());
  }

  /**
   * Starts copying both streams; {@code carried} is what the previous program had read of each
   * (stdout, stderr) without its newline yet, handed over through the state journal.
   */
  static void start(Generation generation, List<String> carried, Optional<LogFile> file) {
    var g = generation.number;
    var out = new GenerationOutput(g, generation::remember, generation.process.stdout(), "|", file);
    var err = new GenerationOutput(g, generation::remember, generation.process.stderr(), "!", file);
    if (carried.size() == 2) {
      out.partial.writeBytes(carried.get(0).getBytes(StandardCharsets.ISO_8859_1));
      err.partial.writeBytes(carried.get(1).getBytes(StandardCharsets.ISO_8859_1));
    }
    Thread.ofPlatform().daemon().name("gen-" + g + "-stdout").start(out);
    Thread.ofPlatform().daemon().name("gen-" + g + "-stderr").start(err);
  }

  static void start(Generation generation, Optional<LogFile> file) {
    start(generation, List.of(), file);
  }

  /**
   * Stops every reader between two reads and returns, per generation, the partial line each
   * stream holds (stdout's, stderr's; bytes as ISO-8859-1 text), for the state journal. The readers
   * stay stopped until {@link #thaw()}: this is for the moment just before execve.
   */
  static Map<Integer, List<String>> freeze() {
    synchronized (THAW) {
      frozen = true;
    }
    HANDOVER.writeLock().lock();
    var carried = new HashMap<Integer, String[]>();
    for (var reader : RUNNING) {
      var pair = carried.computeIfAbsent(reader.generation, g -> new String[] {"", ""});
      pair[reader.mark.equals("|") ? 0 : 1] = reader.partial.toString(StandardCharsets.ISO_8859_1);
    }
    var result = new HashMap<Integer, List<String>>();
    carried.forEach((g, pair) -> result.put(g, List.of(pair)));
    return result;
  }

  /** Undoes {@link #freeze()} when the execve failed and this program carries on. */
  static void thaw() {
    if (HANDOVER.writeLock().isHeldByCurrentThread()) {
      HANDOVER.writeLock().unlock();
    }
    synchronized (THAW) {
      frozen = false;
      THAW.notifyAll();
    }
  }

  @Override
  public void run() {
    RUNNING.add(this);
    var chunk = new byte[CHUNK];
    var lines = new ArrayList<String>();
    try (stream) {
      while (true) {
        stream.awaitReadable();
        awaitThaw();
        HANDOVER.readLock().lock();
        try {
          if (isFrozen()) {
            continue;
          }
          int n = stream.read(chunk);
          if (n == -1) {
            if (partial.size() > 0) {
              lines.add(line(partial)); // its last words, without a newline
              pass(lines);
            }
            return;
          }
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
        } finally {
          HANDOVER.readLock().unlock();
        }
      }
    } catch (IOException e) {
      LOG.warn("gen {}: output lost after a read error: {}", generation, e.getMessage());
    } finally {
      RUNNING.remove(this);
    }
  }

  private static boolean isFrozen() {
    synchronized (THAW) {
      return frozen;
    }
  }

  private static void awaitThaw() {
    synchronized (THAW) {
      while (frozen) {
        try {
          THAW.wait();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
      }
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
