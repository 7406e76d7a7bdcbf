package dev.baton.supervisor;

import dev.baton.protocol.Json;
import java.time.Instant;
import org.jspecify.annotations.Nullable;
import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonGenerator;

/**
 * The state journal's JSON: the {@link StateJournal.State} records with their keys in snake_case,
 * instants as ISO-8601 and an absent value as null, as every JSON document baton writes. Journals
 * that earlier versions wrote read the same.
 */
final class JournalJson {
  private JournalJson() {}

  static String write(StateJournal.State state) {
    return Json.write(
        out -> {
          out.writeStartObject();
          out.writeStringProperty("boot_id", state.bootId());
          out.writeNumberProperty("uid", state.uid());
          out.writeNumberProperty("supervisor_pid", state.supervisorPid());
          out.writeNumberProperty("supervisor_start_time", state.supervisorStartTime());
          out.writeNumberProperty("next_number", state.nextNumber());
          out.writeName("listeners");
          out.writeStartArray();
          for (var l : state.listeners()) {
            out.writeStartObject();
            out.writeStringProperty("name", l.name());
            out.writeStringProperty("address", l.address());
            out.writeStringProperty("socket", l.socket());
            out.writeEndObject();
          }
          out.writeEndArray();
          out.writeName("generations");
          out.writeStartArray();
          state.generations().forEach(g -> write(out, g));
          out.writeEndArray();
          out.writeEndObject();
        });
  }

  private static void write(JsonGenerator out, StateJournal.GenerationEntry g) {
    out.writeStartObject();
    out.writeNumberProperty("number", g.number());
    out.writeNumberProperty("pid", g.pid());
    out.writeNumberProperty("start_time", g.startTime());
    out.writeNumberProperty("session", g.session());
    out.writeBooleanProperty("child", g.child());
    out.writeStringProperty("state", g.state());
    Json.writeStrings(out, "command", g.command());
    out.writeName("env");
    out.writeStartObject();
    g.env().forEach(out::writeStringProperty);
    out.writeEndObject();
    out.writeStringProperty("workdir", g.workdir());
    Json.writeStrings(out, "output_pipes", g.outputPipes());
    Json.writeStrings(out, "pending_output", g.pendingOutput());
    Json.writeOptional(out, "probe_address", g.probeAddress());
    out.writeStringProperty("started", g.started().toString());
    Json.writeOptional(out, "promoted", g.promoted());
    Json.writeOptional(out, "parked_until", g.parkedUntil());
    Json.writeOptional(out, "bake_until", g.bakeUntil());
    out.writeName("sockets");
    out.writeStartObject();
    g.sockets().forEach(out::writeStringProperty);
    out.writeEndObject();
    out.writeBooleanProperty("paused", g.paused());
    out.writeEndObject();
  }

  /**
   * @throws IllegalArgumentException naming what is wrong, when the text is not a journal
   */
  static StateJournal.State read(String text) {
    try {
      var s =
          Json.Fields.of(Json.parse(text), "a journal")
              .require("a journal", "supervisor_pid", "generations");
      return new StateJournal.State(
          s.string("boot_id"),
          s.integer("uid"),
          s.integer("supervisor_pid"),
          s.longInteger("supervisor_start_time"),
          s.integer("next_number"),
          s.list("listeners", JournalJson::listener),
          s.list("generations", JournalJson::generation));
    } catch (JacksonException e) {
      throw new IllegalArgumentException(e.getOriginalMessage(), e);
    }
  }

  private static StateJournal.ListenerEntry listener(@Nullable Object value) {
    var l = Json.Fields.of(value, "a listener");
    return new StateJournal.ListenerEntry(
        l.string("name"), l.string("address"), l.string("socket"));
  }

  private static StateJournal.GenerationEntry generation(@Nullable Object value) {
    var g = Json.Fields.of(value, "a generation").require("a generation", "number", "pid");
    return new StateJournal.GenerationEntry(
        g.integer("number"),
        g.integer("pid"),
        g.longInteger("start_time"),
        g.integer("session"),
        g.bool("child"),
        g.string("state"),
        g.strings("command"),
        g.stringMap("env"),
        g.string("workdir"),
        g.strings("output_pipes"),
        g.strings("pending_output"),
        g.optionalString("probe_address"),
        g.optionalInstant("started").orElse(Instant.EPOCH),
        g.optionalInstant("promoted"),
        g.optionalInstant("parked_until"),
        g.optionalInstant("bake_until"),
        g.stringMap("sockets"),
        // A journal from before steered listeners has no "paused".
        g.has("paused") && g.bool("paused"));
  }
}
