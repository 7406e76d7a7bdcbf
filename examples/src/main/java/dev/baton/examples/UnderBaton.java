package dev.baton.examples;

import dev.baton.app.Baton;
import dev.baton.app.Listeners;

/**
 * What every example does once its server is up: the same steps under baton, whatever the server.
 */
final class UnderBaton {
  private UnderBaton() {}

  /** The example's own drain: stop accepting, finish what was accepted, stop the server. */
  interface Drain {
    void run() throws Exception;
  }

  static Baton serve(Baton.Acceptor acceptor, Listeners listeners, Drain drain) throws Exception {
    return serve(acceptor, listeners.toString(), drain);
  }

  /**
   * Connects to baton, drains on SIGTERM and then exits 0, resumes the acceptor unless baton starts
   * it paused, and says ready. The Baton is the app's, for {@link Baton#onDrainNow} and {@link
   * Baton#drainTimeout}.
   */
  static Baton serve(Baton.Acceptor acceptor, String listening, Drain drain) throws Exception {
    Baton baton = Baton.connect(acceptor);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  try {
                    drain.run();
                  } catch (Exception e) {
                    System.err.println("draining " + acceptor + " failed: " + e);
                  }
                  baton.close();
                  Reply.log("drained; exiting");
                  // 0 rather than the 143 of a SIGTERM'd JVM: the drain was asked for and done.
                  Runtime.getRuntime().halt(0);
                },
                "drain"));
    if (!baton.startPaused()) {
      acceptor.resume();
    }
    baton.ready();
    Reply.log("serving on " + listening);
    return baton;
  }
}
