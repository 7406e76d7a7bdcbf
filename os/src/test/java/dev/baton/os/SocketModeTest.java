package dev.baton.os;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A control socket's mode is set on the socket before bind, never by a chmod of its path. */
class SocketModeTest {
  @TempDir Path dir;

  private static String modeOf(Path path) throws Exception {
    return PosixFilePermissions.toString(
        Files.getPosixFilePermissions(path, LinkOption.NOFOLLOW_LINKS));
  }

  @Test
  void aSocketRestrictedBeforeBindIsCreatedWithThatModeAndAPlainOneIsNot() throws Exception {
    var restricted = dir.resolve("restricted.sock");
    var plain = dir.resolve("plain.sock");
    int a = Libc.socket(Libc.AF_UNIX, Libc.SOCK_STREAM | Libc.SOCK_CLOEXEC, "socket");
    int b = Libc.socket(Libc.AF_UNIX, Libc.SOCK_STREAM | Libc.SOCK_CLOEXEC, "socket");
    try (var arena = Arena.ofConfined()) {
      LinuxUnixListener.restrictBeforeBind(a, 0600, restricted);
      Libc.bind(a, Sockaddr.unix(arena, restricted.toString()), "bind");
      Libc.bind(b, Sockaddr.unix(arena, plain.toString()), "bind");
      assertThat(modeOf(restricted)).isEqualTo("rw-------");
      // Without it the file has 0777 less the umask (022 or 002 on most systems): others may
      // connect.
      assertThat(modeOf(plain)).isNotEqualTo("rw-------").startsWith("rwx");
    } finally {
      Libc.close(a);
      Libc.close(b);
    }
  }
}
