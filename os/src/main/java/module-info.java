/**
 * The os seam: every system call the supervisor makes (sockets, fds, processes, pidfds, epoll,
 * credentials), through the JDK's FFM API with no native library, behind the {@link
 * dev.baton.os.Os} interface that unit tests fake.
 */
module dev.baton.os {
  requires static org.jspecify;

  exports dev.baton.os;
}
