package dev.baton.cli;

import dev.baton.protocol.Request;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
    name = "stop",
    description = "Drain every generation, close the listeners and stop the supervisor.")
final class StopCommand implements Callable<Integer> {
  @Mixin ConfigOption config;

  @Option(names = "--json", description = "print the reply as JSON")
  boolean json;

  @Override
  public Integer call() {
    int code = Replies.send(config, new Request.Stop(), json);
    if (code == 0 && !json) {
      System.out.println("stopped");
    }
    return code;
  }
}
