package dev.baton.haproxy;

import dev.baton.config.Config;
import dev.baton.protocol.ControlClient;
import dev.baton.protocol.DeployEvent;
import dev.baton.protocol.Reply;
import dev.baton.protocol.Request;
import dev.baton.protocol.Status;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/** A supervisor on this machine, over its control socket: what `baton deploy` does. */
final class ControlSocketHost implements Host {
  private final String target;
  private final Path socket;
  private final Optional<Config> config;
  private final Duration timeout;

  ControlSocketHost(String target, Path socket, @Nullable Config config, Duration timeout) {
    this.target = target;
    this.socket = socket;
    this.config = Optional.ofNullable(config);
    this.timeout = timeout;
  }

  @Override
  public String target() {
    return target;
  }

  @Override
  public Optional<Config> config() {
    return config;
  }

  @Override
  public Status status() {
    return call(new Request.GetStatus(), "status", Reply.StatusReply.class, timeout, e -> {})
        .status();
  }

  @Override
  public Reply.Done deploy(
      List<String> argv, Map<String, String> env, Duration timeout, Consumer<DeployEvent> events) {
    return call(
        new Request.Deploy(Host.argv(argv), env, true),
        "deploy",
        Reply.Done.class,
        timeout,
        events);
  }

  @Override
  public Reply.Done rollback(String reason, Duration timeout, Consumer<DeployEvent> events) {
    return call(
        new Request.Rollback(Optional.of(reason), true),
        "rollback",
        Reply.Done.class,
        timeout,
        events);
  }

  private <T extends Reply> T call(
      Request request,
      String command,
      Class<T> expected,
      Duration limit,
      Consumer<DeployEvent> events) {
    Reply reply;
    try {
      reply =
          TimeLimit.call(
              limit,
              () -> new ControlClient(socket).call(request, events),
              () ->
                  new HostException(
                      "the supervisor at "
                          + target
                          + " did not finish '"
                          + command
                          + "' within "
                          + limit.toSeconds()
                          + " s; check its log (is it stuck, or stopped with SIGSTOP?)",
                      true));
    } catch (ControlClient.ControlException e) {
      throw new HostException(String.valueOf(e.getMessage()), true);
    }
    return HostException.expect(reply, expected, target, command);
  }

  @Override
  public String toString() {
    return target;
  }
}
