package dev.baton.cli;

import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;

/**
 * The command lines an operator and systemd type most, read without picocli: {@code run}, {@code
 * status}, {@code stop}, {@code deploy} and {@code rollback}, with any of {@code -c FILE}, {@code
 * --config=FILE}, {@code --service NAME}, {@code --service=NAME}, {@code --json} and (deploy and
 * rollback) {@code --wait}. Picocli builds its model of every command by reflection over their
 * annotations on each start: about 200 ms of a command's 0.7 s, and, in the supervisor, which lives
 * for months, 267 classes and 3 MiB of RSS. Anything else, a typo, a repeated flag, {@code --help}
 * or a deploy's argv included, goes to picocli, which explains it.
 */
record PlainArgs(String command, ConfigOption config, boolean json, boolean await) {

  static Optional<PlainArgs> parse(String... args) {
    if (args.length == 0) {
      return Optional.empty();
    }
    var command = args[0];
    boolean takesJson;
    boolean takesWait;
    switch (command) {
      case "run" -> {
        takesJson = false;
        takesWait = false;
      }
      case "status", "stop" -> {
        takesJson = true;
        takesWait = false;
      }
      case "deploy", "rollback" -> {
        takesJson = true;
        takesWait = true;
      }
      default -> {
        return Optional.empty();
      }
    }
    var config = new ConfigOption();
    boolean json = false;
    boolean await = false;
    for (int i = 1; i < args.length; i++) {
      var arg = args[i];
      if (takesJson && !json && arg.equals("--json")) {
        json = true;
        continue;
      }
      if (takesWait && !await && arg.equals("--wait")) {
        await = true;
        continue;
      }
      String flag;
      String value;
      int eq = arg.indexOf('=');
      if (arg.startsWith("--") && eq > 0) {
        flag = arg.substring(0, eq);
        value = arg.substring(eq + 1);
      } else if (i + 1 < args.length) {
        flag = arg;
        value = args[++i];
      } else {
        return Optional.empty();
      }
      if (value.isEmpty() || value.startsWith("-")) {
        return Optional.empty();
      }
      switch (flag) {
        case "-c", "--config" -> {
          if (config.file != null) {
            return Optional.empty();
          }
          config.file = Path.of(value);
        }
        case "--service" -> {
          if (config.service != null) {
            return Optional.empty();
          }
          config.service = value;
        }
        default -> {
          return Optional.empty();
        }
      }
    }
    return Optional.of(new PlainArgs(command, config, json, await));
  }

  /** The command as picocli would have set it up. */
  Callable<Integer> toCommand() {
    return switch (command) {
      case "run" -> {
        var run = new RunCommand();
        run.config = config;
        yield run;
      }
      case "status" -> {
        var status = new StatusCommand();
        status.config = config;
        status.json = json;
        yield status;
      }
      case "stop" -> {
        var stop = new StopCommand();
        stop.config = config;
        stop.json = json;
        yield stop;
      }
      case "deploy" -> {
        var deploy = new DeployCommand();
        deploy.config = config;
        deploy.json = json;
        deploy.waitForDrain = await;
        yield deploy;
      }
      case "rollback" -> {
        var rollback = new RollbackCommand();
        rollback.config = config;
        rollback.json = json;
        rollback.waitForDrain = await;
        yield rollback;
      }
      default -> throw new IllegalStateException("parse() took " + command);
    };
  }
}
