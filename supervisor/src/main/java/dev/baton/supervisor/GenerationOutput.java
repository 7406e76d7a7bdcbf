package dev.baton.supervisor;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Copies a generation's stdout or stderr into the supervisor's log, a whole line at a time, prefixed
 * with the generation's number. It reads until EOF, which comes only when every process holding
 * the pipe has exited, so the lines a draining generation prints last are never cut off.
 */
final class GenerationOutput implements Runnable {
  private static final Logger LOG = LoggerFactory.getLogger("generation");

  private final Generation generation;
  private final InputStream stream;
  private final String mark;

  private GenerationOutput(Generation generation, InputStream stream, String mark) {
    this.generation = generation;
    this.stream = stream;
    this.mark = mark;
  }

  static void start(Generation generation) {
    var g = generation.number;
    Thread.ofPlatform().daemon().name("gen-" + g + "-stdout").start(new GenerationOutput(generation, generation.process.stdout(), "|"));
    Thread.ofPlatform().daemon().name("gen-" + g + "-stderr").start(new GenerationOutput(generation, generation.process.stderr(), "!"));
  }

  @Override
  public void run() {
    try (var reader = new BufferedReader(new InputStreamReader(stream, StandardCharsets.UTF_8))) {
      for (var line = reader.readLine(); line != null; line = reader.readLine()) {
        generation.remember(line);
        LOG.info("gen {} {} {}", generation.number, mark, line);
      }
    } catch (IOException e) {
      LOG.warn("gen {}: output lost after a read error: {}", generation.number, e.getMessage());
    }
  }
}
