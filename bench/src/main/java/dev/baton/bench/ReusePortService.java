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
 * Each generation with its own SO_REUSEPORT socket on the same port: the new one is started, and
 * once it listens the old one is sent SIGTERM. Every such socket has its own accept queue, and
 * closing it resets what is queued there, unless {@code net.ipv4.tcp_migrate_req} moves it.
 *
 * <p>Each generation binds its socket itself ({@code --reuse-port}) once it is up, as apps that
 * replace themselves this way do, so no connection waits in the queue of one still starting.
 */
final class ReusePortService implements ServiceUnderTest {
  private static final Duration DRAIN = Duration.ofSeconds(15);

  private final Children children;
  private final Sample sample;
  private final Path dir;
  private final Writer log;
  private final InetSocketAddress address;
  private final List<String> options;
  private SampleGeneration current;

  private ReusePortService(
      Children children, Sample sample, Path dir, Writer log, int port, List<String> options) {
    this.children = children;
    this.sample = sample;
    this.dir = dir;
    this.log = log;
    this.address = new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
    var own = new java.util.ArrayList<>(options);
    own.addAll(List.of("--port=" + port, "--reuse-port"));
    this.options = List.copyOf(own);
  }

  static ReusePortService start(
      Children children, Sample sample, Path dir, Writer log, int port, List<String> options) {
    var service = new ReusePortService(children, sample, dir, log, port, options);
    service.current = service.spawn(1);
    service.current.awaitListening();
    return service;
  }

  private SampleGeneration spawn(int number) {
    return SampleGeneration.start(children, sample, number, options, dir, log);
  }

  @Override
  public InetSocketAddress address() {
    return address;
  }

  @Override
  public CompletableFuture<Reload> redeploy() {
    long asked = System.nanoTime();
    var old = current;
    var next = spawn(old.number + 1);
    long listening;
    try {
      listening = next.awaitListening();
    } catch (IllegalStateException e) {
      next.child.end(Duration.ZERO);
      return CompletableFuture.completedFuture(
          new Reload(
              next.number,
              asked,
              System.nanoTime(),
              OptionalDouble.of((next.spawnedNanos - asked) / 1e6),
              OptionalDouble.empty(),
              OptionalDouble.empty(),
              OptionalDouble.empty(),
              Optional.of(e.getMessage())));
    }
    current = next;
    long switched = System.nanoTime();
    return old.drain(DRAIN)
        .thenApply(
            drained ->
                new Reload(
                    next.number,
                    asked,
                    switched,
                    OptionalDouble.of((next.spawnedNanos - asked) / 1e6),
                    OptionalDouble.of((listening - asked) / 1e6),
                    OptionalDouble.empty(),
                    OptionalDouble.of((drained - asked) / 1e6),
                    Optional.empty()));
  }

  @Override
  public void close() {
    if (current != null) {
      current.drain(DRAIN).join();
    }
  }
}
