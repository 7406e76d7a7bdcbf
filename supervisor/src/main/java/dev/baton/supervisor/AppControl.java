package dev.baton.supervisor;

import dev.baton.os.NativeException;
import dev.baton.os.Os;
import dev.baton.os.UnixConnection;
import dev.baton.os.UnixListener;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Optional;
import java.util.function.IntFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The socket behind BATON_CONTROL: where generations that use baton-app connect to report
 * readiness and to be paused and resumed. Like the operator's control socket it is mode 0600 and
 * checks the caller's uid; it also checks that the caller is a generation's main process, by pid.
 */
final class AppControl implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(AppControl.class);

  private final Os os;
  private final UnixListener listener;
  private final IntFunction<Optional<Generation>> generationByPid;

  private AppControl(Os os, UnixListener listener, IntFunction<Optional<Generation>> generationByPid) {
    this.os = os;
    this.listener = listener;
    this.generationByPid = generationByPid;
  }

  static AppControl start(Os os, Path path, IntFunction<Optional<Generation>> generationByPid) {
    UnixListener listener;
    try {
      listener = os.listenUnix(path, 0600);
    } catch (NativeException e) {
      throw new StartException("cannot create the app control socket " + path + ": " + e.getMessage());
    }
    var control = new AppControl(os, listener, generationByPid);
    Thread.ofPlatform().daemon().name("app-control-accept").start(control::acceptLoop);
    return control;
  }

  Path path() {
    return listener.path();
  }

  private void acceptLoop() {
    for (var c = listener.accept(); c.isPresent(); c = listener.accept()) {
      var connection = c.get();
      Thread.ofPlatform().daemon().name("app-control-" + connection.peer().pid()).start(() -> greet(connection));
    }
  }

  private void greet(UnixConnection connection) {
    var peer = connection.peer();
    try {
      if (peer.uid() != os.uid() && peer.uid() != 0) {
        refuse(connection, "uid " + peer.uid() + " is not the supervisor's (" + os.uid() + ")");
        return;
      }
      var generation = generationByPid.apply(peer.pid());
      if (generation.isEmpty()) {
        refuse(connection, "pid " + peer.pid() + " is no live generation's main process");
        return;
      }
      var reader = AppSession.reader(connection);
      var hello = reader.readLine();
      var expected = "HELLO " + generation.get().number;
      if (hello == null || !hello.equals(expected)) {
        refuse(connection, "expected '" + expected + "' first, got '" + hello + "'");
        return;
      }
      var session = new AppSession(generation.get(), connection, reader);
      generation.get().attach(session);
      // Said once attached: the app waits for it before it accepts, so that a probe can never find
      // it ready while the supervisor does not yet know it must be resumed at promotion.
      synchronized (connection) {
        connection.output().write("OK\n".getBytes(StandardCharsets.US_ASCII));
        connection.output().flush();
      }
      LOG.info("{} connected to BATON_CONTROL: it can be paused and parked", generation.get());
      session.serve();
    } catch (IOException | RuntimeException e) {
      connection.close();
    }
  }

  private static void refuse(UnixConnection connection, String why) throws IOException {
    LOG.warn("refused a BATON_CONTROL connection: {}", why);
    connection.output().write(("ERROR " + why + "\n").getBytes(StandardCharsets.US_ASCII));
    connection.close();
  }

  @Override
  public void close() {
    listener.close();
  }
}
