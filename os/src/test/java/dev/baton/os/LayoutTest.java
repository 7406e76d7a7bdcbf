package dev.baton.os;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The struct layouts against the sizes and offsets of Linux x86-64 headers. */
class LayoutTest {

  @Test
  void msghdrMatchesTheKernelLayout() {
    assertThat(Libc.MSGHDR.byteSize()).isEqualTo(56);
    assertThat(Libc.MSG_IOV).isEqualTo(16);
    assertThat(Libc.MSG_IOVLEN).isEqualTo(24);
    assertThat(Libc.MSG_CONTROL).isEqualTo(32);
    assertThat(Libc.MSG_CONTROLLEN).isEqualTo(40);
    assertThat(Libc.IOVEC.byteSize()).isEqualTo(16);
  }

  @Test
  void cmsgArithmeticMatchesTheMacros() {
    assertThat(Libc.cmsgLen(0)).isEqualTo(16);
    assertThat(Libc.cmsgLen(4)).isEqualTo(20); // CMSG_LEN(sizeof(int))
    assertThat(Libc.cmsgSpace(4)).isEqualTo(24); // CMSG_SPACE(sizeof(int))
    assertThat(Libc.cmsgSpace(12)).isEqualTo(32); // CMSG_SPACE(sizeof(struct ucred))
    assertThat(Libc.CMSG_LEVEL).isEqualTo(8);
    assertThat(Libc.CMSG_TYPE).isEqualTo(12);
  }

  @Test
  void errnoBecomesItsNameAndDescription() {
    var e = Native.error("bind(127.0.0.1:8080)", Libc.EADDRINUSE);

    assertThat(e).hasMessage("bind(127.0.0.1:8080) failed: EADDRINUSE (Address already in use)");
    assertThat(e.errno()).isEqualTo(98);
  }
}
