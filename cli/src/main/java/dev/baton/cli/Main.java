package dev.baton.cli;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
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
    var supervisorConfig = plainRun(args);
    if (supervisorConfig.isPresent()) {
      return runSupervisor(supervisorConfig.get());
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

  /**
   * The config of {@code baton run}, alone or with one of {@code -c FILE}, {@code --config=FILE},
   * {@code --service NAME} or {@code --service=NAME}: the supervisor, which lives for months,
   * starts without picocli, whose model of every command, built by reflection over their
   * annotations, stays loaded for as long (267 classes, 3 MiB of RSS). Anything else, a typo or
   * {@code run --help} included, goes to picocli, which explains it.
   */
  static Optional<ConfigOption> plainRun(String... args) {
    if (args.length == 0 || !args[0].equals("run") || args.length > 3) {
      return Optional.empty();
    }
    var option = new ConfigOption();
    if (args.length == 1) {
      return Optional.of(option);
    }
    String flag;
    String value;
    if (args.length == 3) {
      flag = args[1];
      value = args[2];
    } else {
      int eq = args[1].indexOf('=');
      if (eq < 0) {
        return Optional.empty();
      }
      flag = args[1].substring(0, eq);
      value = args[1].substring(eq + 1);
    }
    if (value.isEmpty() || value.startsWith("-")) {
      return Optional.empty();
    }
    switch (flag) {
      case "-c", "--config" -> option.file = Path.of(value);
      case "--service" -> option.service = value;
      default -> {
        return Optional.empty();
      }
    }
    return Optional.of(option);
  }

  /** {@code baton run} as picocli would run it, with its exception handler's answers. */
  private static int runSupervisor(ConfigOption config) {
    var command = new RunCommand();
    command.config = config;
    try {
      return command.call();
    } catch (RuntimeException e) {
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
