package dev.baton.cli;

import dev.baton.config.Durations;
import java.time.Duration;
import picocli.CommandLine;

/**
 * Every {@link Duration} option, read as baton.toml and rollout files read durations, so that
 * {@code --drain-timeout 1d} works wherever {@code drain = "1d"} does. Without it picocli would
 * take ISO-8601 ("PT1M"), which nothing else in baton writes.
 */
final class DurationConverter implements CommandLine.ITypeConverter<Duration> {
  @Override
  public Duration convert(String value) {
    try {
      return Durations.parse(value);
    } catch (IllegalArgumentException e) {
      // picocli turns this into its one-line usage error, naming the option.
      throw new CommandLine.TypeConversionException(e.getMessage());
    }
  }
}
