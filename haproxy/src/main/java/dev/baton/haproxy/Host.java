package dev.baton.haproxy;

import dev.baton.config.Config;
import dev.baton.protocol.DeployEvent;
import dev.baton.protocol.Reply;
import dev.baton.protocol.Service;
import dev.baton.protocol.Status;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * One server's baton supervisor, as a rollout reaches it: over its control socket on this machine,
 * or over its remote API from another. Either way it speaks the control protocol.
 */
public interface Host {

  /** The target as given: a config file, a control socket, or an API URL. */
  String target();

  /**
   * The supervisor's status.
   *
   * @throws HostException when it cannot be reached in time or refuses
   */
  Status status();

  /**
   * Deploys a new generation: {@code argv}, or the config's command when it is empty (no command is
   * empty), with {@code env} merged over the config's. Waits for the old generation to be drained
   * or parked, so that nothing the load balancer still holds points at it. Each step goes to {@code
   * events} as it happens.
   *
   * @return the new generation's number and pid
   * @throws HostException when the deploy failed (the supervisor's reason), or the supervisor could
   *     not be reached or did not finish within {@code timeout}
   */
  Reply.Done deploy(
      List<String> argv, Map<String, String> env, Duration timeout, Consumer<DeployEvent> events);

  /**
   * Makes the previous generation active again, as {@code baton rollback} does; waits like deploy.
   */
  Reply.Done rollback(String reason, Duration timeout, Consumer<DeployEvent> events);

  /** A deploy's argv on the wire: none stands for the supervisor's configured command. */
  static Optional<List<String>> argv(List<String> argv) {
    return argv.isEmpty() ? Optional.empty() : Optional.of(argv);
  }

  /** The config of a supervisor given by its config file; empty for a socket or a URL. */
  default Optional<Config> config() {
    return Optional.empty();
  }

  /**
   * What a remote supervisor says of its own HAProxy-facing settings (its readiness path and agent
   * address); empty for a local one, whose config says it.
   */
  default Optional<Service> service() {
    return Optional.empty();
  }

  /**
   * The supervisor at {@code target}: an {@code http://} or {@code https://} URL of its remote API
   * (with the bearer token in {@code tokenFile}), its baton.toml, or its control socket.
   *
   * @param timeout how long a status call may take
   * @throws IllegalArgumentException when the target is none of those, or a URL has no token
   */
  static Host of(String target, @Nullable Path tokenFile, Duration timeout) {
    if (target.startsWith("http://") || target.startsWith("https://")) {
      if (tokenFile == null) {
        throw new IllegalArgumentException(
            target
                + " is a remote API: pass --token-file with its bearer token (the file named by [remote] token_file on that host)");
      }
      var file = tokenFile;
      String token;
      try {
        token = Files.readString(file).strip();
      } catch (IOException e) {
        throw new IllegalArgumentException(
            "cannot read the token file " + file + ": " + e.getMessage());
      }
      if (token.isEmpty()) {
        throw new IllegalArgumentException("the token file " + file + " is empty");
      }
      return new RemoteApiHost(target, URI.create(target.replaceAll("/+$", "")), token, timeout);
    }
    var path = Path.of(target);
    if (Files.isDirectory(path)) {
      throw new IllegalArgumentException(
          target
              + " is a directory; give a supervisor's baton.toml, its control socket, or its API URL");
    }
    if (target.endsWith(".toml") || Files.isRegularFile(path)) {
      var config = Config.load(path);
      return new ControlSocketHost(target, config.control().socket(), config, timeout);
    }
    return new ControlSocketHost(target, path, null, timeout);
  }

  /** The address of HAProxy's agent-check for this host, from its config or its remote status. */
  default Optional<InetSocketAddress> agent() {
    return config().flatMap(Config::agent).map(Config.Agent::address);
  }
}
