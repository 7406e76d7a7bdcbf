package dev.baton.bench;

import java.net.InetSocketAddress;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * The app, run the way one scenario replaces it. {@link #redeploy()} returns once traffic has moved
 * to the new generation (or the attempt failed); its future completes once the old generation has
 * drained too, so that back-to-back replacements overlap the way real ones do.
 */
interface ServiceUnderTest extends AutoCloseable {

  /** Where the load goes: the same address for every generation. */
  InetSocketAddress address();

  /** Replaces the running generation by a new one. */
  CompletableFuture<Reload> redeploy();

  /**
   * The process that stays through the replacements and costs something while doing so: baton's
   * supervisor.
   */
  default Optional<Integer> supervisorPid() {
    return Optional.empty();
  }

  /** Ends every process of this service. */
  @Override
  void close();
}
