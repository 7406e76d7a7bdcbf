package dev.baton.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import tools.jackson.databind.PropertyNamingStrategies;
import tools.jackson.databind.SerializationFeature;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.module.SimpleModule;
import tools.jackson.databind.ser.std.ToStringSerializer;

@Command(
    name = "check",
    description = {
      "Check a config without touching anything (no socket is bound, no process started) and print the"
          + " settings it gives, defaults included, as `nginx -t` does.",
      "Exits 0 when it is valid; otherwise 2, with the file, line and key of the error."
    })
final class CheckCommand implements Callable<Integer> {
  /** snake_case, as every JSON document baton writes; paths as paths, not file: URIs. */
  private static final JsonMapper JSON =
      JsonMapper.builder()
          .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
          .addModule(new SimpleModule().addSerializer(Path.class, ToStringSerializer.instance))
          .build();

  @Mixin ConfigOption config;

  @Option(names = "--json", description = "print the effective settings as one line of JSON")
  boolean json;

  @Override
  public Integer call() {
    var loaded = config.load();
    if (json) {
      System.out.println(JSON.writeValueAsString(loaded));
    } else {
      System.out.println(config.file() + ": ok");
      System.out.println(
          JSON.writer(SerializationFeature.INDENT_OUTPUT).writeValueAsString(loaded));
    }
    return 0;
  }
}
