package dev.baton.os;

/**
 * A failed system call: which call, on what, and the errno by name, e.g. {@code sendmsg(fd=7)
 * failed: EBADF (Bad file descriptor)}. EAGAIN is never thrown; calls that may block return it.
 */
public final class NativeException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final String call;
  private final int errno;
  private final String errnoName;

  public NativeException(String call, int errno, String errnoName, String description) {
    this(call + " failed: " + errnoName + " (" + description + ")", call, errno, errnoName);
  }

  private NativeException(String message, String call, int errno, String errnoName) {
    super(message);
    this.call = call;
    this.errno = errno;
    this.errnoName = errnoName;
  }

  /**
   * This failure with what the kernel said beyond the errno appended to its message, e.g. the
   * verifier's verdict on a BPF program it refused.
   */
  NativeException withDetail(String detail) {
    return new NativeException(getMessage() + "; " + detail, call, errno, errnoName);
  }

  String call() {
    return call;
  }

  int errno() {
    return errno;
  }

  /** "EADDRINUSE", "ENOENT", ... */
  public String errnoName() {
    return errnoName;
  }
}
