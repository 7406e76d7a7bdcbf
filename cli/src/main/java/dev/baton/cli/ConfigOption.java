package dev.baton.cli;

import dev.baton.config.Config;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** {@code -c/--config}, shared by every command that talks about one service. */
final class ConfigOption {
  @Option(
      names = {"-c", "--config"},
      paramLabel = "FILE",
      description = "the service's config (default: ${DEFAULT-VALUE})",
      defaultValue = "baton.toml")
  Path file;

  Config load() {
    return Config.load(file);
  }
}
