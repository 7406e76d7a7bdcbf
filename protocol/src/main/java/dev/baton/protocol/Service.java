package dev.baton.protocol;

import java.util.Objects;
import java.util.Optional;

/**
 * What a load balancer needs of the service behind a remote supervisor, which a rollout on another
 * host cannot read from that host's baton.toml: sent beside the status by the remote API.
 *
 * @param readinessHttp the path of {@code [readiness] http}, for HAProxy's health check
 * @param agent the {@code [agent]} address, {@code host:port}, for HAProxy's agent-check
 */
public record Service(Optional<String> readinessHttp, Optional<String> agent) {
  public Service {
    Objects.requireNonNull(readinessHttp, "readinessHttp");
    Objects.requireNonNull(agent, "agent");
  }
}
