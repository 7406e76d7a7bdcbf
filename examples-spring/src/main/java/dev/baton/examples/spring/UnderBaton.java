package dev.baton.examples.spring;

import dev.baton.app.Baton;
import dev.baton.app.tomcat.TomcatListeners;
import java.time.Duration;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.availability.AvailabilityChangeEvent;
import org.springframework.boot.availability.ReadinessState;
import org.springframework.context.SmartLifecycle;
import org.springframework.context.event.EventListener;
import org.springframework.stereotype.Component;

/**
 * The app's side of baton, in Spring's lifecycle: it connects once Tomcat's connectors run, says
 * READY when Spring Boot says the app accepts traffic, and on SIGTERM (Boot's shutdown hook closes
 * the context) drains before Boot stops the web server.
 */
@Component
class UnderBaton implements SmartLifecycle {
  /** How long a drain may take before the app gives up on the connections left. */
  static final Duration DRAIN = Duration.ofSeconds(10);

  private final TomcatListeners listeners;
  private volatile @Nullable Baton baton;

  UnderBaton(TomcatListeners listeners) {
    this.listeners = listeners;
  }

  @Override
  public void start() {
    baton = Baton.connect(listeners);
  }

  /** After the application runners, when Boot would also answer a readiness probe with UP. */
  @EventListener
  void onReadiness(AvailabilityChangeEvent<ReadinessState> event) throws Exception {
    Baton current = baton;
    if (event.getState() == ReadinessState.ACCEPTING_TRAFFIC && current != null) {
      if (!current.startPaused()) {
        listeners.resume();
      }
      current.ready();
    }
  }

  /**
   * Stop accepting, answer kept-alive requests with {@code Connection: close}, close connections
   * idle for a second. Boot's own graceful shutdown cannot do this: it pauses the connectors, and a
   * paused Tomcat answers 503 on kept-alive connections.
   */
  @Override
  public void stop() {
    listeners.drain(DRAIN).join();
    Baton current = baton;
    if (current != null) {
      current.close();
    }
    baton = null;
  }

  @Override
  public boolean isRunning() {
    return baton != null;
  }

  /**
   * The last to start and the first to stop: after the web server's start (phase {@code
   * START_STOP_LIFECYCLE_PHASE}), and before its graceful shutdown and stop, which would close the
   * connections this drain is letting go.
   */
  @Override
  public int getPhase() {
    return SmartLifecycle.DEFAULT_PHASE;
  }
}
