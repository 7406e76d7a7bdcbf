package dev.baton.os;

import java.io.InputStream;
import java.io.OutputStream;
import java.util.List;

/** A connected Unix stream socket that can also carry descriptors (SCM_RIGHTS). */
public interface UnixConnection extends AutoCloseable {

  PeerCredentials peer();

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
