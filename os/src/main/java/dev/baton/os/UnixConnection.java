package dev.baton.os;

import java.io.InputStream;
import java.io.OutputStream;
import java.util.List;

/** A connected Unix stream socket that can also carry descriptors (SCM_RIGHTS). */
public interface UnixConnection extends AutoCloseable {

  PeerCredentials peer();

  /** The socket, for a {@link Poller}. */
  Fd fd();

  /**
   * Without blocking: reads up to {@code length} bytes into {@code buffer} at {@code offset}.
   * Returns how many, 0 when nothing is there yet, or -1 at end of stream or on a reset.
   */
  int readNow(byte[] buffer, int offset, int length);

  /**
   * Without blocking: writes up to {@code length} bytes. Returns how many were taken, 0 when the
   * socket's buffer is full.
   *
   * @throws NativeException when the peer is gone (EPIPE, ECONNRESET)
   */
  int writeNow(byte[] buffer, int offset, int length);

  InputStream input();

  OutputStream output();

  /** sendmsg: {@code data} (at least one byte) with {@code fds} attached. */
  void send(byte[] data, List<Fd> fds);

  /** recvmsg: up to {@code buffer.length} bytes and any descriptors sent with them. */
  Received receive(byte[] buffer);

  /** What one recvmsg returned; {@code bytes} is 0 at end of stream. The receiver owns the fds. */
  record Received(int bytes, List<Fd> fds) {}

  @Override
  void close();
}
