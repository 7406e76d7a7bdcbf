package dev.baton.supervisor;

import dev.baton.protocol.DeployEvent;
import dev.baton.protocol.DeployKind;
import dev.baton.protocol.DeployStep;
import dev.baton.protocol.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One JSON line per deploy, rollback and crash restart that ended, in {@code <socket>.deploys} next
 * to the state journal: when, what set it off, how it ended, its phases and the command. Unlike the
 * journal it outlives a stop, so the status page and {@code /metrics} show the history across
 * supervisor restarts. Past {@link #MAX_BYTES} the file becomes {@code .1} (the one before is
 * dropped), as logrotate's copy would.
 */
final class DeployRecord {
  private static final Logger LOG = LoggerFactory.getLogger(DeployRecord.class);

  static final long MAX_BYTES = 1L << 20;

  /** Entries kept in memory for the page: the newest last. */
  static final int KEPT = 50;

  /**
   * One deploy that ended.
   *
   * @param trigger what set it off: manual (a deploy or rollback asked for), start, crash, bake
   * @param ready from spawn until the generation was ready, when it got there
   * @param promoted from spawn until it was promoted, when it got there
   */
  record Entry(
      Instant at,
      DeployKind kind,
      String trigger,
      boolean ok,
      String reason,
      Optional<Integer> generation,
      Optional<Integer> replaced,
      Optional<Duration> ready,
      Optional<Duration> promoted,
      Duration took,
      List<String> command,
      String error) {}

  private final Path file;
  private final Metrics metrics = new Metrics();
  private final ArrayDeque<Entry> recent = new ArrayDeque<>();

  DeployRecord(Path file) {
    this.file = file;
    load();
  }

  /** The counters and histograms of the deploys this process saw end. */
  Metrics metrics() {
    return metrics;
  }

  /** What set a deploy of {@code kind} off, from the reason it was given. */
  static String trigger(DeployKind kind, String reason) {
    return switch (kind) {
      case START -> "start";
      case RESTART -> "crash";
      case DEPLOY -> "manual";
      case ROLLBACK -> reason.startsWith("bake failed") ? "bake" : "manual";
    };
  }

  /**
   * Runs {@code deploy} with a progress callback that notes its phases, and records how it ended.
   * Everything here runs on the loop: the deploy's events and its completion both do.
   */
  CompletableFuture<Supervisor.Deployed> track(
      Supervisor supervisor,
      DeployKind kind,
      String reason,
      Consumer<DeployEvent> progress,
      Function<Consumer<DeployEvent>, CompletableFuture<Supervisor.Deployed>> deploy) {
    var loop = supervisor.loop();
    var started = loop.now();
    var replaced = supervisor.generations().active().map(g -> g.number);
    var phases = new Phases();
    Consumer<DeployEvent> noting =
        event -> {
          phases.note(event);
          progress.accept(event);
        };
    return deploy
        .apply(noting)
        .whenComplete(
            (deployed, error) -> {
              var generation =
                  deployed != null ? Optional.of(deployed.generation()) : phases.generation;
              var command =
                  generation
                      .flatMap(supervisor.generations()::byNumber)
                      .map(g -> g.app.command())
                      .orElse(List.<String>of());
              var entry =
                  new Entry(
                      started,
                      kind,
                      trigger(kind, reason),
                      error == null,
                      reason,
                      generation,
                      replaced,
                      phases.ready,
                      phases.promoted,
                      Duration.between(started, loop.now()),
                      command,
                      error == null ? "" : DeployException.reason(error));
              metrics.deployed(
                  kind, entry.trigger(), entry.ok(), entry.took(), entry.ready(), entry.promoted());
              append(entry);
              if (deployed != null) {
                var drainFrom = loop.now();
                deployed
                    .retired()
                    .ifPresent(
                        done ->
                            done.thenAccept(
                                event -> {
                                  if (event.step() == DeployStep.DRAINED) {
                                    metrics.drained(Duration.between(drainFrom, loop.now()));
                                  }
                                }));
              }
            });
  }

  /**
   * The promotions of earlier processes into {@code generations}' history, so that {@code baton
   * status} after a restart or an upgrade shows what happened before it.
   */
  void seed(Generations generations) {
    for (var e : recent) {
      if (e.ok() && e.generation().isPresent()) {
        generations.remember(
            new dev.baton.protocol.Status.HistoryEntry(
                e.at(), e.kind(), e.generation().get(), e.replaced(), e.reason()));
      }
    }
  }

  /** The newest entries, oldest first. */
  List<Entry> recent() {
    return List.copyOf(recent);
  }

  private static final class Phases {
    Optional<Integer> generation = Optional.empty();
    Optional<Duration> ready = Optional.empty();
    Optional<Duration> promoted = Optional.empty();

    void note(DeployEvent event) {
      generation = Optional.of(event.generation());
      switch (event.step()) {
        case READY -> ready = Optional.of(event.elapsed());
        case PROMOTED -> promoted = Optional.of(event.elapsed());
        default -> {}
      }
    }
  }

  private void keep(Entry entry) {
    recent.addLast(entry);
    while (recent.size() > KEPT) {
      recent.removeFirst();
    }
  }

  void append(Entry entry) {
    keep(entry);
    var line = (write(entry) + "\n").getBytes(StandardCharsets.UTF_8);
    try {
      if (Files.size(file) + line.length > MAX_BYTES) {
        Files.move(file, rotated(), StandardCopyOption.REPLACE_EXISTING);
      }
    } catch (IOException e) {
      // No file yet: the write below makes it.
    }
    try {
      if (Files.notExists(file, LinkOption.NOFOLLOW_LINKS)) {
        Files.createFile(file, StateJournal.OWNER_ONLY);
      }
      Files.write(file, line, StandardOpenOption.APPEND, LinkOption.NOFOLLOW_LINKS);
    } catch (IOException | UnsupportedOperationException e) {
      LOG.warn("cannot append to the deploy record {}: {}", file, e.toString());
    }
  }

  private Path rotated() {
    return file.resolveSibling(file.getFileName() + ".1");
  }

  /**
   * The last {@link #KEPT} entries of the file and its rotated one; lines that do not read are
   * skipped.
   */
  private void load() {
    for (var path : List.of(rotated(), file)) {
      List<String> lines;
      try {
        lines = Files.readAllLines(path, StandardCharsets.UTF_8);
      } catch (IOException e) {
        continue;
      }
      for (var line : lines.subList(Math.max(0, lines.size() - KEPT), lines.size())) {
        try {
          keep(read(line));
        } catch (RuntimeException e) {
          LOG.debug("skipped a deploy record line that does not read: {}", e.getMessage());
        }
      }
    }
  }

  static String write(Entry e) {
    return Json.write(
        out -> {
          out.writeStartObject();
          out.writeStringProperty("at", e.at().toString());
          out.writeStringProperty("kind", e.kind().name().toLowerCase(Locale.ROOT));
          out.writeStringProperty("trigger", e.trigger());
          out.writeStringProperty("result", e.ok() ? "ok" : "failed");
          out.writeStringProperty("reason", e.reason());
          writeInt(out, "generation", e.generation());
          writeInt(out, "replaced", e.replaced());
          writeMillis(out, "ready_ms", e.ready());
          writeMillis(out, "promoted_ms", e.promoted());
          out.writeNumberProperty("took_ms", e.took().toMillis());
          Json.writeStrings(out, "command", e.command());
          out.writeStringProperty("error", e.error());
          out.writeEndObject();
        });
  }

  private static void writeInt(
      tools.jackson.core.JsonGenerator out, String name, Optional<Integer> value) {
    if (value.isPresent()) {
      out.writeNumberProperty(name, value.get());
    } else {
      out.writeNullProperty(name);
    }
  }

  private static void writeMillis(
      tools.jackson.core.JsonGenerator out, String name, Optional<Duration> value) {
    if (value.isPresent()) {
      out.writeNumberProperty(name, value.get().toMillis());
    } else {
      out.writeNullProperty(name);
    }
  }

  static Entry read(String line) {
    var f = Json.Fields.of(Json.parse(line), "a deploy record line");
    return new Entry(
        f.instant("at"),
        DeployKind.valueOf(f.string("kind").toUpperCase(Locale.ROOT)),
        f.string("trigger"),
        f.string("result").equals("ok"),
        f.string("reason"),
        f.optionalInteger("generation"),
        f.optionalInteger("replaced"),
        f.has("ready_ms") && f.raw("ready_ms") != null
            ? Optional.of(Duration.ofMillis(f.longInteger("ready_ms")))
            : Optional.empty(),
        f.has("promoted_ms") && f.raw("promoted_ms") != null
            ? Optional.of(Duration.ofMillis(f.longInteger("promoted_ms")))
            : Optional.empty(),
        Duration.ofMillis(f.longInteger("took_ms")),
        f.strings("command"),
        f.string("error"));
  }
}
