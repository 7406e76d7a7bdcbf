package dev.baton.examples;

import dev.baton.app.Listeners;
import dev.baton.app.NioAcceptor;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A plain-NIO app under baton, on baton-app's own {@link NioAcceptor} and nothing else: {@code java
 * -cp ... dev.baton.examples.NioExample [port]}.
 */
public final class NioExample {
  private NioExample() {}

  public static void main(String[] args) throws Exception {
    Listeners listeners = Listeners.adoptOr(Reply.fallback(args));
    Set<NioHttpConnection> open = ConcurrentHashMap.newKeySet();
    // A thread per connection, as blocking I/O on Java 17 has it.
    ExecutorService threads = Executors.newCachedThreadPool();
    NioAcceptor acceptor =
        NioAcceptor.start(
            listeners.all(),
            (listener, channel) -> {
              NioHttpConnection connection = new NioHttpConnection(channel, open);
              open.add(connection);
              threads.execute(connection);
            });
    UnderBaton.serve(
        acceptor,
        listeners,
        () -> {
          acceptor.close();
          NioHttpConnection.drain(open);
        });
  }
}
