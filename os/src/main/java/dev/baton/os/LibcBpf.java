package dev.baton.os;

import static dev.baton.os.Native.check;
import static dev.baton.os.Native.checkOr;
import static dev.baton.os.Native.variadicErrnoCall;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemoryLayout.PathElement;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.OptionalLong;

/**
 * bpf(2), which glibc does not wrap, through syscall(2): just what {@link LinuxSteering} needs to
 * steer a SO_REUSEPORT group. No libbpf and no compiler: the program is assembled here, ten
 * instructions by hand.
 *
 * <p>Constants and layouts are those of the kernel's include/uapi/linux/bpf.h, bpf_common.h and
 * asm-generic/socket.h, and asm/unistd_64.h on x86-64 (offsets checked with gcc's offsetof against
 * linux-libc-dev 6.1; see LayoutTest). union bpf_attr grows at its end from release to release; the
 * kernel reads the size we pass and takes every field after it as zero, so each command passes only
 * the struct it uses, up to its last field.
 */
final class LibcBpf {
  private LibcBpf() {}

  // asm/unistd_64.h
  private static final long SYS_BPF = 321;

  // linux/bpf.h: enum bpf_cmd
  private static final int BPF_MAP_CREATE = 0;
  private static final int BPF_MAP_LOOKUP_ELEM = 1;
  private static final int BPF_MAP_UPDATE_ELEM = 2;
  private static final int BPF_PROG_LOAD = 5;

  // linux/bpf.h: enum bpf_map_type, enum bpf_prog_type, enum bpf_attach_type, update flags
  private static final int BPF_MAP_TYPE_REUSEPORT_SOCKARRAY = 20;
  private static final int BPF_PROG_TYPE_SK_REUSEPORT = 21;
  private static final int BPF_SK_REUSEPORT_SELECT_OR_MIGRATE = 40;
  private static final long BPF_ANY = 0;

  // asm-generic/socket.h
  private static final int SO_ATTACH_REUSEPORT_EBPF = 52;
  private static final int SO_COOKIE = 57;

  // errno values bpf(2) answers with (asm-generic/errno-base.h, errno.h)
  static final int EPERM = 1;
  static final int EBUSY = 16;

  /** BPF_OBJ_NAME_LEN: map_name and prog_name, NUL included. */
  private static final int OBJ_NAME_LEN = 16;

  /** union bpf_attr for BPF_MAP_CREATE, up to map_name. */
  static final StructLayout MAP_CREATE_ATTR =
      MemoryLayout.structLayout(
          JAVA_INT.withName("map_type"),
          JAVA_INT.withName("key_size"),
          JAVA_INT.withName("value_size"),
          JAVA_INT.withName("max_entries"),
          JAVA_INT.withName("map_flags"),
          JAVA_INT.withName("inner_map_fd"),
          JAVA_INT.withName("numa_node"),
          MemoryLayout.sequenceLayout(OBJ_NAME_LEN, JAVA_BYTE).withName("map_name"));

  /** union bpf_attr for BPF_MAP_*_ELEM: key and value are __aligned_u64 pointers. */
  static final StructLayout ELEM_ATTR =
      MemoryLayout.structLayout(
          JAVA_INT.withName("map_fd"),
          MemoryLayout.paddingLayout(4),
          ADDRESS.withName("key"),
          ADDRESS.withName("value"),
          JAVA_LONG.withName("flags"));

  /** union bpf_attr for BPF_PROG_LOAD, up to expected_attach_type. */
  static final StructLayout PROG_LOAD_ATTR =
      MemoryLayout.structLayout(
          JAVA_INT.withName("prog_type"),
          JAVA_INT.withName("insn_cnt"),
          ADDRESS.withName("insns"),
          ADDRESS.withName("license"),
          JAVA_INT.withName("log_level"),
          JAVA_INT.withName("log_size"),
          ADDRESS.withName("log_buf"),
          JAVA_INT.withName("kern_version"),
          JAVA_INT.withName("prog_flags"),
          MemoryLayout.sequenceLayout(OBJ_NAME_LEN, JAVA_BYTE).withName("prog_name"),
          JAVA_INT.withName("prog_ifindex"),
          JAVA_INT.withName("expected_attach_type"));

  /** The verifier's log: ample for ten instructions, whose log on success is a few lines. */
  private static final int LOG_SIZE = 64 * 1024;

  /** How much of a refusing verifier's log goes into the exception: its verdict is at the end. */
  private static final int LOG_LINES = 8;

  /** PROG_LOAD fails with EAGAIN when a signal interrupts the verifier; libbpf tries 5 times. */
  private static final int LOAD_ATTEMPTS = 5;

  /** long syscall(long number, ...): the bpf arguments are variadic and read as longs. */
  private static final MethodHandle SYSCALL =
      variadicErrnoCall("syscall", 1, JAVA_LONG, JAVA_LONG, JAVA_LONG, ADDRESS, JAVA_LONG);

  static long offset(StructLayout layout, String field) {
    return layout.byteOffset(PathElement.groupElement(field));
  }

  private static Native.ErrnoCall bpf(int command, MemorySegment attr) {
    return e -> (long) SYSCALL.invokeExact(e, SYS_BPF, (long) command, attr, attr.byteSize());
  }

  private static void setName(MemorySegment attr, long offset, String name) {
    var bytes = name.getBytes(StandardCharsets.US_ASCII);
    MemorySegment.copy(bytes, 0, attr, JAVA_BYTE, offset, Math.min(bytes.length, OBJ_NAME_LEN - 1));
  }

  /**
   * A BPF_MAP_TYPE_REUSEPORT_SOCKARRAY of one slot, key u32 0, value a socket's fd (u64, so that a
   * lookup answers with the socket's cookie). Named "baton" for bpftool; close-on-exec, as bpf(2)
   * makes every descriptor it returns.
   */
  static int createSocketArray(String what) {
    try (var arena = Arena.ofConfined()) {
      var attr = arena.allocate(MAP_CREATE_ATTR);
      attr.set(JAVA_INT, offset(MAP_CREATE_ATTR, "map_type"), BPF_MAP_TYPE_REUSEPORT_SOCKARRAY);
      attr.set(JAVA_INT, offset(MAP_CREATE_ATTR, "key_size"), 4);
      attr.set(JAVA_INT, offset(MAP_CREATE_ATTR, "value_size"), 8);
      attr.set(JAVA_INT, offset(MAP_CREATE_ATTR, "max_entries"), 1);
      setName(attr, offset(MAP_CREATE_ATTR, "map_name"), "baton");
      return (int) check(what, bpf(BPF_MAP_CREATE, attr));
    }
  }

  /**
   * BPF_MAP_UPDATE_ELEM, BPF_ANY: slot 0 of {@code map} holds the listening socket {@code fd} from
   * now on. The kernel takes only a socket that listens in a SO_REUSEPORT group (EINVAL otherwise),
   * and only one that no socket array holds yet (EBUSY), this one's slot included.
   */
  static void putSocket(int map, int fd, String what) {
    try (var arena = Arena.ofConfined()) {
      var key = arena.allocateFrom(JAVA_INT, 0);
      var value = arena.allocateFrom(JAVA_LONG, fd);
      var attr = arena.allocate(ELEM_ATTR);
      attr.set(JAVA_INT, offset(ELEM_ATTR, "map_fd"), map);
      attr.set(ADDRESS, offset(ELEM_ATTR, "key"), key);
      attr.set(ADDRESS, offset(ELEM_ATTR, "value"), value);
      attr.set(JAVA_LONG, offset(ELEM_ATTR, "flags"), BPF_ANY);
      check(what, bpf(BPF_MAP_UPDATE_ELEM, attr));
    }
  }

  /**
   * BPF_MAP_LOOKUP_ELEM of slot 0: the cookie (SO_COOKIE) of the socket it holds, or empty when it
   * holds none (ENOENT), as when that socket was closed.
   */
  static OptionalLong socketCookieInSlot(int map, String what) {
    try (var arena = Arena.ofConfined()) {
      var key = arena.allocateFrom(JAVA_INT, 0);
      var value = arena.allocate(JAVA_LONG);
      var attr = arena.allocate(ELEM_ATTR);
      attr.set(JAVA_INT, offset(ELEM_ATTR, "map_fd"), map);
      attr.set(ADDRESS, offset(ELEM_ATTR, "key"), key);
      attr.set(ADDRESS, offset(ELEM_ATTR, "value"), value);
      return Native.checkUnless(Libc.ENOENT, what, bpf(BPF_MAP_LOOKUP_ELEM, attr)) == -1
          ? OptionalLong.empty()
          : OptionalLong.of(value.get(JAVA_LONG, 0));
    }
  }

  /** SO_COOKIE: the number the kernel gave the socket, unique until reboot. */
  static long socketCookie(int fd, String what) {
    try (var arena = Arena.ofConfined()) {
      var cookie = arena.allocate(JAVA_LONG);
      Libc.getsockopt(fd, Libc.SOL_SOCKET, SO_COOKIE, cookie, what);
      return cookie.get(JAVA_LONG, 0);
    }
  }

  /** SO_ATTACH_REUSEPORT_EBPF: {@code program} now picks the listener for the whole group. */
  static void attachToGroup(int fd, int program, String what) {
    Libc.setsockopt(fd, Libc.SOL_SOCKET, SO_ATTACH_REUSEPORT_EBPF, program, what);
  }

  /**
   * Loads the steering program for {@code map}: a BPF_PROG_TYPE_SK_REUSEPORT program, attach type
   * BPF_SK_REUSEPORT_SELECT_OR_MIGRATE, so that the kernel runs it also for the connections queued
   * on a listener that closes, and moves them to the selected one instead of resetting them. That
   * attach type came with Linux 5.14; an older kernel refuses the program with EINVAL.
   *
   * @throws NativeException naming the call; when the verifier refused, its message ends with the
   *     last lines of the verifier's log
   */
  static int loadSteeringProgram(int map, String what) {
    try (var arena = Arena.ofConfined()) {
      var insns = arena.allocateFrom(JAVA_BYTE, steeringProgram(map));
      var log = arena.allocate(LOG_SIZE);
      var attr = arena.allocate(PROG_LOAD_ATTR);
      attr.set(JAVA_INT, offset(PROG_LOAD_ATTR, "prog_type"), BPF_PROG_TYPE_SK_REUSEPORT);
      attr.set(JAVA_INT, offset(PROG_LOAD_ATTR, "insn_cnt"), (int) (insns.byteSize() / INSN_SIZE));
      attr.set(ADDRESS, offset(PROG_LOAD_ATTR, "insns"), insns);
      attr.set(ADDRESS, offset(PROG_LOAD_ATTR, "license"), arena.allocateFrom("GPL"));
      attr.set(JAVA_INT, offset(PROG_LOAD_ATTR, "log_level"), 1);
      attr.set(JAVA_INT, offset(PROG_LOAD_ATTR, "log_size"), LOG_SIZE);
      attr.set(ADDRESS, offset(PROG_LOAD_ATTR, "log_buf"), log);
      setName(attr, offset(PROG_LOAD_ATTR, "prog_name"), "baton_steer");
      attr.set(
          JAVA_INT,
          offset(PROG_LOAD_ATTR, "expected_attach_type"),
          BPF_SK_REUSEPORT_SELECT_OR_MIGRATE);
      try {
        for (int attempt = 1; ; attempt++) {
          long fd = checkOr(LibcEvents.EAGAIN, Native.NO_ERRNO, what, bpf(BPF_PROG_LOAD, attr));
          if (fd >= 0) {
            return (int) fd;
          }
          if (attempt == LOAD_ATTEMPTS) {
            throw Native.error(what, LibcEvents.EAGAIN);
          }
        }
      } catch (NativeException e) {
        var tail = lastLines(log.getString(0), LOG_LINES);
        throw tail.isEmpty() ? e : e.withDetail("verifier log: " + tail);
      }
    }
  }

  /** The last {@code count} non-blank lines of {@code text}, joined with " | ". */
  static String lastLines(String text, int count) {
    var lines = Arrays.stream(text.split("\n")).filter(line -> !line.isBlank()).toList();
    return String.join(" | ", lines.subList(Math.max(0, lines.size() - count), lines.size()));
  }

  // ---- The program ----------------------------------------------------------------------------
  // struct bpf_insn (linux/bpf.h): u8 code; u8 dst_reg:4 (low nibble), src_reg:4; s16 off; s32 imm.
  // Opcodes are class | size or op | mode or source, from linux/bpf_common.h and linux/bpf.h.

  private static final int INSN_SIZE = 8;

  private static final int BPF_LD = 0x00;
  private static final int BPF_ST = 0x02;
  private static final int BPF_JMP = 0x05;
  private static final int BPF_ALU64 = 0x07;
  private static final int BPF_W = 0x00;
  private static final int BPF_DW = 0x18;
  private static final int BPF_IMM = 0x00;
  private static final int BPF_MEM = 0x60;
  private static final int BPF_ADD = 0x00;
  private static final int BPF_MOV = 0xb0;
  private static final int BPF_CALL = 0x80;
  private static final int BPF_EXIT = 0x90;
  private static final int BPF_K = 0x00;
  private static final int BPF_X = 0x08;

  /** ld_imm64's src_reg when its immediate is a map's fd, which the verifier turns into the map. */
  private static final int BPF_PSEUDO_MAP_FD = 1;

  /** BPF_FUNC_sk_select_reuseport: its number in linux/bpf.h's __BPF_FUNC_MAPPER. */
  private static final int BPF_FUNC_SK_SELECT_REUSEPORT = 82;

  /** SK_PASS: enum sk_action. */
  private static final int SK_PASS = 1;

  private static final int R0 = 0;
  private static final int R1 = 1;
  private static final int R2 = 2;
  private static final int R3 = 3;
  private static final int R4 = 4;
  private static final int R6 = 6;
  private static final int R10 = 10;

  /**
   * The program, for {@code map}'s fd. r1 is the struct sk_reuseport_md; key 0 goes on the stack,
   * since a helper takes a map key only by pointer to it. When slot 0 is empty the helper fails and
   * the program still answers SK_PASS, with no socket selected: the kernel then picks one of the
   * group by its hash, as it would without a program.
   */
  static byte[] steeringProgram(int map) {
    var program = ByteBuffer.allocate(11 * INSN_SIZE).order(ByteOrder.LITTLE_ENDIAN);
    insn(program, BPF_ALU64 | BPF_MOV | BPF_X, R6, R1, 0, 0); // r6 = r1
    insn(program, BPF_ST | BPF_MEM | BPF_W, R10, 0, -4, 0); // *(u32 *)(r10 - 4) = 0
    insn(program, BPF_ALU64 | BPF_MOV | BPF_X, R1, R6, 0, 0); // r1 = r6
    insn(program, BPF_LD | BPF_DW | BPF_IMM, R2, BPF_PSEUDO_MAP_FD, 0, map); // r2 = map, 2 slots
    insn(program, 0, 0, 0, 0, 0); // ld_imm64's upper half: 0
    insn(program, BPF_ALU64 | BPF_MOV | BPF_X, R3, R10, 0, 0); // r3 = r10
    insn(program, BPF_ALU64 | BPF_ADD | BPF_K, R3, 0, 0, -4); // r3 += -4: &key
    insn(program, BPF_ALU64 | BPF_MOV | BPF_K, R4, 0, 0, 0); // r4 = 0: flags
    insn(program, BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_SK_SELECT_REUSEPORT);
    insn(program, BPF_ALU64 | BPF_MOV | BPF_K, R0, 0, 0, SK_PASS); // r0 = SK_PASS
    insn(program, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
    return program.array();
  }

  private static void insn(ByteBuffer program, int code, int dst, int src, int off, int imm) {
    program.put((byte) code).put((byte) (src << 4 | dst)).putShort((short) off).putInt(imm);
  }
}
