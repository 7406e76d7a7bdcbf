package dev.baton.os;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class TcpListenerTest {
  private final Os os = Os.linux();
  private final List<Fd> opened = new ArrayList<>();

  @AfterEach
  void closeListeners() {
    opened.forEach(os::close);
  }

  private Fd listen(String address, boolean reusePort) {
    var fd = os.listen(ListenAddress.parse(address, reusePort), 16);
    opened.add(fd);
    return fd;
  }

  @Test
  void listenerOnLoopbackPortZeroAcceptsAConnectionFromJavaNetSocket() throws Exception {
    var listener = listen("127.0.0.1:0", false);
    var address = os.localAddress(listener);
    assertThat(address.getAddress()).isEqualTo(InetAddress.getByName("127.0.0.1"));
    assertThat(address.getPort()).isPositive();

    try (var client = new Socket(address.getAddress(), address.getPort());
        var accepted =
            new FdInputStream(
                new SharedFd(Libc.accept4(listener.value(), Libc.SOCK_CLOEXEC, "accept4")), true)) {
      client.getOutputStream().write("hello".getBytes());
      client.shutdownOutput();

      assertThat(new String(accepted.readAllBytes())).isEqualTo("hello");
    }
  }

  @Test
  void bindingAPortTwiceThrowsEaddrinuseNamingTheAddress() {
    var first = listen("127.0.0.1:0", false);
    int port = os.localAddress(first).getPort();

    assertThatThrownBy(() -> listen("127.0.0.1:" + port, false))
        .isInstanceOfSatisfying(
            NativeException.class,
            e -> {
              assertThat(e.errnoName()).isEqualTo("EADDRINUSE");
              assertThat(e.errno()).isEqualTo(Libc.EADDRINUSE);
              assertThat(e.call()).isEqualTo("bind(127.0.0.1:" + port + ")");
            })
        .hasMessage("bind(127.0.0.1:" + port + ") failed: EADDRINUSE (Address already in use)");
  }

  @Test
  void twoListenersWithReusePortShareAPort() {
    var first = listen("127.0.0.1:0", true);
    int port = os.localAddress(first).getPort();

    var second = listen("127.0.0.1:" + port, true);

    assertThat(os.localAddress(second).getPort()).isEqualTo(port);
  }

  @Test
  void ipv6LoopbackListenerReportsItsAddressAndAcceptsConnections() throws Exception {
    var listener = listen("[::1]:0", false);
    var address = os.localAddress(listener);
    assertThat(address.getAddress()).isInstanceOf(Inet6Address.class);
    assertThat(address.getAddress().isLoopbackAddress()).isTrue();
    assertThat(address.getAddress().getHostAddress()).doesNotContain("%");

    try (var client = new Socket()) {
      client.connect(new InetSocketAddress("::1", address.getPort()), 2000);
      int accepted = Libc.accept4(listener.value(), Libc.SOCK_CLOEXEC, "accept4");
      Libc.close(accepted);
    }
  }

  @Test
  void portOwnerNamesThisJvmForAPortItListensOn() {
    var listener = listen("127.0.0.1:0", false);
    int port = os.localAddress(listener).getPort();

    assertThat(os.portOwner(port))
        .hasValueSatisfying(owner -> assertThat(owner).startsWith("pid " + os.pid() + " ("));
  }

  @Test
  void portOwnerFindsIpv6Listeners() {
    var listener = listen("[::1]:0", false);
    int port = os.localAddress(listener).getPort();

    assertThat(os.portOwner(port))
        .hasValueSatisfying(owner -> assertThat(owner).startsWith("pid " + os.pid() + " ("));
  }

  @Test
  void portOwnerIsEmptyForAPortNobodyListensOn() {
    var listener = os.listen(ListenAddress.parse("127.0.0.1:0", false), 1);
    int port = os.localAddress(listener).getPort();
    os.close(listener);

    assertThat(os.portOwner(port)).isEmpty();
  }

  @Test
  void closedListenerRefusesConnections() {
    var listener = os.listen(ListenAddress.parse("127.0.0.1:0", false), 1);
    int port = os.localAddress(listener).getPort();
    os.close(listener);

    assertThatThrownBy(() -> new Socket("127.0.0.1", port).close())
        .isInstanceOf(java.net.ConnectException.class);
  }
}
