package dev.baton.cli;

import dev.baton.protocol.Request;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(
    name = "deploy",
    description = {
      "Start a new generation, promote it once it is ready, and drain the old one.",
      "Exits 0 once the new generation is active; otherwise 1 with the reason, and the old"
          + " generation keeps serving.",
      "Example: baton deploy -- java -jar app-v2.jar"
    })
final class DeployCommand implements Callable<Integer> {
  @Mixin ConfigOption config;

  @Option(names = "--wait", description = "also wait until the old generation has drained")
  boolean waitForDrain;

  @Option(
      names = "--env",
      paramLabel = "KEY=VALUE",
      description = "set an environment variable for this generation only")
  Map<String, String> env = new LinkedHashMap<>();

  @Option(names = "--json", description = "print each step and the result as JSON lines")
  boolean json;

  @Parameters(
      paramLabel = "COMMAND",
      arity = "0..*",
      description = "run this argv instead of [app] command, for this generation only")
  List<String> command = new ArrayList<>();

  @Override
  public Integer call() {
    var argv = command.isEmpty() ? Optional.<List<String>>empty() : Optional.of(command);
    return Replies.send(config, new Request.Deploy(argv, env, waitForDrain), json);
  }
}
