package dev.baton.cli;

import dev.baton.config.ConfigException;
import dev.baton.protocol.ControlClient;
import dev.baton.protocol.Reply;
import dev.baton.protocol.Request;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
    name = "upgrade",
    description = {
      "Replace the running supervisor with the baton build now on disk, without losing a request.",
      "The supervisor re-executes itself: same pid (systemd's MainPID stays right), same children,"
          + " same listeners; the new program takes its state back from the state journal."
    })
final class UpgradeCommand implements Callable<Integer> {
  @Mixin ConfigOption config;

  @Option(
      names = "--timeout",
      paramLabel = "DURATION",
      description = "how long to wait for the new program to answer (default: ${DEFAULT-VALUE})",
      defaultValue = "60s")
  Duration timeout;

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
    Reply reply;
    try {
      reply = client.call(new Request.Upgrade(), e -> {});
    } catch (ControlClient.ControlException e) {
      System.err.println("baton: " + e.getMessage());
      return Main.UNREACHABLE;
    }
    var upgrading = Replies.expected(reply, Reply.Upgrading.class, "upgrade");
    if (upgrading.isEmpty()) {
      return Main.FAILED;
    }
    int pid = upgrading.get().pid();
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      try {
        if (client.call(new Request.GetStatus(), e -> {}) instanceof Reply.StatusReply(var s)
            && s.supervisorPid() == pid
            && s.activeGeneration().isPresent()) {
          long ms = Duration.ofNanos(System.nanoTime() - start).toMillis();
          int active = s.activeGeneration().get();
          if (json) {
            // Not a protocol message: the CLI's own summary, in the protocol's key style.
            System.out.println(
                "{\"ok\":true,\"pid\":"
                    + pid
                    + ",\"ms\":"
                    + ms
                    + ",\"active_generation\":"
                    + active
                    + "}");
          } else {
            System.out.println(
                "upgraded in "
                    + ms
                    + " ms: supervisor pid "
                    + pid
                    + " unchanged, generation "
                    + active
                    + " still active");
          }
          return 0;
        }
      } catch (ControlClient.ControlException e) {
        // The new program is still starting.
      }
      Thread.sleep(50);
    }
    System.err.println(
        "baton: the upgraded supervisor did not answer within "
            + timeout.toMillis()
            + " ms; see its log");
    return Main.FAILED;
  }
}
