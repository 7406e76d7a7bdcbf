package dev.baton.bench;

import dev.baton.os.ListenAddress;
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
 * <p>Bench binds each generation's socket and hands it over as LISTEN_FDS, then closes its own
 * copy, so the generation holds the only reference, as if it had bound it. The socket joins the
 * port's group at spawn rather than once the JVM is up, so a few connections wait in a starting
 * generation's queue: latency a self-binding app would not add.
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

  private ReusePortService(Children children, Sample sample, Path dir, Writer log, int port, List<String> options) {
    this.children = children;
    this.sample = sample;
    this.dir = dir;
    this.log = log;
    this.address = new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
    this.options = List.copyOf(options);
  }

  static ReusePortService start(Children children, Sample sample, Path dir, Writer log, int port, List<String> options) {
    var service = new ReusePortService(children, sample, dir, log, port, options);
    service.current = service.spawn(1);
    service.current.awaitListening();
    return service;
  }

  private SampleGeneration spawn(int number) {
    var os = children.os();
    var fd = os.listen(new ListenAddress.Tcp(address, /* reusePort= */ true), 4096);
    try {
      return SampleGeneration.start(children, sample, number, options, List.of(fd), dir, log);
    } finally {
      os.close(fd);
    }
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
      return CompletableFuture.completedFuture(new Reload(next.number, asked, System.nanoTime(),
          OptionalDouble.of((next.spawnedNanos - asked) / 1e6), OptionalDouble.empty(), OptionalDouble.empty(),
          OptionalDouble.empty(), Optional.of(e.getMessage())));
    }
    current = next;
    long switched = System.nanoTime();
    return old.drain(DRAIN).thenApply(drained -> new Reload(next.number, asked, switched,
        OptionalDouble.of((next.spawnedNanos - asked) / 1e6), OptionalDouble.of((listening - asked) / 1e6),
        OptionalDouble.empty(), OptionalDouble.of((drained - asked) / 1e6), Optional.empty()));
  }

  @Override
  public void close() {
    if (current != null) {
      current.drain(DRAIN).join();
    }
  }
}
