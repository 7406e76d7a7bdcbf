package dev.baton.cli;

import dev.baton.protocol.Request;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
    name = "rollback",
    description = {
      "Make the previous generation active again.",
      "A parked generation (alive, warm, not accepting) is resumed within milliseconds; with none"
          + " parked, the previous generation's command is started again through the full readiness gate.",
      "The generation rolled back from is paused and drained. Rollbacks wait for each other."
    })
final class RollbackCommand implements Callable<Integer> {
  @Mixin ConfigOption config;

  @Option(
      names = "--wait",
      description = "also wait until the generation rolled back from has drained")
  boolean waitForDrain;

  @Option(names = "--reason", paramLabel = "TEXT", description = "why, for status and the log")
  String reason = "requested with baton rollback";

  @Option(names = "--json", description = "print each step and the result as JSON lines")
  boolean json;

  @Override
  public Integer call() {
    return Replies.send(config, new Request.Rollback(Optional.of(reason), waitForDrain), json);
  }
}
