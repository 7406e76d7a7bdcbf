package dev.baton.supervisor;

import dev.baton.config.Config;
import dev.baton.config.ConfigException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;

/**
 * A deploy reads the config file again, as nginx and HAProxy do on a reload, so that {@code
 * systemctl reload} deploys what the file says now. The file is checked whole first: one with an
 * error refuses the deploy, and nothing changes. What a deploy can take ([app], [[listen]],
 * [readiness], [drain], [warmup], [bake], [park], [restart]) takes effect with it (a listener
 * through {@link ListenerSet#apply}); what the supervisor opens once per process ([control],
 * [remote], [agent], [logs]) must be as it was.
 */
final class ConfigReload {
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
          new Table("[restart]", Config::restart));

  private static final List<Table> FIXED =
      List.of(
          new Table("[control]", Config::control),
          new Table("[remote]", Config::remote),
          new Table("[agent]", Config::agent),
          new Table("[logs]", Config::logs));

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
              + " changed, which a deploy cannot take: the supervisor binds and opens "
              + (fixed.size() == 1 ? "it" : "them")
              + " once. The deploy was refused and nothing changed; undo the change and deploy"
              + " again, or restart the service to take it");
    }
    return fresh;
  }

  /** The tables that differ, for the history: "[app], [drain]", or "" when none does. */
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
