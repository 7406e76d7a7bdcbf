package dev.baton.cli;

import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/** A command's tests against a fake supervisor, at the socket a fresh baton.toml names. */
abstract class AgainstFakeSupervisor {
  @TempDir Path dir;

  /** The baton.toml's path, for {@code -c}. */
  String config;

  FakeSupervisor supervisor;

  @BeforeEach
  void startFakeSupervisor() {
    config = Cli.config(dir).toString();
    supervisor = FakeSupervisor.at(dir.resolve("baton.sock"));
  }

  @AfterEach
  void stopFakeSupervisor() throws Exception {
    supervisor.close();
  }
}
