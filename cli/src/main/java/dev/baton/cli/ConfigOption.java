package dev.baton.cli;

import dev.baton.config.Config;
import dev.baton.config.ConfigException;
import java.nio.file.Path;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Option;

/**
 * Which service a command is about: {@code -c FILE}, {@code --service NAME}, {@code $BATON_CONFIG},
 * or ./baton.toml, in that order; shared by every command that talks about one service.
 */
final class ConfigOption {
  /** Where {@code --service NAME} finds NAME.toml, as baton@NAME.service does. */
  static final Path SERVICES = Path.of("/etc/baton");

  /**
   * Where {@code --service NAME} puts its control socket and journal: systemd's RuntimeDirectory.
   */
  static final Path RUNTIME = Path.of("/run/baton");

  @Option(
      names = {"-c", "--config"},
      paramLabel = "FILE",
      description = "the service's config (default: $BATON_CONFIG, else ./baton.toml)")
  @Nullable Path file;

  @Option(
      names = "--service",
      paramLabel = "NAME",
      description =
          "the service NAME, as baton@NAME.service runs it: its config is /etc/baton/NAME.toml,"
              + " and its control socket and journal are under /run/baton/NAME/ unless the file"
              + " names a [control] socket")
  @Nullable String service;

  Path file() {
    return file(System.getenv());
  }

  Path file(Map<String, String> env) {
    if (file != null && service != null) {
      throw new ConfigException(
          "-c " + file + " and --service " + service + " name two configs; give one of them");
    }
    if (file != null) {
      return file;
    }
    if (service != null) {
      return SERVICES.resolve(serviceName(service) + ".toml");
    }
    var fromEnv = env.get("BATON_CONFIG");
    return fromEnv == null || fromEnv.isEmpty() ? Path.of("baton.toml") : Path.of(fromEnv);
  }

  Config load() {
    var socket =
        service == null ? null : RUNTIME.resolve(serviceName(service)).resolve("baton.sock");
    return Config.load(file(), socket);
  }

  /** A name, not a path: it becomes a file name under /etc/baton and a directory under /run. */
  private static String serviceName(String name) {
    if (!name.matches("[A-Za-z0-9][A-Za-z0-9_.@-]*") || name.contains("..")) {
      throw new ConfigException(
          "--service "
              + name
              + ": a service name is letters, digits, '.', '_', '-' and '@', as in baton@NAME"
              + ".service");
    }
    return name;
  }
}
