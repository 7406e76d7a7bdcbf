package dev.baton.supervisor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The token file's checks; the API itself runs in the end-to-end scenarios, against a real `baton run`. */
class RemoteApiTest {
  @TempDir Path dir;

  private Path token(String text, String mode) throws Exception {
    var file = dir.resolve("token");
    Files.writeString(file, text);
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString(mode));
    return file;
  }

  @Test
  void aTokenFileReadableByItsOwnerOnlyIsRead() throws Exception {
    assertThat(RemoteApi.secret(token("s3cret\n", "rw-------"), "[remote] token_file", dir.resolve("baton.toml"))).isEqualTo("s3cret");
  }

  @Test
  void aTokenFileOthersCanReadStopsTheSupervisorWithTheFix() throws Exception {
    var file = token("s3cret", "rw-r--r--");

    assertThatThrownBy(() -> RemoteApi.secret(file, "[remote] token_file", dir.resolve("baton.toml")))
        .isInstanceOf(StartException.class)
        .hasMessageContaining("is mode 0644, so other users can read it")
        .hasMessageContaining("chmod 600 " + file);
  }

  @Test
  void anEmptyTokenFileIsRefused() throws Exception {
    assertThatThrownBy(() -> RemoteApi.secret(token("\n", "rw-------"), "[remote] token_file", dir.resolve("baton.toml")))
        .hasMessageContaining("is empty");
  }

  @Test
  void aMissingTokenFileSaysHowToMakeOne() {
    assertThatThrownBy(() -> RemoteApi.secret(dir.resolve("nope"), "[remote] token_file", dir.resolve("baton.toml")))
        .hasMessageContaining("does not exist; create it");
  }
}
