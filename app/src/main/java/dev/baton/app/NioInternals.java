package dev.baton.app;

import java.io.FileDescriptor;
import java.io.IOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.net.ProtocolFamily;
import java.net.StandardProtocolFamily;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.spi.SelectorProvider;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * The one place that reaches into {@code sun.nio.ch}, to make a {@link ServerSocketChannel} of an
 * inherited fd number the way {@code sun.nio.ch.InheritedChannel} does for fd 0.
 *
 * <p>JDK 17 through 25 have the same members, with the same signatures:
 *
 * <ul>
 *   <li>{@code InheritedChannel}: private static natives {@code soType0(int)}, {@code
 *       addressFamily(int)} and {@code isConnected(int)}, which answer with the constants below;
 *   <li>{@code IOUtil.newFD(int)}: a {@code FileDescriptor} for a number;
 *   <li>{@code ServerSocketChannelImpl(SelectorProvider, ProtocolFamily, FileDescriptor, boolean
 *       bound)}: a channel on that descriptor. It only tells UNIX from the rest by the family; an
 *       inet channel is INET6 whenever IPv6 is available, which also serves IPv4 sockets.
 * </ul>
 *
 * We use {@code InheritedChannel}'s natives but not its channel class: closing that class also
 * points fds 0, 1 and 2 at /dev/null (it was made for inetd), which would silence the app's logs at
 * the moment it starts to drain.
 */
final class NioInternals {

  // InheritedChannel's own constants (not the kernel's), the same in JDK 17 and 25.
  private static final int SOCK_STREAM = 1;
  private static final int AF_INET = 1;
  private static final int AF_INET6 = 2;
  private static final int AF_UNIX = 3;

  private NioInternals() {}

  /** Whether java.base opens {@code sun.nio.ch} to this library, as adopting a fd needs. */
  static boolean available() {
    return Object.class.getModule().isOpen("sun.nio.ch", NioInternals.class.getModule());
  }

  /** The JVM flag that makes {@link #available()} true for this library where it is loaded. */
  static String flag() {
    Module module = NioInternals.class.getModule();
    return "--add-opens java.base/sun.nio.ch="
        + (module.isNamed() ? module.getName() : "ALL-UNNAMED");
  }

  /**
   * The protocol family of fd, if fd is a stream socket without a peer, which is what a listening
   * socket looks like from here; empty if it is anything else or not open.
   */
  static Optional<ProtocolFamily> listeningFamily(int fd) {
    Members m = Members.get();
    if ((int) m.call(m.soType, fd) != SOCK_STREAM || (boolean) m.call(m.isConnected, fd)) {
      return Optional.empty();
    }
    switch ((int) m.call(m.addressFamily, fd)) {
      case AF_INET:
        return Optional.of(StandardProtocolFamily.INET);
      case AF_INET6:
        return Optional.of(StandardProtocolFamily.INET6);
      case AF_UNIX:
        return Optional.of(StandardProtocolFamily.UNIX);
      default:
        return Optional.empty();
    }
  }

  /**
   * A channel that owns fd from now on: closing it closes fd. The caller checked with {@link
   * #listeningFamily} that fd is a listening socket of that family.
   */
  static ServerSocketChannel adopt(int fd, ProtocolFamily family) throws IOException {
    Members m = Members.get();
    FileDescriptor descriptor = (FileDescriptor) m.call(m.newFd, fd);
    try {
      return m.serverSocketChannel.newInstance(
          SelectorProvider.provider(), family, descriptor, /* bound= */ true);
    } catch (InvocationTargetException e) {
      if (e.getCause() instanceof IOException) {
        throw (IOException) e.getCause();
      }
      throw new IllegalStateException("baton-app: cannot adopt fd " + fd, e.getCause());
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("baton-app: cannot adopt fd " + fd, e);
    }
  }

  /** The reflected members, looked up once and only when a fd is adopted, to keep start-up lean. */
  private static final class Members {
    private static @Nullable Members instance;

    final Method soType;
    final Method addressFamily;
    final Method isConnected;
    final Method newFd;
    final Constructor<? extends ServerSocketChannel> serverSocketChannel;

    private Members() throws ReflectiveOperationException {
      Class<?> inherited = Class.forName("sun.nio.ch.InheritedChannel");
      soType = open(inherited.getDeclaredMethod("soType0", int.class));
      addressFamily = open(inherited.getDeclaredMethod("addressFamily", int.class));
      isConnected = open(inherited.getDeclaredMethod("isConnected", int.class));
      newFd = open(Class.forName("sun.nio.ch.IOUtil").getDeclaredMethod("newFD", int.class));
      serverSocketChannel =
          Class.forName("sun.nio.ch.ServerSocketChannelImpl")
              .asSubclass(ServerSocketChannel.class)
              .getDeclaredConstructor(
                  SelectorProvider.class,
                  ProtocolFamily.class,
                  FileDescriptor.class,
                  boolean.class);
      serverSocketChannel.setAccessible(true);
    }

    static synchronized Members get() {
      if (!available()) {
        throw new IllegalStateException(
            "baton-app: adopting inherited listeners needs the JVM flag " + flag());
      }
      if (instance == null) {
        try {
          instance = new Members();
        } catch (ReflectiveOperationException | RuntimeException e) {
          throw new IllegalStateException(
              "baton-app: this JDK ("
                  + Runtime.version()
                  + ") lacks the sun.nio.ch members that adopt a fd, known from JDK 17 to 25: "
                  + e,
              e);
        }
      }
      return instance;
    }

    private static Method open(Method method) {
      method.setAccessible(true);
      return method;
    }

    Object call(Method method, int fd) {
      try {
        return method.invoke(null, fd);
      } catch (InvocationTargetException e) {
        throw new IllegalStateException(
            "baton-app: " + method.getName() + "(" + fd + ") failed", e.getCause());
      } catch (IllegalAccessException e) {
        throw new IllegalStateException(e);
      }
    }
  }
}
