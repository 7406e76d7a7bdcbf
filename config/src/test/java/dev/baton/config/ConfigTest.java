package dev.baton.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.baton.os.ListenAddress;
import dev.baton.os.Signal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigTest {
  private static final Path FILE = Path.of("/srv/app/baton.toml");

  private static Config parse(String toml) {
    return Config.parse(FILE, toml);
  }

  @Test
  void theDocumentedExampleParsesWithItsDefaults() {
    var config =
        parse(
            """
        [app]
        command = ["gunicorn", "-w", "2", "app:app"]
        env = { KEY = "value" }

        [[listen]]
        name = "http"
        address = "127.0.0.1:8080"

        [[listen]]
        name = "v6"
        address = "[::]:8081"
        pass = "fd0"

        [[listen]]
        name = "sock"
        address = "unix:/run/app.sock"
        """);
    assertThat(config.app().command()).containsExactly("gunicorn", "-w", "2", "app:app");
    assertThat(config.app().env()).containsEntry("KEY", "value");
    assertThat(config.app().workdir()).isEqualTo(Path.of("/srv/app"));
    assertThat(config.listeners())
        .extracting(Config.Listen::name)
        .containsExactly("http", "v6", "sock");
    assertThat(config.listeners().get(1).pass()).isEqualTo(Config.Pass.FD0);
    assertThat(config.listeners().get(1).address()).hasToString("[0:0:0:0:0:0:0:0]:8081");
    assertThat(config.listeners().get(2).address()).isInstanceOf(ListenAddress.Unix.class);
    assertThat(config.readiness().timeout()).isEqualTo(Duration.ofSeconds(30));
    assertThat(config.readiness().alive()).isEqualTo(Duration.ofSeconds(1));
    assertThat(config.drain().signal()).isEqualTo(Signal.TERM);
    assertThat(config.drain().timeout()).isEqualTo(Duration.ofSeconds(10));
    assertThat(config.control().socket()).isEqualTo(Path.of("/srv/app/baton.sock"));
  }

  @Test
  void aTypoedKeyNamesTheFileTheLineTheKeyAndTheFix() {
    assertThatThrownBy(
            () ->
                parse(
                    """
        [app]
        command = ["./server"]

        [[listen]]
        address = "127.0.0.1:8080"

        [readiness]
        notify = true
        timout = "5s"
        """))
        .isInstanceOf(ConfigException.class)
        .hasMessage(
            "/srv/app/baton.toml:9: unknown key 'timout' in [readiness]; did you mean 'timeout'? "
                + "known keys: notify, http, timeout, alive");
  }

  @Test
  void aTypoInTheSecondListenTableNamesItsLine() {
    assertThatThrownBy(
            () ->
                parse(
                    """
        [app]
        command = ["./server"]
        [[listen]]
        address = "127.0.0.1:8080"
        [[listen]]
        name = "b"
        adress = "127.0.0.1:8081"
        """))
        .hasMessageStartingWith(
            "/srv/app/baton.toml:7: unknown key 'adress' in [[listen]] #2; did you mean 'address'?");
  }

  @Test
  void anUnknownTableIsNamed() {
    assertThatThrownBy(() -> parse("[ap]\ncommand = [\"x\"]\n"))
        .hasMessageStartingWith(
            "/srv/app/baton.toml:1: unknown key 'ap' in the top level; did you mean 'app'?");
  }

  @Test
  void aCommandGivenAsAStringIsRefusedBecauseBatonNeverRunsAShell() {
    assertThatThrownBy(
            () ->
                parse(
                    "[app]\ncommand = \"gunicorn app:app\"\n[[listen]]\naddress = \"127.0.0.1:1\"\n"))
        .hasMessageContaining(
            "/srv/app/baton.toml:2: [app] command must be an array of strings (argv)");
  }

  @Test
  void aListenerIsSharedUnlessItAsksForBpfAndSettleIsATenthOfASecond() {
    var head = "[app]\ncommand = [\"x\"]\n[[listen]]\naddress = \"127.0.0.1:1\"\n";
    assertThat(parse(head).listeners().getFirst().steer()).isEqualTo(Config.Steer.SHARED);
    assertThat(parse(head).drain().settle()).isEqualTo(java.time.Duration.ofMillis(100));
    var steered = parse(head + "steer = \"bpf\"\n[drain]\nsettle = \"250ms\"\n");
    assertThat(steered.listeners().getFirst().steer()).isEqualTo(Config.Steer.BPF);
    assertThat(steered.drain().settle()).isEqualTo(java.time.Duration.ofMillis(250));
  }

  @Test
  void badValuesSayWhatIsAccepted() {
    var head = "[app]\ncommand = [\"x\"]\n[[listen]]\n";
    assertThatThrownBy(() -> parse(head + "address = \"localhost:8080\"\n"))
        .hasMessageContaining("must use a literal IP");
    assertThatThrownBy(() -> parse(head + "address = \"127.0.0.1\"\n"))
        .hasMessageContaining("needs a host and a port");
    assertThatThrownBy(() -> parse(head + "address = \"127.0.0.1:1\"\npass = \"stdin\"\n"))
        .hasMessageContaining("pass must be \"listen-fds\" (the default) or \"fd0\"");
    assertThatThrownBy(() -> parse(head + "address = \"127.0.0.1:1\"\nsteer = \"ebpf\"\n"))
        .hasMessageContaining("steer must be \"shared\" (the default) or \"bpf\"");
    assertThatThrownBy(() -> parse(head + "address = \"unix:/run/app.sock\"\nsteer = \"bpf\"\n"))
        .hasMessageContaining("\"bpf\" steers TCP listeners only; use \"shared\"");
    assertThatThrownBy(
            () -> parse(head + "address = \"127.0.0.1:1\"\n[drain]\nsignal = \"TERMINATE\"\n"))
        .hasMessageContaining("unknown signal 'TERMINATE'");
    assertThatThrownBy(
            () -> parse(head + "address = \"127.0.0.1:1\"\n[readiness]\ntimeout = \"soon\"\n"))
        .hasMessageContaining(":6: [readiness] timeout 'soon' is not a duration");
    assertThatThrownBy(
            () -> parse(head + "address = \"127.0.0.1:1\"\n[readiness]\nhttp = \"healthz\"\n"))
        .hasMessageContaining("must be a path");
  }

  @Test
  void missingPiecesAreNamedWithAnExample() {
    assertThatThrownBy(() -> parse("[[listen]]\naddress = \"127.0.0.1:1\"\n"))
        .hasMessageContaining("needs [app]");
    assertThatThrownBy(() -> parse("[app]\ncommand = [\"x\"]\n"))
        .hasMessageContaining("needs [[listen]]");
    assertThatThrownBy(() -> parse("[app]\ncommand = []\n[[listen]]\naddress = \"127.0.0.1:1\"\n"))
        .hasMessageContaining("must name a program");
  }

  @Test
  void invalidTomlNamesTheLine() {
    assertThatThrownBy(() -> parse("[app]\ncommand = [\"x\"\n"))
        .hasMessageStartingWith("/srv/app/baton.toml:")
        .hasMessageContaining("not valid TOML");
  }

  @Test
  void aMissingFileSaysHowToGetOne(@TempDir Path dir) {
    assertThatThrownBy(() -> Config.load(dir.resolve("baton.toml")))
        .hasMessageEndingWith(
            "baton.toml: no such file; create it (see README.md, 'Configuration') or pass -c FILE");
  }

  @Test
  void aFileOnDiskLoads(@TempDir Path dir) throws Exception {
    var file = dir.resolve("baton.toml");
    Files.writeString(
        file,
        "[app]\ncommand = [\"x\"]\nworkdir = \"srv\"\n[[listen]]\naddress = \"127.0.0.1:1\"\n");
    var config = Config.load(file);
    assertThat(config.app().workdir()).isEqualTo(dir.resolve("srv"));
    assertThat(config.listeners().getFirst().name()).isEqualTo("http");
  }

  @Test
  void durationsTakeTheOneGrammarAndABareNumberOfSeconds() {
    var config =
        parse(
            BASE
                + """
                [readiness]
                timeout = "1500ms"
                alive = 2
                [drain]
                timeout = "2m30s"
                [restart]
                backoff = "0.5s"
                [park]
                ttl = "1d"
                """);
    assertThat(config.readiness().timeout()).isEqualTo(Duration.ofMillis(1500));
    assertThat(config.readiness().alive()).isEqualTo(Duration.ofSeconds(2));
    assertThat(config.drain().timeout()).isEqualTo(Duration.ofSeconds(150));
    assertThat(config.restart().initial()).isEqualTo(Duration.ofMillis(500));
    assertThat(config.park().ttl()).isEqualTo(Duration.ofDays(1));
  }

  @Test
  void aDurationOfZeroOrBeyondTenYearsNamesTheKeyAndTheLine() {
    assertThatThrownBy(() -> parse(BASE + "[drain]\ntimeout = \"0s\"\n"))
        .hasMessage("/srv/app/baton.toml:6: [drain] timeout must be longer than zero");
    assertThatThrownBy(() -> parse(BASE + "[drain]\ntimeout = \"3651d\"\n"))
        .hasMessageStartingWith(
            "/srv/app/baton.toml:6: [drain] timeout '3651d' is longer than any duration baton can wait");
    assertThatThrownBy(() -> parse(BASE + "[drain]\ntimeout = true\n"))
        .hasMessage(
            "/srv/app/baton.toml:6: [drain] timeout must be a duration in quotes, e.g. \"10s\"");
  }

  @Test
  void atMostTwoGenerationsDrainAtOnceByDefaultAndTheOldestAreHurriedIn5s() {
    var drain = parse(BASE).drain();
    assertThat(drain.maxDraining()).isEqualTo(2);
    assertThat(drain.hurry()).isEqualTo(Duration.ofSeconds(5));
    var set =
        parse(BASE + "[drain]\ntimeout = \"1h\"\nmax_draining = 5\nhurry = \"30s\"\n").drain();
    assertThat(set.timeout()).isEqualTo(Duration.ofHours(1));
    assertThat(set.maxDraining()).isEqualTo(5);
    assertThat(set.hurry()).isEqualTo(Duration.ofSeconds(30));
    assertThat(parse(BASE + "[drain]\nmax_draining = 1\n").drain().maxDraining()).isEqualTo(1);
  }

  @Test
  void aMaxDrainingBelowOneOrAHurryOfNothingNamesTheKeyAndTheLine() {
    assertThatThrownBy(() -> parse(BASE + "[drain]\nmax_draining = 0\n"))
        .hasMessage(
            "/srv/app/baton.toml:6: [drain] max_draining must be at least 1: the generations left"
                + " to drain at once (older ones are hurried)");
    assertThatThrownBy(() -> parse(BASE + "[drain]\nmax_draining = -3\n"))
        .hasMessageContaining("[drain] max_draining must be at least 1");
    assertThatThrownBy(() -> parse(BASE + "[drain]\nmax_draining = \"2\"\n"))
        .hasMessage("/srv/app/baton.toml:6: [drain] max_draining must be a whole number");
    assertThatThrownBy(() -> parse(BASE + "[drain]\nmax_draining = 2.5\n"))
        .hasMessage("/srv/app/baton.toml:6: [drain] max_draining must be a whole number");
    assertThatThrownBy(() -> parse(BASE + "[drain]\nhurry = \"0s\"\n"))
        .hasMessage("/srv/app/baton.toml:6: [drain] hurry must be longer than zero");
    assertThatThrownBy(() -> parse(BASE + "[drain]\nhurry = \"soon\"\n"))
        .hasMessageStartingWith("/srv/app/baton.toml:6: [drain] hurry 'soon' is not a duration");
    assertThatThrownBy(() -> parse(BASE + "[drain]\nmax_drainig = 2\n"))
        .hasMessageContaining("unknown key 'max_drainig' in [drain]; did you mean 'max_draining'?");
  }

  @Test
  void withoutLogsTheGenerationsOutputStaysInTheSupervisorsLog() {
    var logs = parse("[app]\ncommand = [\"x\"]\n[[listen]]\naddress = \"127.0.0.1:1\"\n").logs();
    assertThat(logs.file()).isEmpty();
    assertThat(logs.maxSize()).isEqualTo(100L << 20);
    assertThat(logs.rotateEvery()).isEmpty();
    assertThat(logs.keep()).isEqualTo(5);
    assertThat(logs.json()).isFalse();
  }

  @Test
  void logsTakeAFileBesideTheConfigASizeAnAgeAndACount() {
    var logs =
        parse(
                """
        [app]
        command = ["x"]
        [[listen]]
        address = "127.0.0.1:1"
        [logs]
        file = "log/app.log"
        max_size = "512KB"
        rotate_every = "1d"
        keep = 12
        json = true
        """)
            .logs();
    assertThat(logs.file()).contains(Path.of("/srv/app/log/app.log"));
    assertThat(logs.maxSize()).isEqualTo(512L << 10);
    assertThat(logs.rotateEvery()).contains(Duration.ofDays(1));
    assertThat(logs.keep()).isEqualTo(12);
    assertThat(logs.json()).isTrue();
  }

  @Test
  void aLogSizeThatIsNoSizeNamesTheKeyAndTheLine() {
    assertThatThrownBy(
            () ->
                parse(
                    "[app]\ncommand = [\"x\"]\n[[listen]]\naddress = \"127.0.0.1:1\"\n[logs]\nmax_size = \"lots\"\n"))
        .hasMessage(
            "/srv/app/baton.toml:6: [logs] max_size 'lots' is not a size; write a whole number and a unit"
                + " (KB, MB or GB, powers of 1024; KiB, MiB, GiB alike), e.g. \"100MB\", \"512KB\" or \"1GB\";"
                + " a bare number is bytes");
    assertThatThrownBy(
            () ->
                parse(
                    "[app]\ncommand = [\"x\"]\n[[listen]]\naddress = \"127.0.0.1:1\"\n[logs]\nkeep = 0\n"))
        .hasMessage("/srv/app/baton.toml:6: [logs] keep must be from 1 to 1000 rotated files");
  }

  private static final String BASE =
      "[app]\ncommand = [\"x\"]\n[[listen]]\naddress = \"127.0.0.1:1\"\n";

  @Test
  void aRemoteApiRunsTheConfiguredCommandWithNoEnvAndNoInsecureByDefault() {
    var remote = parse(BASE + "[remote]\ntoken_file = \"token\"\n").remote().orElseThrow();
    assertThat(remote.allowArgv()).isFalse();
    assertThat(remote.allowEnv()).isEmpty();
    assertThat(remote.insecure()).isFalse();
    assertThat(remote.tokenFile()).isEqualTo(Path.of("/srv/app/token"));
  }

  @Test
  void aRemoteApiCanAllowArgvSomeEnvKeysAndPlainHttp() {
    var remote =
        parse(
                BASE
                    + "[remote]\ntoken_file = \"token\"\nallow_argv = true\nallow_env = [\"LOG_LEVEL\", \"FEATURE_X\"]\n"
                    + "insecure = true\n")
            .remote()
            .orElseThrow();
    assertThat(remote.allowArgv()).isTrue();
    assertThat(remote.allowEnv()).containsExactly("LOG_LEVEL", "FEATURE_X");
    assertThat(remote.insecure()).isTrue();
  }

  @Test
  void anAllowEnvEntryThatIsNoVariableNameNamesTheKeyAndTheLine() {
    assertThatThrownBy(
            () -> parse(BASE + "[remote]\ntoken_file = \"token\"\nallow_env = [\"A=B\"]\n"))
        .hasMessage(
            "/srv/app/baton.toml:7: [remote] allow_env must list environment variable names such as [\"LOG_LEVEL\"], not 'A=B'");
    assertThatThrownBy(
            () -> parse(BASE + "[remote]\ntoken_file = \"token\"\nallow_argv = \"yes\"\n"))
        .hasMessage("/srv/app/baton.toml:7: [remote] allow_argv must be true or false");
  }

  @Test
  void metricsAreOffUnlessTheirTableIsThereAndThenOnLoopback() {
    assertThat(parse(BASE).metrics()).isEmpty();
    assertThat(parse(BASE + "[metrics]\n").metrics().orElseThrow().address())
        .isEqualTo(new java.net.InetSocketAddress("127.0.0.1", 9187));
    assertThat(
            parse(BASE + "[metrics]\naddress = \"0.0.0.0:9100\"\n")
                .metrics()
                .orElseThrow()
                .address())
        .isEqualTo(new java.net.InetSocketAddress("0.0.0.0", 9100));
    assertThatThrownBy(() -> parse(BASE + "[metrics]\nadress = \"127.0.0.1:1\"\n"))
        .hasMessageContaining("unknown key 'adress' in [metrics]; did you mean 'address'?");
  }

  @Test
  void theRemoteExampleParsesWithTlsAndNoArgv() {
    var remote = Config.load(Path.of("../examples/remote.toml")).remote().orElseThrow();
    assertThat(remote.allowArgv()).isFalse();
    assertThat(remote.allowEnv()).containsExactly("LOG_LEVEL");
    assertThat(remote.insecure()).isFalse();
    assertThat(remote.tlsKeystore()).contains(Path.of("/etc/baton/remote.p12"));
  }

  @Test
  void aServicesSocketDefaultsToItsRuntimeDirectoryUnlessTheFileNamesOne(@TempDir Path dir)
      throws Exception {
    var file = dir.resolve("shop.toml");
    var runtime = Path.of("/run/baton/shop/baton.sock");
    var minimal =
        "[app]\ncommand = [\"./server\"]\n[[listen]]\nname = \"http\"\naddress = \"127.0.0.1:8080\"\n";
    Files.writeString(file, minimal);
    assertThat(Config.load(file, runtime).control().socket()).isEqualTo(runtime);
    assertThat(Config.load(file).control().socket()).isEqualTo(dir.resolve("baton.sock"));

    Files.writeString(file, minimal + "[control]\nsocket = \"/tmp/own.sock\"\n");
    assertThat(Config.load(file, runtime).control().socket()).isEqualTo(Path.of("/tmp/own.sock"));
  }
}
