package dev.baton.examples;

import dev.baton.app.Baton;
import java.io.IOException;
import java.nio.channels.Channel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Consumer;

/**
 * The inetd style under baton ({@code [[listen]] pass = "fd0"}): the JVM finds its listener at fd 0
 * through {@link System#inheritedChannel()}, with no JVM flag and no library, as Jetty's and
 * Tomcat's inherited-channel options do. {@code java -cp ...
 * dev.baton.examples.InheritedChannelExample [port]}; with nothing at fd 0 it binds the port
 * itself.
 *
 * <p>baton-app is here only for READY, since a JVM has no other way to say it: the probe listener
 * of {@code [readiness] http} comes as {@code LISTEN_FDS} at fd 3, which no public JDK API can
 * take, and {@code NOTIFY_SOCKET} is a Unix datagram socket, which java.nio cannot send on.
 * Speaking BATON_CONTROL means obeying its PAUSE and RESUME too, so the accept loop can pause.
 */
public final class InheritedChannelExample {
  private InheritedChannelExample() {}

  public static void main(String[] args) throws Exception {
    ServerSocketChannel listener = listener(args);
    Set<NioHttpConnection> open = ConcurrentHashMap.newKeySet();
    ExecutorService threads = Executors.newCachedThreadPool();
    AcceptLoop accept =
        AcceptLoop.start(
            listener,
            channel -> {
              NioHttpConnection connection = new NioHttpConnection(channel, open);
              open.add(connection);
              threads.execute(connection);
            });
    UnderBaton.serve(
        accept,
        String.valueOf(listener.getLocalAddress()).replaceFirst("^/", ""),
        () -> {
          // The channel stays open: closing the inherited one would point fds 0, 1 and 2 at
          // /dev/null, and the drain's last lines would never reach baton. It goes at the exit.
          accept.stop();
          NioHttpConnection.drain(open);
        });
  }

  private static ServerSocketChannel listener(String[] args) throws IOException {
    Channel inherited = System.inheritedChannel();
    if (inherited instanceof ServerSocketChannel listener) {
      Reply.log("took the listener at fd 0 through System.inheritedChannel()");
      return listener;
    }
    if (inherited != null) {
      throw new IllegalStateException(
          "fd 0 is " + inherited + ", not a listening socket; use [[listen]] pass = \"fd0\"");
    }
    ServerSocketChannel bound = ServerSocketChannel.open();
    bound.bind(Reply.fallback(args), 1024);
    Reply.log("no listener at fd 0; bound " + bound.getLocalAddress() + " itself");
    return bound;
  }

  /**
   * Accepts on one thread through a selector, which lets PAUSE stop it without closing the channel:
   * a thread blocked in {@code accept()} lets go only when the channel is closed, and the inherited
   * channel, once closed, cannot be had again for a RESUME.
   *
   * <p>The listener becomes non-blocking, a flag of the open file that every generation shares;
   * Java's blocking {@code accept()} copes with that (see baton-app's NioAcceptor).
   */
  static final class AcceptLoop implements Baton.Acceptor {
    private final ServerSocketChannel listener;
    private final Selector selector;
    private final Consumer<SocketChannel> serve;

    // Guarded by this: the loop accepts only while holding it, having just read both.
    private boolean paused = true;
    private boolean stopped;

    private AcceptLoop(
        ServerSocketChannel listener, Selector selector, Consumer<SocketChannel> serve) {
      this.listener = listener;
      this.selector = selector;
      this.serve = serve;
    }

    /** Starts paused, as baton starts a generation that speaks BATON_CONTROL. */
    static AcceptLoop start(ServerSocketChannel listener, Consumer<SocketChannel> serve)
        throws IOException {
      Selector selector = Selector.open();
      listener.configureBlocking(false);
      listener.register(selector, SelectionKey.OP_ACCEPT);
      AcceptLoop loop = new AcceptLoop(listener, selector, serve);
      // Not a daemon: like any server's acceptor it keeps the JVM alive.
      new Thread(loop::run, "accept fd 0").start();
      return loop;
    }

    /** Returns once not one more connection will be accepted until {@link #resume()}. */
    @Override
    public synchronized void pause() {
      paused = true;
    }

    @Override
    public synchronized void resume() {
      paused = false;
      notifyAll();
    }

    /**
     * Stops accepting for good. Returns once not one more connection will be accepted, and every
     * one accepted before is in the drain's set.
     */
    synchronized void stop() {
      stopped = true;
      notifyAll();
      selector.wakeup();
    }

    private void run() {
      try {
        while (true) {
          selector.select();
          selector.selectedKeys().clear();
          synchronized (this) {
            while (paused && !stopped) {
              wait();
            }
            if (stopped) {
              return;
            }
            // Everything queued, as the shared queue allows: another generation may take some.
            for (SocketChannel channel = listener.accept();
                channel != null;
                channel = listener.accept()) {
              serve.accept(channel);
            }
          }
        }
      } catch (IOException | RuntimeException e) {
        // Out of fds, say. A server that no longer accepts must not stay alive and look healthy:
        // exit through the drain, and baton restarts the generation if it was the active one.
        Reply.log("accepting on fd 0 failed: " + e + "; exiting");
        System.exit(1);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
