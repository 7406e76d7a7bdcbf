package dev.baton.os;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import org.junit.jupiter.api.Test;

class TcpConnectionsTest {
  private final Os os = Os.linux();
  private final int self = (int) ProcessHandle.current().pid();

  @Test
  void countsTheEstablishedConnectionsAProcessHoldsAndNotItsListeners() throws Exception {
    int before = os.tcpConnections(self).orElseThrow();
    try (var listener = new ServerSocket(0, 16, InetAddress.getLoopbackAddress())) {
      assertThat(os.tcpConnections(self)).hasValue(before);
      try (var client = new Socket(InetAddress.getLoopbackAddress(), listener.getLocalPort());
          var accepted = listener.accept()) {
        // Both ends are this process's: two established sockets.
        assertThat(os.tcpConnections(self)).hasValue(before + 2);
      }
    }
  }

  @Test
  void aProcessThatIsGoneHasNoCount() throws Exception {
    var process = new ProcessBuilder("true").start();
    int pid = (int) process.pid();
    process.waitFor();
    // Reaped by waitFor: its pid is free, and no /proc entry reads as it.
    assertThat(os.tcpConnections(pid)).isEmpty();
  }
}
