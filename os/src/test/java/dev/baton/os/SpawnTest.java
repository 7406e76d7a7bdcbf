package dev.baton.os;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SpawnTest {
  private final Os os = Os.linux();
  private final List<ChildProcess> children = new ArrayList<>();
  private final List<Fd> listeners = new ArrayList<>();

  @TempDir Path workdir;

  @AfterEach
  void cleanUp() {
    for (var child : children) {
      child.signal(Signal.KILL);
      Reaping.awaitExit(child);
    }
    listeners.forEach(os::close);
  }

  /** The test JVM's PATH and HOME, so python3 is found wherever this machine keeps it. */
  private static Map<String, String> env(String... pairs) {
    var env = new HashMap<String, String>();
    env.put("PATH", System.getenv("PATH"));
    env.put("HOME", System.getProperty("user.home"));
    for (int i = 0; i < pairs.length; i += 2) {
      env.put(pairs[i], pairs[i + 1]);
    }
    return env;
  }

  private ChildProcess spawn(
      List<String> argv, Map<String, String> env, @Nullable Fd stdin, List<Fd> fds) {
    var child = os.spawn(new SpawnSpec(argv, env, workdir, Optional.ofNullable(stdin), fds));
    children.add(child);
    return child;
  }

  private ChildProcess spawn(List<String> argv, List<Fd> fds) {
    return spawn(argv, env(), /* stdin= */ null, fds);
  }

  private Fd listen() {
    var fd = os.listen(ListenAddress.parse("127.0.0.1:0", false), 16);
    listeners.add(fd);
    return fd;
  }

  private static TreeSet<String> fdsOf(int pid) throws IOException {
    var fds = new TreeSet<String>();
    try (var entries = Files.list(Path.of("/proc/" + pid + "/fd"))) {
      entries.forEach(fd -> fds.add(fd.getFileName().toString()));
    }
    return fds;
  }

  private static String link(String path) throws IOException {
    return Files.readSymbolicLink(Path.of(path)).toString();
  }

  private static String statusField(int pid, String field) throws IOException {
    return Files.readAllLines(Path.of("/proc/" + pid + "/status")).stream()
        .filter(line -> line.startsWith(field + ":"))
        .map(line -> line.substring(field.length() + 1).strip())
        .findFirst()
        .orElseThrow();
  }

  /** Fields of /proc/PID/stat after "(comm)": state, ppid, pgrp, session, ... */
  private static String[] statAfterComm(int pid) throws IOException {
    var stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
    return stat.substring(stat.lastIndexOf(')') + 2).split(" ");
  }

  // posix_spawn returns once the child has exec'd, so /proc shows the program's own state at once.

  @Test
  void childHasExactlyStdioAndTheListenersAndNothingElseLeaks() throws Exception {
    var first = listen();
    var second = listen();

    var child = spawn(List.of("sleep", "60"), List.of(first, second));

    // 5 and 6: the read ends of its own stdout and stderr, which keep them writable if we die.
    // Waited for, as the dynamic loader of the program briefly holds libc open at 7; a leak stays.
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () ->
                assertThat(fdsOf(child.pid())).containsExactly("0", "1", "2", "3", "4", "5", "6"));
    assertThat(link("/proc/" + child.pid() + "/fd/5"))
        .isEqualTo(link("/proc/" + child.pid() + "/fd/1"));
    assertThat(link("/proc/" + child.pid() + "/fd/6"))
        .isEqualTo(link("/proc/" + child.pid() + "/fd/2"));
    assertThat(link("/proc/" + child.pid() + "/fd/0")).isEqualTo("/dev/null");
    assertThat(link("/proc/" + child.pid() + "/fd/1")).startsWith("pipe:");
    assertThat(link("/proc/" + child.pid() + "/fd/2")).startsWith("pipe:");
    assertThat(link("/proc/" + child.pid() + "/fd/3"))
        .isEqualTo(link("/proc/self/fd/" + first.value()));
    assertThat(link("/proc/" + child.pid() + "/fd/4"))
        .isEqualTo(link("/proc/self/fd/" + second.value()));
  }

  @Test
  void childGetsExactlyTheGivenEnvironmentAndWorkingDirectory() throws Exception {
    var env = env("FOO", "bar baz", "BATON_GENERATION", "7");

    var child = spawn(List.of("sleep", "60"), env, /* stdin= */ null, List.of());

    // posix_spawn returns once the kernel has swapped in the new program's memory, which is a
    // moment before it records where the environment lies: until then, environ reads empty.
    var environ =
        await()
            .atMost(Duration.ofSeconds(10))
            .until(
                () -> Files.readString(Path.of("/proc/" + child.pid() + "/environ")),
                text -> !text.isEmpty());
    var seen = Arrays.stream(environ.split("\0")).collect(Collectors.toSet());
    var expected =
        env.entrySet().stream()
            .map(e -> e.getKey() + "=" + e.getValue())
            .collect(Collectors.toSet());
    assertThat(seen).isEqualTo(expected);
    assertThat(Files.readSymbolicLink(Path.of("/proc/" + child.pid() + "/cwd")))
        .isEqualTo(workdir.toRealPath());
  }

  @Test
  void shellChildEchoesItsEnvironmentAndWorkingDirectory() throws Exception {
    var child =
        spawn(
            List.of("/bin/sh", "-c", "echo \"$FOO\"; pwd"),
            env("FOO", "from the spec"),
            /* stdin= */ null,
            List.of());

    var out = new String(child.stdout().readAllBytes(), UTF_8);

    assertThat(out).isEqualTo("from the spec\n" + workdir.toRealPath() + "\n");
    assertThat(Reaping.awaitExit(child).success()).isTrue();
  }

  /** Its own group, for kill(-pgid); our session, so autogroup scheduling weighs it with us. */
  @Test
  void childLeadsAProcessGroupOfItsOwnInOurSession() throws Exception {
    var child = spawn(List.of("sleep", "60"), List.of());

    var stat = statAfterComm(child.pid());
    var ours = statAfterComm(os.pid());
    assertThat(stat[2]).as("pgrp").isEqualTo(Integer.toString(child.pid()));
    assertThat(stat[3]).as("session").isEqualTo(ours[3]);
    assertThat(stat[2]).as("pgrp, not ours").isNotEqualTo(ours[2]);
    var autogroup = Path.of("/proc/self/autogroup"); // only on kernels built with autogroups
    if (Files.exists(autogroup)) {
      assertThat(Files.readString(Path.of("/proc/" + child.pid() + "/autogroup")))
          .isEqualTo(Files.readString(autogroup));
    }
  }

  @Test
  void childStartsWithAnEmptySignalMaskAndNoIgnoredSignals() throws Exception {
    var child = spawn(List.of("sleep", "60"), List.of());

    assertThat(statusField(child.pid(), "SigBlk")).isEqualTo("0000000000000000");
    assertThat(statusField(child.pid(), "SigIgn")).isEqualTo("0000000000000000");
  }

  @Test
  void givenStdinIsTheChildsFdZero() throws Exception {
    var socket = listen();

    var child = spawn(List.of("sleep", "60"), env(), socket, List.of());

    assertThat(link("/proc/" + child.pid() + "/fd/0"))
        .isEqualTo(link("/proc/self/fd/" + socket.value()));
  }

  @Test
  void childAcceptsAConnectionOnTheListenerPassedAtFdThree() throws Exception {
    var listener = listen();
    int port = os.localAddress(listener).getPort();
    var script =
        """
        import socket
        s = socket.socket(fileno=3)
        c, _ = s.accept()
        c.sendall(b"hello from the child\\n")
        c.close()
        """;

    var child = spawn(List.of("python3", "-c", script), List.of(listener));

    try (var client = new Socket("127.0.0.1", port)) {
      client.setSoTimeout(10_000);
      var reader = new BufferedReader(new InputStreamReader(client.getInputStream(), UTF_8));
      assertThat(reader.readLine()).isEqualTo("hello from the child");
    }
    assertThat(Reaping.awaitExit(child)).isEqualTo(ExitStatus.exited(0));
  }

  /**
   * Two listeners swap numbers: the one at fd b goes to target a and the one at fd a to target b.
   * dup2 straight from the sources would overwrite fd a before it is copied to b.
   */
  @Test
  void listenersWhoseNumbersAreAlsoTargetsReachTheRightPlaces() throws Exception {
    var low = listen();
    var high = listen();
    int a = low.value();
    int b = high.value();
    var fds = new ArrayList<Fd>();
    for (int target = 3; target <= b; target++) {
      fds.add(target == a ? high : low); // target b gets low; the filler is low too
    }
    var script =
        "import socket\n"
            + "print(socket.socket(fileno="
            + a
            + ").getsockname()[1])\n"
            + "print(socket.socket(fileno="
            + b
            + ").getsockname()[1])\n";

    var child = spawn(List.of("python3", "-c", script), fds);

    var out = new String(child.stdout().readAllBytes(), UTF_8);
    assertThat(out.lines().toList())
        .containsExactly(
            Integer.toString(os.localAddress(high).getPort()),
            Integer.toString(os.localAddress(low).getPort()));
  }

  @Test
  void signalGroupKillsAGrandchildInTheSameGroup() throws Exception {
    var child = spawn(List.of("/bin/sh", "-c", "sleep 300 & echo $!; wait"), List.of());
    var reader = new BufferedReader(new InputStreamReader(child.stdout(), UTF_8));
    int grandchild = Integer.parseInt(reader.readLine());
    assertThat(statAfterComm(grandchild)[2])
        .as("grandchild's pgrp")
        .isEqualTo(Integer.toString(child.pid()));

    assertThat(os.signalGroup(child.pid(), Signal.KILL)).isTrue();

    assertThat(Reaping.awaitExit(child)).isEqualTo(ExitStatus.killed(9));
    await().atMost(Duration.ofSeconds(10)).until(() -> isDead(grandchild));
  }

  /** Gone, or a zombie that the container's init has not reaped. */
  private static boolean isDead(int pid) throws IOException {
    try {
      return statAfterComm(pid)[0].equals("Z");
    } catch (NoSuchFileException e) {
      return true;
    }
  }

  @Test
  void signalGroupReturnsFalseWhenTheGroupIsGone() throws Exception {
    var child = spawn(List.of("/bin/sh", "-c", "exit 0"), List.of());
    Reaping.awaitExit(child);

    assertThat(os.signalGroup(child.pid(), Signal.TERM)).isFalse();
  }

  @Test
  void signalGroupRefusesOurOwnGroupAndEveryProcess() {
    assertThatThrownBy(() -> os.signalGroup(0, Signal.TERM))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> os.signalGroup(1, Signal.TERM))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void missingCommandThrowsEnoentNamingIt() {
    assertThatThrownBy(() -> spawn(List.of("no-such-command-baton", "x"), List.of()))
        .isInstanceOfSatisfying(
            NativeException.class,
            e -> {
              assertThat(e.errnoName()).isEqualTo("ENOENT");
              assertThat(e.call()).isEqualTo("posix_spawn(no-such-command-baton)");
            });
  }

  @Test
  void missingAbsoluteCommandThrowsEnoentFromPosixSpawn() {
    assertThatThrownBy(() -> spawn(List.of("/no/such/program"), List.of()))
        .isInstanceOfSatisfying(
            NativeException.class,
            e -> {
              assertThat(e.errnoName()).isEqualTo("ENOENT");
              assertThat(e.call()).isEqualTo("posix_spawn(/no/such/program)");
            });
  }

  @Test
  void missingWorkingDirectoryIsNamedRatherThanBlamedOnTheCommand() {
    var missing = workdir.resolve("gone");

    assertThatThrownBy(
            () ->
                os.spawn(
                    new SpawnSpec(List.of("/bin/sh"), env(), missing, Optional.empty(), List.of())))
        .isInstanceOf(NativeException.class)
        .hasMessage(
            "posix_spawn(/bin/sh): chdir("
                + missing
                + ") failed: ENOENT (No such file or directory)");
  }

  @Test
  void commandIsSearchedOnTheChildsPathNotOurs() throws Exception {
    var bin = Files.createDirectory(workdir.resolve("bin"));
    var program = bin.resolve("baton-only-here");
    Files.writeString(program, "#!/bin/sh\necho found on the PATH of the child\n");
    program.toFile().setExecutable(true);

    var child =
        spawn(
            List.of("baton-only-here"),
            Map.of("PATH", bin.toString()),
            /* stdin= */ null,
            List.of());

    assertThat(new String(child.stderr().readAllBytes(), UTF_8)).isEqualTo("");
    assertThat(Reaping.awaitExit(child)).isEqualTo(ExitStatus.exited(0));
    assertThat(new String(child.stdout().readAllBytes(), UTF_8))
        .isEqualTo("found on the PATH of the child\n");
  }

  @Test
  void everyLineOfStdoutIsReadUntilEof() throws Exception {
    var child = spawn(List.of("seq", "1", "20000"), List.of());

    var lines = new BufferedReader(new InputStreamReader(child.stdout(), UTF_8)).lines().toList();

    assertThat(lines).hasSize(20000).startsWith("1").endsWith("20000");
    assertThat(child.stdout().read()).isEqualTo(-1);
    assertThat(Reaping.awaitExit(child).success()).isTrue();
  }

  @Test
  void stderrIsItsOwnPipe() throws Exception {
    var child = spawn(List.of("/bin/sh", "-c", "echo out; echo err >&2"), List.of());

    assertThat(new String(child.stderr().readAllBytes(), UTF_8)).isEqualTo("err\n");
    assertThat(new String(child.stdout().readAllBytes(), UTF_8)).isEqualTo("out\n");
  }

  @Test
  void spawningLeavesNoDescriptorsBehindInTheParent() throws Exception {
    var listener = listen();
    var before = openFds();

    for (int i = 0; i < 5; i++) {
      var child = spawn(List.of("/bin/sh", "-c", "exit 0"), List.of(listener));
      child.stdout().readAllBytes();
      child.stderr().readAllBytes();
      Reaping.awaitExit(child);
    }

    await()
        .atMost(Duration.ofSeconds(5))
        .untilAsserted(() -> assertThat(openFds()).isLessThanOrEqualTo(before));
  }

  private static long openFds() throws IOException {
    try (var fds = Files.list(Path.of("/proc/self/fd"))) {
      return fds.count();
    }
  }
}
