package dev.baton.supervisor;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A deploy as asked: the command and environment overrides for this one generation. An empty
 * command means the config's; {@code env} is merged over the config's.
 */
public record DeployRequest(Optional<List<String>> command, Map<String, String> env) {
  public static final DeployRequest FROM_CONFIG = new DeployRequest(Optional.empty(), Map.of());

  public DeployRequest {
    command = command.map(List::copyOf);
    env = Map.copyOf(env);
    if (command.isPresent() && command.get().isEmpty()) {
      throw new IllegalArgumentException("a deploy command must name a program");
    }
  }
}
