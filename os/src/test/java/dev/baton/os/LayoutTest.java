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

  /** offsetof(union bpf_attr, ...) as gcc computes it from linux-libc-dev 6.1's linux/bpf.h. */
  @Test
  void bpfAttrsMatchTheKernelLayout() {
    assertThat(LibcBpf.MAP_CREATE_ATTR.byteSize()).isEqualTo(44);
    assertThat(LibcBpf.offset(LibcBpf.MAP_CREATE_ATTR, "max_entries")).isEqualTo(12);
    assertThat(LibcBpf.offset(LibcBpf.MAP_CREATE_ATTR, "map_name")).isEqualTo(28);
    assertThat(LibcBpf.ELEM_ATTR.byteSize()).isEqualTo(32);
    assertThat(LibcBpf.offset(LibcBpf.ELEM_ATTR, "key")).isEqualTo(8);
    assertThat(LibcBpf.offset(LibcBpf.ELEM_ATTR, "value")).isEqualTo(16);
    assertThat(LibcBpf.offset(LibcBpf.ELEM_ATTR, "flags")).isEqualTo(24);
    assertThat(LibcBpf.PROG_LOAD_ATTR.byteSize()).isEqualTo(72);
    assertThat(LibcBpf.offset(LibcBpf.PROG_LOAD_ATTR, "license")).isEqualTo(16);
    assertThat(LibcBpf.offset(LibcBpf.PROG_LOAD_ATTR, "log_buf")).isEqualTo(32);
    assertThat(LibcBpf.offset(LibcBpf.PROG_LOAD_ATTR, "prog_name")).isEqualTo(48);
    assertThat(LibcBpf.offset(LibcBpf.PROG_LOAD_ATTR, "expected_attach_type")).isEqualTo(68);
  }

  /** struct bpf_insn: code, then dst_reg in the low nibble and src_reg in the high one. */
  @Test
  void steeringProgramIsEncodedAsTheKernelReadsIt() {
    var program = java.nio.ByteBuffer.wrap(LibcBpf.steeringProgram(0x1234));
    program.order(java.nio.ByteOrder.LITTLE_ENDIAN);
    assertThat(program.capacity()).isEqualTo(11 * 8);
    assertThat(program.getLong(0)).isEqualTo(0x0000_0000_0000_16bfL); // r6 = r1
    assertThat(program.getLong(8)).isEqualTo(0x0000_0000_fffc_0a62L); // *(u32 *)(r10 - 4) = 0
    assertThat(program.getLong(24)).isEqualTo(0x0000_1234_0000_1218L); // r2 = map fd, pseudo
    assertThat(program.getLong(32)).isZero(); // ld_imm64's second slot
    assertThat(program.getLong(48)).isEqualTo(0xffff_fffc_0000_0307L); // r3 += -4
    assertThat(program.getLong(64)).isEqualTo(0x0000_0052_0000_0085L); // call 82
    assertThat(program.getLong(72)).isEqualTo(0x0000_0001_0000_00b7L); // r0 = 1
    assertThat(program.getLong(80)).isEqualTo(0x0000_0000_0000_0095L); // exit
  }

  @Test
  void errnoBecomesItsNameAndDescription() {
    var e = Native.error("bind(127.0.0.1:8080)", Libc.EADDRINUSE);

    assertThat(e).hasMessage("bind(127.0.0.1:8080) failed: EADDRINUSE (Address already in use)");
    assertThat(e.errno()).isEqualTo(98);
  }
}
