package dev.baton.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The plain-NIO adapter on real loopback sockets: what it accepts, paused and not. */
class NioAcceptorTest {

  private final BlockingQueue<String> accepted = new LinkedBlockingQueue<>();
  private final List<AutoCloseable> toClose = new ArrayList<>();

  @AfterEach
  void closeEverything() throws Exception {
    for (int i = toClose.size() - 1; i >= 0; i--) {
      toClose.get(i).close();
    }
  }

  @Test
  void startsPausedOnPublicListenersButAcceptsOnTheProbeAtOnce() throws Exception {
    Listener http = listener("http");
    Listener probe = listener("baton-probe");
    start(http, probe);

    connect(http);
    connect(probe);

    assertThat(accepted.poll(5, TimeUnit.SECONDS)).isEqualTo("baton-probe");
    assertThat(accepted.poll(300, TimeUnit.MILLISECONDS)).as("accepted while paused").isNull();
  }

  @Test
  void resumeAcceptsWhatWaitedInTheQueue() throws Exception {
    Listener http = listener("http");
    NioAcceptor acceptor = start(http);
    connect(http);
    connect(http);

    acceptor.resume();

    assertThat(accepted.poll(5, TimeUnit.SECONDS)).isEqualTo("http");
    assertThat(accepted.poll(5, TimeUnit.SECONDS)).isEqualTo("http");
    assertThat(acceptor.paused()).isFalse();
  }

  @Test
  void afterPauseReturnsNotOneMoreConnectionIsAcceptedAndTheQueueKeepsThem() throws Exception {
    Listener http = listener("http");
    NioAcceptor acceptor = start(http);
    acceptor.resume();
    // Connections arrive while pause() runs, from another thread, as they would under load.
    Thread client =
        new Thread(
            () -> {
              for (int i = 0; i < 200; i++) {
                try {
                  connect(http);
                } catch (IOException e) {
                  throw new AssertionError(e);
                }
              }
            });
    client.start();
    Thread.sleep(5);

    acceptor.pause();
    int acceptedBeforePause = drainAccepted();
    client.join();
    Thread.sleep(300);

    assertThat(drainAccepted()).as("accepted after pause() returned").isZero();
    int queued = 0;
    http.channel().configureBlocking(false);
    for (SocketChannel c = http.channel().accept(); c != null; c = http.channel().accept()) {
      c.close();
      queued++;
    }
    assertThat(acceptedBeforePause + queued).isEqualTo(200);
  }

  @Test
  void closeStopsAcceptingEvenOnTheProbeAndLeavesTheChannelOpen() throws Exception {
    Listener probe = listener("baton-probe");
    NioAcceptor acceptor = start(probe);

    acceptor.close();
    connect(probe);

    assertThat(accepted.poll(300, TimeUnit.MILLISECONDS)).isNull();
    assertThat(probe.channel().isOpen()).isTrue();
  }

  private int drainAccepted() {
    List<String> all = new ArrayList<>();
    accepted.drainTo(all);
    return all.size();
  }

  private NioAcceptor start(Listener... listeners) throws IOException {
    NioAcceptor acceptor =
        NioAcceptor.start(
            List.of(listeners),
            (listener, channel) -> {
              accepted.add(listener.name());
              channel.close();
            });
    toClose.add(acceptor);
    return acceptor;
  }

  private Listener listener(String name) throws IOException {
    ServerSocketChannel channel = ServerSocketChannel.open();
    channel.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 1024);
    toClose.add(channel);
    return new Listener(name, channel, channel.getLocalAddress(), "bound here");
  }

  private void connect(Listener listener) throws IOException {
    SocketChannel client = SocketChannel.open(listener.address());
    synchronized (toClose) {
      toClose.add(client);
    }
  }
}
