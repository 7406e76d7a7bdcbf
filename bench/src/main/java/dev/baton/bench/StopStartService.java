package dev.baton.bench;

import java.io.Writer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.concurrent.CompletableFuture;

/**
 * The sample binding its own port, replaced the plain way: SIGTERM, wait for it to drain and exit,
 * then start the new one, which binds the port again. While no process holds the port, connections
 * are refused. Also the baseline, {@code none}, which starts it once and never replaces it.
 */
final class StopStartService implements ServiceUnderTest {
  private static final Duration DRAIN = Duration.ofSeconds(15);

  private final Children children;
  private final Sample sample;
  private final Path dir;
  private final Writer log;
  private final InetSocketAddress address;
  private final List<String> options;
  private SampleGeneration current;

  private StopStartService(
      Children children, Sample sample, Path dir, Writer log, int port, List<String> appOptions) {
    this.children = children;
    this.sample = sample;
    this.dir = dir;
    this.log = log;
    this.address = new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
    var own = new java.util.ArrayList<>(appOptions);
    own.add("--port=" + port);
    this.options = List.copyOf(own);
  }

  static StopStartService start(
      Children children, Sample sample, Path dir, Writer log, int port, List<String> appOptions) {
    var service = new StopStartService(children, sample, dir, log, port, appOptions);
    service.current = SampleGeneration.start(children, sample, 1, service.options, dir, log);
    service.current.awaitListening();
    return service;
  }

  @Override
  public InetSocketAddress address() {
    return address;
  }

  @Override
  public CompletableFuture<Reload> redeploy() {
    long asked = System.nanoTime();
    var old = current;
    long drained = old.drain(DRAIN).join();
    var next = SampleGeneration.start(children, sample, old.number + 1, options, dir, log);
    current = next;
    Optional<String> failure = Optional.empty();
    OptionalDouble ready = OptionalDouble.empty();
    try {
      ready = OptionalDouble.of((next.awaitListening() - asked) / 1e6);
    } catch (IllegalStateException e) {
      failure = Optional.of(e.getMessage());
    }
    return CompletableFuture.completedFuture(
        new Reload(
            next.number,
            asked,
            asked,
            OptionalDouble.of((next.spawnedNanos - asked) / 1e6),
            ready,
            OptionalDouble.empty(),
            OptionalDouble.of((drained - asked) / 1e6),
            failure));
  }

  @Override
  public void close() {
    if (current != null) {
      current.drain(DRAIN).join();
    }
  }
}
