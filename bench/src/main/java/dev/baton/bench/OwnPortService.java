package dev.baton.bench;

import java.io.Writer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The sample binding its own port, started and replaced by bench itself, without a supervisor: what
 * the scenarios that replace it the ways baton exists to avoid have in common. They differ only in
 * how {@link #redeploy()} hands the port from one generation to the next.
 */
abstract sealed class OwnPortService implements ServiceUnderTest
    permits ReusePortService, StopStartService {
  static final Duration DRAIN = Duration.ofSeconds(15);

  private final Children children;
  private final Sample sample;
  private final Path dir;
  private final Writer log;
  private final InetSocketAddress address;
  private final List<String> options;
  private SampleGeneration current;

  /**
   * Starts generation 1 and waits until it listens; {@code portOptions}, after the app's own
   * options, tell each generation how to bind {@code port}.
   */
  OwnPortService(
      Children children,
      Sample sample,
      Path dir,
      Writer log,
      int port,
      List<String> appOptions,
      List<String> portOptions) {
    this.children = children;
    this.sample = sample;
    this.dir = dir;
    this.log = log;
    this.address = new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
    var own = new ArrayList<>(appOptions);
    own.addAll(portOptions);
    this.options = List.copyOf(own);
    this.current = spawn(1);
    current.awaitListening();
  }

  final SampleGeneration current() {
    return current;
  }

  /** Starts the generation after the current one, which stays current until {@link #switchTo}. */
  final SampleGeneration spawnNext() {
    return spawn(current.number + 1);
  }

  final void switchTo(SampleGeneration next) {
    current = next;
  }

  private SampleGeneration spawn(int number) {
    return SampleGeneration.start(children, sample, number, options, dir, log);
  }

  @Override
  public final InetSocketAddress address() {
    return address;
  }

  @Override
  public final void close() {
    current.drain(DRAIN).join();
  }
}
