package dev.baton.os;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemoryLayout.PathElement;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/**
 * The machinery under {@link Libc}, {@link LibcSpawn} and {@link LibcEvents}: looking glibc's
 * functions up, capturing errno, retrying on EINTR, and turning an errno into a {@link
 * NativeException} that names the call.
 */
final class Native {
  private Native() {}

  private static final Linker LINKER = Linker.nativeLinker();
  private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
  private static final VarHandle ERRNO = CALL_STATE.varHandle(PathElement.groupElement("errno"));

  /**
   * Where each thread's downcalls leave errno. errno must be captured by the linker right after the
   * call: by the time Java code runs again, the JVM may have made calls of its own that change it.
   */
  private static final ThreadLocal<MemorySegment> ERRNO_SLOT =
      ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(CALL_STATE));

  private static final MethodHandle STRERRORNAME_NP =
      plainCall("strerrorname_np", ADDRESS, JAVA_INT);
  private static final MethodHandle STRERRORDESC_NP =
      plainCall("strerrordesc_np", ADDRESS, JAVA_INT);

  /** No errno is this: for {@link #checkOr} when fewer than two errnos are answers. */
  static final int NO_ERRNO = -1;

  private static MemorySegment symbol(String name) {
    return LINKER
        .defaultLookup()
        .find(name)
        .orElseThrow(
            () ->
                new UnsatisfiedLinkError(
                    "libc has no " + name + "; baton needs glibc 2.36 or later"));
  }

  /** A function that sets errno on failure; its handle takes the errno slot first. */
  static MethodHandle errnoCall(String name, MemoryLayout result, MemoryLayout... args) {
    return LINKER.downcallHandle(
        symbol(name), FunctionDescriptor.of(result, args), Linker.Option.captureCallState("errno"));
  }

  /**
   * As {@link #errnoCall}, for a variadic function whose variadic arguments start at {@code at}.
   */
  static MethodHandle variadicErrnoCall(
      String name, int at, MemoryLayout result, MemoryLayout... args) {
    return LINKER.downcallHandle(
        symbol(name),
        FunctionDescriptor.of(result, args),
        Linker.Option.captureCallState("errno"),
        Linker.Option.firstVariadicArg(at));
  }

  static MethodHandle plainCall(String name, MemoryLayout result, MemoryLayout... args) {
    return LINKER.downcallHandle(symbol(name), FunctionDescriptor.of(result, args));
  }

  /** A downcall that returns -1 and sets errno on failure; its first argument is the errno slot. */
  @FunctionalInterface
  interface ErrnoCall {
    long invoke(MemorySegment errnoSlot) throws Throwable;
  }

  /**
   * Any downcall; invokeExact declares Throwable, though a downcall throws no checked exception.
   */
  @FunctionalInterface
  interface Downcall<T> {
    T invoke() throws Throwable;
  }

  static <T> T invoke(Downcall<T> call) {
    try {
      return call.invoke();
    } catch (RuntimeException | Error e) {
      throw e;
    } catch (Throwable t) {
      throw new IllegalStateException("downcall failed", t);
    }
  }

  /** Runs {@code call}, again while it fails with EINTR; throws for any other errno. */
  static long check(String what, ErrnoCall call) {
    return checkOr(NO_ERRNO, NO_ERRNO, what, call);
  }

  /**
   * As {@link #check}, but returns -1 when it fails with {@code expected}: an answer, not an error,
   * and one that comes often enough (a group that already exited) not to build an exception for.
   */
  static long checkUnless(int expected, String what, ErrnoCall call) {
    long result = checkOr(expected, NO_ERRNO, what, call);
    return result < 0 ? -1 : result;
  }

  /**
   * As {@link #check}, but a failure with {@code first} or {@code second} returns that errno
   * negated (-EAGAIN) instead of throwing. Naming EINTR among them turns its retry off: an event
   * loop wants to see a signal, not to sleep through it. Every call wrapped here returns a count, a
   * descriptor or 0 on success, so a negative result is never a success.
   */
  static long checkOr(int first, int second, String what, ErrnoCall call) {
    var slot = ERRNO_SLOT.get();
    while (true) {
      long result = invoke(() -> call.invoke(slot));
      if (result != -1) {
        return result;
      }
      int errno = (int) ERRNO.get(slot, 0L);
      if (errno == first || errno == second) {
        return -errno;
      }
      if (errno != Libc.EINTR) {
        throw error(what, errno);
      }
    }
  }

  /** For the posix_spawn family, which return an error number rather than setting errno. */
  static void checkReturned(String what, Downcall<Integer> call) {
    int error = invoke(call);
    if (error != 0) {
      throw error(what, error);
    }
  }

  static NativeException error(String what, int errno) {
    var name = cString(invoke(() -> (MemorySegment) STRERRORNAME_NP.invokeExact(errno)));
    var description = cString(invoke(() -> (MemorySegment) STRERRORDESC_NP.invokeExact(errno)));
    return new NativeException(
        what,
        errno,
        name.isEmpty() ? "errno " + errno : name,
        description.isEmpty() ? "unknown error" : description);
  }

  /** A C string that glibc keeps for the life of the process, or "" for NULL. */
  private static String cString(MemorySegment pointer) {
    return pointer.equals(MemorySegment.NULL)
        ? ""
        : pointer.reinterpret(Long.MAX_VALUE).getString(0);
  }
}
