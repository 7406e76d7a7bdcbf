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

  /** x86-64 declares struct epoll_event packed: data at 4, 12 bytes, and arrays of it unpadded. */
  @Test
  void epollEventIsPackedAsOnX8664() {
    assertThat(LibcEvents.EPOLL_EVENT.byteSize()).isEqualTo(12);
    assertThat(LibcEvents.EPOLL_EVENTS).isEqualTo(0);
    assertThat(LibcEvents.EPOLL_DATA).isEqualTo(4);
    try (var arena = java.lang.foreign.Arena.ofConfined()) {
      var array = arena.allocate(LibcEvents.EPOLL_EVENT, 2);
      array.set(java.lang.foreign.ValueLayout.JAVA_INT, 12, 0x11);
      array.set(java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED, 16, 0x1234_5678_9abcL);
      assertThat(LibcEvents.epollEvents(array, 1)).isEqualTo(0x11);
      assertThat(LibcEvents.epollData(array, 1)).isEqualTo(0x1234_5678_9abcL);
    }
  }

  @Test
  void siginfoOffsetsMatchTheKernelLayout() {
    assertThat(LibcEvents.SIGINFO_CODE).isEqualTo(8);
    assertThat(LibcEvents.SIGINFO_PID).isEqualTo(16);
    assertThat(LibcEvents.SIGINFO_STATUS).isEqualTo(24);
  }

  @Test
  void errnoBecomesItsNameAndDescription() {
    var e = Native.error("bind(127.0.0.1:8080)", Libc.EADDRINUSE);

    assertThat(e).hasMessage("bind(127.0.0.1:8080) failed: EADDRINUSE (Address already in use)");
    assertThat(e.errno()).isEqualTo(98);
  }
}
