package dev.baton.os;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * struct sockaddr_in, sockaddr_in6 and sockaddr_un, built in native memory. Ports and addresses are
 * in network byte order; the family is in host order.
 */
final class Sockaddr {
  private Sockaddr() {}

  /** sockaddr_in: family@0, port@2, addr@4, zero[8]@8. */
  private static final long IN_SIZE = 16;

  /** sockaddr_in6: family@0, port@2, flowinfo@4, addr[16]@8, scope_id@24. */
  private static final long IN6_SIZE = 28;

  /** sockaddr_un: family@0, path[108]@2. */
  private static final long UN_PATH = 2;

  private static final long UN_PATH_MAX = 108;

  /** sockaddr_storage: big enough for any family. */
  static final long STORAGE_SIZE = 128;

  private static final ValueLayout.OfShort NET_SHORT = JAVA_SHORT.withOrder(ByteOrder.BIG_ENDIAN);

  static MemorySegment inet(Arena arena, InetSocketAddress address) {
    var host = address.getAddress();
    var bytes = host.getAddress();
    if (host instanceof Inet4Address) {
      var sa = arena.allocate(IN_SIZE, 4);
      sa.set(JAVA_SHORT, 0, (short) Libc.AF_INET);
      sa.set(NET_SHORT, 2, (short) address.getPort());
      MemorySegment.copy(bytes, 0, sa, JAVA_BYTE, 4, 4);
      return sa;
    }
    var sa = arena.allocate(IN6_SIZE, 4);
    sa.set(JAVA_SHORT, 0, (short) Libc.AF_INET6);
    sa.set(NET_SHORT, 2, (short) address.getPort());
    MemorySegment.copy(bytes, 0, sa, JAVA_BYTE, 8, 16);
    sa.set(JAVA_INT, 24, ((Inet6Address) host).getScopeId());
    return sa;
  }

  /**
   * sockaddr_un for a path, or for a name in the abstract namespace when it starts with '@': there
   * sun_path[0] is NUL and the length counts exactly the name's bytes, with no trailing NUL.
   */
  static MemorySegment unix(Arena arena, String address) {
    boolean isAbstract = address.startsWith("@");
    var name = (isAbstract ? address.substring(1) : address).getBytes(StandardCharsets.UTF_8);
    // A path needs room for its NUL terminator; an abstract name needs room for the leading NUL.
    if (name.length + 1 > UN_PATH_MAX) {
      throw new IllegalArgumentException(
          "unix socket address '"
              + address
              + "' is longer than the kernel's limit of "
              + (UN_PATH_MAX - 1)
              + " bytes");
    }
    long length = UN_PATH + (isAbstract ? 1 + name.length : name.length + 1);
    var sa = arena.allocate(length, 2);
    sa.set(JAVA_SHORT, 0, (short) Libc.AF_UNIX);
    MemorySegment.copy(name, 0, sa, JAVA_BYTE, UN_PATH + (isAbstract ? 1 : 0), name.length);
    return sa; // the allocation is zeroed, so the NUL is already there
  }

  /** Decodes what getsockname wrote; throws for families other than IPv4 and IPv6. */
  static InetSocketAddress decodeInet(MemorySegment sa, String what) {
    int family = sa.get(JAVA_SHORT, 0);
    int port = Short.toUnsignedInt(sa.get(NET_SHORT, 2));
    try {
      if (family == Libc.AF_INET) {
        var bytes = sa.asSlice(4, 4).toArray(JAVA_BYTE);
        return new InetSocketAddress(InetAddress.getByAddress(bytes), port);
      }
      if (family == Libc.AF_INET6) {
        var bytes = sa.asSlice(8, 16).toArray(JAVA_BYTE);
        int scope = sa.get(JAVA_INT, 24);
        // Scope 0 means none; passing it on would print as "::1%0".
        var host =
            scope == 0
                ? InetAddress.getByAddress(bytes)
                : Inet6Address.getByAddress(null, bytes, scope);
        return new InetSocketAddress(host, port);
      }
    } catch (UnknownHostException e) {
      throw new IllegalStateException(
          "kernel returned a malformed address", e); // lengths are fixed above
    }
    throw new IllegalArgumentException(
        what + " is not a TCP socket (address family " + family + ")");
  }
}
