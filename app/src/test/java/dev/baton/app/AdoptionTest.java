package dev.baton.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Real hand-overs: hand_over.py binds sockets and execs {@link AdoptionProbe} with them at fd 0 or
 * at fds 3.., through the same /bin/sh shim baton uses for LISTEN_PID. Runs on the JDK running the
 * tests and on JDK 17 where it is installed, because the JDK internals used differ by release.
 */
class AdoptionTest {

  private static final String FLAG = "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED";
  private static final Path JDK17_JAVA = Path.of("/usr/lib/jvm/java-17-openjdk-amd64/bin/java");

  private final List<Process> processes = new ArrayList<>();

  @AfterEach
  void endProcesses() {
    processes.forEach(Process::destroyForcibly);
  }

  @Test
  void adoptsListenersAtFd3AndUpWithTheirNames() throws Exception {
    Probe probe = start(currentJava(), "listen-fds", "inet", "http:admin", FLAG);

    assertThat(probe.nextLine())
        .matches(
            "adopted \\[http=127\\.0\\.0\\.1:\\d+ \\(fd 3\\), admin=127\\.0\\.0\\.1:\\d+ \\(fd 4\\)\\]"
                + " on java \\d+");
    assertThat(greeting(probe.addresses.get(0))).isEqualTo("hello http\n");
    assertThat(greeting(probe.addresses.get(1))).isEqualTo("hello admin\n");
    assertThat(probe.nextLine()).isEqualTo("closed the listeners, stdout still works");
    assertThat(probe.exitCode()).isZero();
  }

  @Test
  void adoptsListenersAtFd3OnJdk17() throws Exception {
    assumeTrue(Files.isExecutable(JDK17_JAVA), "JDK 17 is not installed at " + JDK17_JAVA);
    Probe probe = start(JDK17_JAVA.toString(), "listen-fds", "inet", "http", FLAG);

    assertThat(probe.nextLine())
        .matches("adopted \\[http=127\\.0\\.0\\.1:\\d+ \\(fd 3\\)\\] on java 17");
    assertThat(greeting(probe.addresses.get(0))).isEqualTo("hello http\n");
    assertThat(probe.nextLine()).isEqualTo("closed the listeners, stdout still works");
    assertThat(probe.exitCode()).isZero();
  }

  @Test
  void adoptsAListenerAtFd0AndKeepsStdoutAfterClosingIt() throws Exception {
    Probe probe = start(currentJava(), "fd0", "inet", "ignored", FLAG);

    assertThat(probe.nextLine())
        .matches("adopted \\[stdin=127\\.0\\.0\\.1:\\d+ \\(fd 0\\)\\] on java \\d+");
    assertThat(greeting(probe.addresses.get(0))).isEqualTo("hello stdin\n");
    assertThat(probe.nextLine()).isEqualTo("closed the listeners, stdout still works");
    assertThat(probe.exitCode()).isZero();
  }

  @Test
  void adoptsAListenerAtFd0OnJdk17() throws Exception {
    assumeTrue(Files.isExecutable(JDK17_JAVA), "JDK 17 is not installed at " + JDK17_JAVA);
    Probe probe = start(JDK17_JAVA.toString(), "fd0", "inet6", "ignored", FLAG);

    assertThat(probe.nextLine())
        .matches("adopted \\[stdin=\\[0:0:0:0:0:0:0:1\\]:\\d+ \\(fd 0\\)\\] on java 17");
    assertThat(greeting(probe.addresses.get(0))).isEqualTo("hello stdin\n");
    assertThat(probe.exitCode()).isZero();
  }

  @Test
  void adoptsAListenerAtFd0WithoutTheFlagAndWarnsAboutClosingIt() throws Exception {
    Probe probe = start(currentJava(), "fd0", "inet", "ignored");

    assertThat(probe.nextLine())
        .matches("adopted \\[stdin=127\\.0\\.0\\.1:\\d+ \\(fd 0\\)\\] on java \\d+");
    assertThat(greeting(probe.addresses.get(0))).isEqualTo("hello stdin\n");
    assertThat(probe.exitCode()).isZero();
    assertThat(probe.stderr())
        .contains("adopted fd 0 through System.inheritedChannel(); closing it will send stdout");
    // The JDK's inherited channel sent stdout to /dev/null when it was closed.
    assertThat(probe.nextLine()).isNull();
  }

  @Test
  void adoptsIpv6AndUnixListeners() throws Exception {
    Probe inet6 = start(currentJava(), "listen-fds", "inet6", "http", FLAG);
    Probe unix = start(currentJava(), "listen-fds", "unix", "local", FLAG);

    assertThat(inet6.nextLine())
        .matches("adopted \\[http=\\[0:0:0:0:0:0:0:1\\]:\\d+ \\(fd 3\\)\\] on java \\d+");
    assertThat(greeting(inet6.addresses.get(0))).isEqualTo("hello http\n");
    assertThat(unix.nextLine())
        .startsWith("adopted [local=/")
        .endsWith("local.sock (fd 3)] on java " + Runtime.version().feature());
    assertThat(greeting(unix.addresses.get(0))).isEqualTo("hello local\n");
    assertThat(inet6.exitCode()).isZero();
    assertThat(unix.exitCode()).isZero();
  }

  @Test
  void listenFdsWithoutTheFlagFailsWithOneMessageNamingIt() throws Exception {
    Probe probe = start(currentJava(), "listen-fds", "inet", "http");

    assertThat(probe.exitCode()).isNotZero();
    assertThat(probe.stderr())
        .contains(
            "baton-app: LISTEN_FDS=1 hands this process listeners at fds 3..3, and adopting them"
                + " needs the JVM flag --add-opens java.base/sun.nio.ch=ALL-UNNAMED");
  }

  private Probe start(String java, String mode, String family, String names, String... jvmFlags)
      throws IOException {
    List<String> command = new ArrayList<>();
    command.add("python3");
    command.add(resource("hand_over.py").toString());
    command.add(mode);
    command.add(family);
    command.add(names);
    command.add(java);
    command.addAll(List.of(jvmFlags));
    command.add("-cp");
    command.add(resource("").toString() + ":" + codeSource(Listeners.class));
    command.add(AdoptionProbe.class.getName());
    ProcessBuilder builder = new ProcessBuilder(command);
    builder
        .environment()
        .keySet()
        .removeIf(k -> k.startsWith("LISTEN_") || k.startsWith("JDK_JAVA"));
    Process process = builder.start();
    processes.add(process);
    return new Probe(process);
  }

  private static String currentJava() {
    return ProcessHandle.current().info().command().orElseThrow();
  }

  private static Path resource(String name) {
    try {
      return Path.of(AdoptionTest.class.getClassLoader().getResource(name).toURI());
    } catch (java.net.URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  private static Path codeSource(Class<?> type) {
    try {
      return Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI());
    } catch (java.net.URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String greeting(SocketAddress address) throws IOException {
    try (SocketChannel channel = SocketChannel.open(address)) {
      ByteBuffer buffer = ByteBuffer.allocate(256);
      while (channel.read(buffer) >= 0) {
        // read until the probe closes the connection
      }
      return new String(buffer.array(), 0, buffer.position(), StandardCharsets.UTF_8);
    }
  }

  /** A started probe: the addresses hand_over.py printed, then the probe's own stdout. */
  private static final class Probe {
    final Process process;
    final BufferedReader stdout;
    final List<SocketAddress> addresses = new ArrayList<>();

    Probe(Process process) throws IOException {
      this.process = process;
      this.stdout =
          new BufferedReader(
              new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
      String first = stdout.readLine();
      assertThat(first).as("hand_over.py's first line").startsWith("listening ");
      for (String address : first.substring("listening ".length()).split(" ")) {
        addresses.add(parse(address));
      }
    }

    String nextLine() throws IOException {
      return stdout.readLine();
    }

    int exitCode() throws InterruptedException {
      assertThat(process.waitFor(20, TimeUnit.SECONDS)).as("probe exited").isTrue();
      return process.exitValue();
    }

    String stderr() throws IOException {
      return new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    }

    private static SocketAddress parse(String address) {
      if (address.startsWith("/")) {
        return UnixDomainSocketAddress.of(address);
      }
      int colon = address.lastIndexOf(':');
      String host = address.substring(0, colon).replace("[", "").replace("]", "");
      return new InetSocketAddress(host, Integer.parseInt(address.substring(colon + 1)));
    }
  }
}
