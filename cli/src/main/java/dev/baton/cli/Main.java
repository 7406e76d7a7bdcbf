package dev.baton.cli;

import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code baton}: zero-downtime deploys and instant rollback for Linux web servers. */
@Command(
    name = "baton",
    mixinStandardHelpOptions = true,
    // Every command takes -h/--help (and -V/--version), as an operator expects of each.
    scope = CommandLine.ScopeType.INHERIT,
    versionProvider = Main.Version.class,
    description = "Zero-downtime deploys and instant rollback for Linux web servers.",
    subcommands = {
      RunCommand.class,
      DeployCommand.class,
      RollbackCommand.class,
      StatusCommand.class,
      StopCommand.class,
      CheckCommand.class,
      BenchCommand.class,
      DemoCommand.class,
      UpgradeCommand.class,
      LogsCommand.class,
      RolloutCommand.class,
      FleetCommand.class,
      HaproxyConfigCommand.class,
      CommandLine.HelpCommand.class
    },
    footerHeading = "%nExit status:%n",
    footer = {
      "  0  done",
      "  1  the operation failed (e.g. the new generation never became ready); the reason is printed",
      "  2  bad usage or a bad config",
      "  3  the supervisor could not be reached"
    })
public final class Main {
  static final int FAILED = 1;
  static final int USAGE = 2;
  static final int UNREACHABLE = 3;

  private Main() {}

  public static void main(String[] args) {
    int code = run(args);
    if (code != RunCommand.KEEP_RUNNING) {
      System.exit(code);
    }
  }

  /** Runs one command line and returns its exit status, for tests and for main. */
  public static int run(String... args) {
    if (args.length == 1 && (args[0].equals("--version") || args[0].equals("-V"))) {
      // What picocli prints for it, without first building its model of every command.
      System.out.println(new Version().getVersion()[0]);
      return 0;
    }
    var plain = PlainArgs.parse(args);
    if (plain.isPresent()) {
      return call(plain.get().toCommand());
    }
    return commandLine()
        .setExecutionExceptionHandler(
            (e, cmd, parsed) -> {
              cmd.getErr().println("baton: " + e.getMessage());
              return e instanceof dev.baton.config.ConfigException ? USAGE : FAILED;
            })
        .execute(args);
  }

  /** Every command, with the converters their options need; for run and for tests. */
  static CommandLine commandLine() {
    return new CommandLine(new Main()).registerConverter(Duration.class, new DurationConverter());
  }

  /** A command as picocli runs it, with its exception handler's answers. */
  private static int call(Callable<Integer> command) {
    try {
      return command.call();
    } catch (Exception e) {
      System.err.println("baton: " + e.getMessage());
      return e instanceof dev.baton.config.ConfigException ? USAGE : FAILED;
    }
  }

  /**
   * The launcher says which: a release's VERSION file, or the checkout's pom version and commit.
   */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      var v = System.getProperty("baton.version", "dev");
      return new String[] {"baton " + v + " (Java " + Runtime.version() + ")"};
    }
  }
}
