package dev.baton.cli;

import dev.baton.config.ConfigException;
import dev.baton.supervisor.ControlClient;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import tools.jackson.databind.JsonNode;

@Command(
    name = "upgrade",
    description = {
      "Replace the running supervisor with the baton build now on disk, without losing a request.",
      "The supervisor re-executes itself: same pid (systemd's MainPID stays right), same children,"
          + " same listeners; the new program takes its state back from the state journal."
    })
final class UpgradeCommand implements Callable<Integer> {
  @Mixin ConfigOption config;

  @Option(names = "--timeout", description = "how long to wait for the new program to answer (default: ${DEFAULT-VALUE})", defaultValue = "60s")
  String timeout;

  @Option(names = "--json", description = "print the result as JSON")
  boolean json;

  @Override
  public Integer call() throws InterruptedException {
    ControlClient client;
    try {
      client = new ControlClient(config.load().control().socket());
    } catch (ConfigException e) {
      System.err.println("baton: " + e.getMessage());
      return Main.USAGE;
    }
    long start = System.nanoTime();
    JsonNode reply;
    try {
      reply = client.call(ControlClient.request("upgrade"), e -> {});
    } catch (ControlClient.ControlException e) {
      System.err.println("baton: " + e.getMessage());
      return Main.UNREACHABLE;
    }
    if (!reply.path("ok").asBoolean(false)) {
      System.err.println("baton: " + reply.path("error").asString(""));
      return Main.FAILED;
    }
    int pid = reply.path("pid").asInt();
    long deadline = System.nanoTime() + dev.baton.config.Config.parseDuration(timeout).toNanos();
    while (System.nanoTime() < deadline) {
      try {
        var status = client.call(ControlClient.request("status"), e -> {});
        var s = status.path("status");
        if (s.path("supervisorPid").asInt() == pid && s.hasNonNull("activeGeneration")) {
          long ms = Duration.ofNanos(System.nanoTime() - start).toMillis();
          if (json) {
            System.out.println("{\"ok\":true,\"pid\":" + pid + ",\"ms\":" + ms + ",\"activeGeneration\":" + s.path("activeGeneration").asInt() + "}");
          } else {
            System.out.println("upgraded in " + ms + " ms: supervisor pid " + pid + " unchanged, generation "
                + s.path("activeGeneration").asInt() + " still active");
          }
          return 0;
        }
      } catch (ControlClient.ControlException e) {
        // The new program is still starting.
      }
      Thread.sleep(50);
    }
    System.err.println("baton: the upgraded supervisor did not answer within " + timeout + "; see its log");
    return Main.FAILED;
  }
}
