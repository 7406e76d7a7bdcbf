package dev.baton.cli;

import dev.baton.config.ConfigException;
import dev.baton.supervisor.ControlClient;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import tools.jackson.databind.JsonNode;

@Command(name = "status", description = "Show each generation (number, state, pid, command, start, readiness) and each listener.")
final class StatusCommand implements Callable<Integer> {
  private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss.SSS").withZone(ZoneId.systemDefault());

  @Mixin ConfigOption config;

  @Option(names = "--json", description = "print the status as JSON")
  boolean json;

  @Override
  public Integer call() {
    JsonNode reply;
    try {
      reply = new ControlClient(config.load().control().socket()).call(ControlClient.request("status"), e -> {});
    } catch (ConfigException e) {
      System.err.println("baton: " + e.getMessage());
      return Main.USAGE;
    } catch (ControlClient.ControlException e) {
      System.err.println("baton: " + e.getMessage());
      return Main.UNREACHABLE;
    }
    if (!reply.path("ok").asBoolean(false)) {
      System.err.println("baton: " + reply.path("error").asString(""));
      return Main.FAILED;
    }
    var status = reply.get("status");
    if (json) {
      System.out.println(status.toPrettyString());
      return 0;
    }
    System.out.println("supervisor pid " + status.path("supervisorPid").asInt()
        + (status.path("activeGeneration").isNull() || status.path("activeGeneration").isMissingNode()
            ? ", no active generation" : ", active generation " + status.path("activeGeneration").asInt())
        + (status.path("deploying").asBoolean() ? ", deploy in progress" : ""));
    if (status.hasNonNull("crashLoop")) {
      System.out.println("crash-looping: " + status.get("crashLoop").asString());
    }
    System.out.println();
    System.out.printf("%-5s %-9s %-8s %-12s %-50s %s%n", "GEN", "STATE", "PID", "STARTED", "READINESS", "COMMAND");
    for (var g : status.path("generations")) {
      var line = String.format("%-5d %-9s %-8d %-12s %-50s %s", g.path("number").asInt(), g.path("state").asString(),
          g.path("pid").asInt(), time(g.path("started")), g.path("readiness").asString(),
          String.join(" ", g.path("command").valueStream().map(JsonNode::asString).toList()));
      System.out.println(line);
      var why = g.path("exit").asString("") + (g.path("reason").asString("").isEmpty() ? "" : " — " + g.path("reason").asString());
      if (!why.isBlank()) {
        System.out.println("      " + why.strip());
      }
    }
    if (!status.path("parked").isEmpty()) {
      System.out.println("parked for rollback: generation(s) " + status.path("parked").valueStream().map(JsonNode::asString).toList());
    }
    System.out.println();
    System.out.printf("%-12s %-28s %-11s %s%n", "LISTENER", "ADDRESS", "PASS", "FD");
    for (var l : status.path("listeners")) {
      System.out.printf("%-12s %-28s %-11s %d%n", l.path("name").asString(), l.path("address").asString(),
          l.path("pass").asString(), l.path("fd").asInt());
    }
    if (!status.path("history").isEmpty()) {
      System.out.println();
      System.out.printf("%-12s %-9s %-5s %-9s %s%n", "AT", "KIND", "GEN", "REPLACED", "REASON");
      for (var h : status.path("history")) {
        System.out.printf("%-12s %-9s %-5d %-9s %s%n", time(h.path("at")), h.path("kind").asString(), h.path("generation").asInt(),
            h.path("replaced").isNumber() ? h.path("replaced").asString() : "-", h.path("reason").asString());
      }
    }
    return 0;
  }

  private static String time(JsonNode instant) {
    return instant.isString() ? TIME.format(Instant.parse(instant.asString())) : "";
  }
}
