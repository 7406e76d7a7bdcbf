package dev.baton.os;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * struct msghdr for sendmsg/recvmsg with one data buffer, and the ancillary data baton uses:
 * SCM_RIGHTS (descriptors) and SCM_CREDENTIALS (the sender's pid, uid and gid).
 */
final class Msghdr {
  private Msghdr() {}

  /** The most descriptors one SCM_RIGHTS message may carry (SCM_MAX_FD). */
  static final int MAX_FDS = 253;

  /** A control buffer with room for credentials and a full SCM_RIGHTS message. */
  static final long RECEIVE_CONTROL_SIZE =
      Libc.cmsgSpace(Libc.UCRED.byteSize()) + Libc.cmsgSpace(4L * MAX_FDS);

  /** A msghdr with no address, {@code data} as its one iovec, and {@code control} (may be NULL). */
  static MemorySegment of(Arena arena, MemorySegment data, MemorySegment control) {
    var iov = arena.allocate(Libc.IOVEC);
    iov.set(ADDRESS, 0, data);
    iov.set(JAVA_LONG, ADDRESS.byteSize(), data.byteSize());
    var msg = arena.allocate(Libc.MSGHDR);
    msg.set(ADDRESS, Libc.MSG_IOV, iov);
    msg.set(JAVA_LONG, Libc.MSG_IOVLEN, 1);
    msg.set(ADDRESS, Libc.MSG_CONTROL, control);
    msg.set(JAVA_LONG, Libc.MSG_CONTROLLEN, control.byteSize());
    return msg;
  }

  /** One SCM_RIGHTS control message carrying {@code fds}; NULL when there are none. */
  static MemorySegment rights(Arena arena, List<Fd> fds) {
    if (fds.isEmpty()) {
      return MemorySegment.NULL;
    }
    if (fds.size() > MAX_FDS) {
      throw new IllegalArgumentException(
          "at most " + MAX_FDS + " descriptors fit in one message, not " + fds.size());
    }
    long data = 4L * fds.size();
    var control = arena.allocate(Libc.cmsgSpace(data), 8);
    control.set(JAVA_LONG, 0, Libc.cmsgLen(data));
    control.set(JAVA_INT, Libc.CMSG_LEVEL, Libc.SOL_SOCKET);
    control.set(JAVA_INT, Libc.CMSG_TYPE, Libc.SCM_RIGHTS);
    for (int i = 0; i < fds.size(); i++) {
      control.set(JAVA_INT, Libc.cmsgLen(0) + 4L * i, fds.get(i).value());
    }
    return control;
  }

  /** What recvmsg left in a control buffer: descriptors, and the sender if SO_PASSCRED is on. */
  record Ancillary(List<Fd> fds, Optional<PeerCredentials> sender) {}

  /**
   * Walks the control messages recvmsg wrote into {@code control} (it set msg_controllen to their
   * total length). Every descriptor found is returned, so the caller can own or close it: one that
   * is dropped here would leak.
   */
  static Ancillary ancillary(MemorySegment msg, MemorySegment control) {
    long length = Math.min(msg.get(JAVA_LONG, Libc.MSG_CONTROLLEN), control.byteSize());
    var fds = new ArrayList<Fd>();
    Optional<PeerCredentials> sender = Optional.empty();
    long offset = 0;
    while (offset + Libc.cmsgLen(0) <= length) {
      long messageLength = control.get(JAVA_LONG, offset);
      if (messageLength < Libc.cmsgLen(0) || offset + messageLength > length) {
        break; // malformed or truncated: stop rather than read past the buffer
      }
      int level = control.get(JAVA_INT, offset + Libc.CMSG_LEVEL);
      int type = control.get(JAVA_INT, offset + Libc.CMSG_TYPE);
      long data = offset + Libc.cmsgLen(0);
      if (level == Libc.SOL_SOCKET && type == Libc.SCM_RIGHTS) {
        for (long at = data; at + 4 <= offset + messageLength; at += 4) {
          fds.add(new Fd(control.get(JAVA_INT, at)));
        }
      } else if (level == Libc.SOL_SOCKET && type == Libc.SCM_CREDENTIALS) {
        sender =
            Optional.of(
                new PeerCredentials(
                    control.get(JAVA_INT, data),
                    control.get(JAVA_INT, data + 4),
                    control.get(JAVA_INT, data + 8)));
      }
      offset += Libc.cmsgAlign(messageLength);
    }
    return new Ancillary(List.copyOf(fds), sender);
  }
}
