package dev.baton.supervisor;

import dev.baton.config.Config;
import dev.baton.config.ConfigException;
import dev.baton.protocol.Request;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A deploy reads the config file again, as nginx and HAProxy do on a reload, so that {@code
 * systemctl reload} deploys what the file says now. The file is checked whole first: one with an
 * error refuses the deploy, and nothing changes. What a deploy can take ([app], [[listen]],
 * [readiness], [drain], [warmup], [bake], [park], [restart], [logs]) takes effect with it (a
 * listener through {@link ListenerSet#apply}, a log file through {@link LogFiles#use}); what the
 * supervisor sets up once, at its start ([control], [remote], [agent], [metrics], [logs] json),
 * must be as it was.
 */
final class ConfigReload {
  private static final Logger LOG = LoggerFactory.getLogger(ConfigReload.class);

  /** The tables a deploy takes, with how to read each from a config. */
  private static final List<Table> TAKEN =
      List.of(
          new Table("[app]", Config::app),
          new Table("[[listen]]", Config::listeners),
          new Table("[readiness]", Config::readiness),
          new Table("[drain]", Config::drain),
          new Table("[warmup]", Config::warmup),
          new Table("[bake]", Config::bake),
          new Table("[park]", Config::park),
          new Table("[restart]", Config::restart),
          new Table("[logs]", Config::logs));

  private static final List<Table> FIXED =
      List.of(
          new Table("[control]", Config::control),
          new Table("[remote]", Config::remote),
          new Table("[agent]", Config::agent),
          new Table("[metrics]", Config::metrics),
          new Table("[logs] json", c -> c.logs().json()));

  private record Table(String name, Function<Config, Object> value) {
    boolean changed(Config before, Config after) {
      return !Objects.equals(value.apply(before), value.apply(after));
    }
  }

  private ConfigReload() {}

  /**
   * The file {@code running} was read from, read and checked again.
   *
   * @throws DeployException naming the file's error, or the tables that cannot change at a deploy
   */
  static Config reread(Config running) {
    Config fresh;
    try {
      // The socket as the running config has it: the --service default, when the file names none.
      fresh = Config.load(running.file(), running.control().socket());
    } catch (ConfigException e) {
      throw new DeployException(
          e.getMessage()
              + "; the deploy was refused and nothing changed: fix the file and deploy again");
    }
    var fixed = FIXED.stream().filter(t -> t.changed(running, fresh)).map(Table::name).toList();
    if (!fixed.isEmpty()) {
      throw new DeployException(
          running.file()
              + ": "
              + String.join(", ", fixed)
              + " changed, which a deploy cannot take: the supervisor sets "
              + (fixed.size() == 1 ? "it" : "them")
              + " up once, at its start. The deploy was refused and nothing changed; undo the"
              + " change and deploy again, or restart the service to take it");
    }
    return fresh;
  }

  /**
   * Makes what {@code with} changes ready for the deploy about to run under it: its listeners bound
   * or retired. Returns the history's reason for that deploy, "config: [app], [drain]", or "" when
   * nothing changed.
   *
   * @throws DeployException when a new listener cannot be bound; nothing changed then
   */
  static String take(Supervisor supervisor, Config with) {
    var running = supervisor.config();
    var changed = changes(running, with);
    if (changed.isEmpty()) {
      return "";
    }
    boolean logs = !with.logs().equals(running.logs());
    Optional<LogFile> logFile = Optional.empty();
    if (logs) {
      try {
        logFile = LogFiles.opened(with.logs());
      } catch (StartException e) {
        throw new DeployException(e.getMessage() + "; the deploy was refused and nothing changed");
      }
    }
    if (!with.listeners().equals(running.listeners())) {
      supervisor.listeners().apply(with);
      supervisor.listeners().closeUnheld(supervisor.generations().live());
      supervisor.journal();
    }
    if (logs) {
      LogFiles.use(with.logs(), logFile);
    }
    LOG.info("{}: {} changed, taken by this deploy", with.file(), changed);
    return "config: " + changed;
  }

  /** What a deploy request starts: its argv, or the config's command, its env over the config's. */
  static Config.App app(Config config, Request.Deploy request) {
    var base = config.app();
    var env = new HashMap<>(base.env());
    env.putAll(request.env());
    return new Config.App(request.argv().orElse(base.command()), env, base.workdir());
  }

  /** The tables that differ: "[app], [drain]", or "" when none does. */
  static String changes(Config before, Config after) {
    var changed = new ArrayList<String>();
    for (var table : TAKEN) {
      if (table.changed(before, after)) {
        changed.add(table.name());
      }
    }
    return String.join(", ", changed);
  }
}
