package dev.baton.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The paths that run without baton. Adoption itself is tested with real processes in {@link
 * AdoptionTest}.
 */
class ListenersTest {

  private static final long PID = ProcessHandle.current().pid();

  private final ByteArrayOutputStream log = new ByteArrayOutputStream();
  private final PrintStream stderr = new PrintStream(log, true, StandardCharsets.UTF_8);

  @Test
  void adoptsNothingOutsideBaton() throws IOException {
    try (Listeners listeners = Listeners.adopt(Map.of(), PID, stderr)) {
      assertThat(listeners.all()).isEmpty();
    }
    assertThat(log()).isEmpty();
  }

  @Test
  void bindsTheFallbackItselfOutsideBatonAndSaysSoInOneLine() throws IOException {
    InetSocketAddress fallback = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);

    try (Listeners listeners = Listeners.adoptOr(fallback, Map.of(), PID, stderr)) {
      Listener listener = listeners.all().get(0);
      assertThat(listeners.all()).hasSize(1);
      assertThat(listener.name()).isEqualTo("unknown");
      assertThat(listener.origin()).isEqualTo("bound here");
      int port = ((InetSocketAddress) listener.address()).getPort();
      assertThat(log())
          .isEqualTo(
              "baton-app: no LISTEN_FDS or inherited socket; bound 127.0.0.1:"
                  + port
                  + " itself\n");
      assertAccepts(listener, new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
    }
  }

  @Test
  void fallbackMessageSaysWhyListenFdsWasIgnored() throws IOException {
    InetSocketAddress fallback = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);

    try (Listeners listeners =
        Listeners.adoptOr(fallback, Map.of("LISTEN_FDS", "1", "LISTEN_PID", "1"), PID, stderr)) {
      assertThat(listeners.all()).hasSize(1);
      assertThat(log())
          .startsWith(
              "baton-app: LISTEN_FDS is for pid 1, not this process (pid "
                  + PID
                  + "), and no inherited socket; bound 127.0.0.1:");
    }
  }

  @Test
  void bindsAnIpv6Fallback() throws IOException {
    InetSocketAddress fallback = new InetSocketAddress(InetAddress.getByName("::1"), 0);

    try (Listeners listeners = Listeners.adoptOr(fallback, Map.of(), PID, stderr)) {
      assertThat(Listener.format(listeners.all().get(0).address()))
          .startsWith("[0:0:0:0:0:0:0:1]:");
    }
  }

  @Test
  void bindsAUnixFallback(@TempDir Path dir) throws IOException {
    UnixDomainSocketAddress fallback = UnixDomainSocketAddress.of(dir.resolve("app.sock"));

    try (Listeners listeners = Listeners.adoptOr(fallback, Map.of(), PID, stderr)) {
      assertThat(log()).contains("bound " + dir.resolve("app.sock") + " itself");
      assertAccepts(listeners.all().get(0), fallback);
    }
  }

  @Test
  void fallbacksWithSoReusePortShareAPort() throws IOException {
    InetSocketAddress any = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
    try (Listeners first =
        Listeners.adoptOr(any, Map.of(), PID, stderr, StandardSocketOptions.SO_REUSEPORT)) {
      InetSocketAddress taken = (InetSocketAddress) first.all().get(0).address();

      try (Listeners second =
          Listeners.adoptOr(taken, Map.of(), PID, stderr, StandardSocketOptions.SO_REUSEPORT)) {
        assertThat(second.all().get(0).channel().getOption(StandardSocketOptions.SO_REUSEPORT))
            .isTrue();
        assertThat(second.all().get(0).address()).isEqualTo(taken);
      }
    }
  }

  @Test
  void aFallbackInUseSaysWhichAddressAndWhatToDo() throws IOException {
    try (ServerSocketChannel taken = ServerSocketChannel.open()) {
      taken.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
      InetSocketAddress address = (InetSocketAddress) taken.getLocalAddress();

      assertThatThrownBy(() -> Listeners.adoptOr(address, Map.of(), PID, stderr))
          .isInstanceOf(IOException.class)
          .hasMessageContaining("cannot bind 127.0.0.1:" + address.getPort())
          .hasMessageContaining("give the app a free address");
    }
  }

  @Test
  void listenFdsWithoutTheJvmFlagFailsNamingTheFlag() {
    // Surefire runs these tests without --add-opens, like an app whose launcher forgot it.
    Map<String, String> env = Map.of("LISTEN_FDS", "2", "LISTEN_PID", Long.toString(PID));

    assertThatThrownBy(() -> Listeners.adopt(env, PID, stderr))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("listeners at fds 3..4")
        .hasMessageContaining("needs the JVM flag --add-opens java.base/sun.nio.ch=");
  }

  @Test
  void findsAListenerByName() throws IOException {
    InetSocketAddress fallback = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);

    try (Listeners listeners = Listeners.adoptOr(fallback, Map.of(), PID, stderr)) {
      assertThat(listeners.named("unknown")).containsSame(listeners.all().get(0));
      assertThat(listeners.named("http")).isEmpty();
    }
  }

  @Test
  void closingStopsAccepting() throws IOException {
    InetSocketAddress fallback = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
    Listeners listeners = Listeners.adoptOr(fallback, Map.of(), PID, stderr);

    listeners.close();

    assertThat(listeners.all().get(0).channel().isOpen()).isFalse();
  }

  private static void assertAccepts(Listener listener, java.net.SocketAddress address)
      throws IOException {
    try (SocketChannel client = SocketChannel.open(address);
        SocketChannel accepted = listener.channel().accept()) {
      assertThat(accepted.getRemoteAddress()).isNotNull();
      assertThat(client.isConnected()).isTrue();
    }
  }

  private String log() {
    return log.toString(StandardCharsets.UTF_8);
  }
}
