package dev.baton.app.jetty;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * h2c by prior knowledge, by hand: the preface, one GET on stream 1, then every GOAWAY read, with
 * its last stream id and when, until the server closes. It never sends a GOAWAY of its own, so the
 * server closes as it would on a client that does not answer.
 */
final class H2cClient implements AutoCloseable {
  private static final byte[] PREFACE =
      "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
  private static final int HEADERS = 1;
  private static final int SETTINGS = 4;
  private static final int GOAWAY = 7;

  /** "GOAWAY last-stream-id", "answer", "closed", in order. */
  final List<String> events = new CopyOnWriteArrayList<>();

  final List<Long> goAwayAt = new CopyOnWriteArrayList<>();
  volatile long closedAt;
  private final Socket socket = new Socket();
  private final Thread reader;

  H2cClient(InetSocketAddress address) throws IOException {
    socket.connect(address, 2000);
    OutputStream out = socket.getOutputStream();
    out.write(PREFACE);
    frame(out, SETTINGS, 0, 0, new byte[0]);
    // :method GET, :scheme http, :path / from HPACK's static table; :authority a literal.
    byte[] authority = "localhost".getBytes(StandardCharsets.US_ASCII);
    ByteBuffer block = ByteBuffer.allocate(5 + authority.length);
    block.put((byte) 0x82).put((byte) 0x86).put((byte) 0x84).put((byte) 0x41);
    block.put((byte) authority.length).put(authority);
    frame(out, HEADERS, 0x5, 1, block.array()); // END_STREAM | END_HEADERS
    reader = new Thread(this::read, "h2c client");
    reader.setDaemon(true);
    reader.start();
  }

  private void read() {
    try {
      DataInputStream in = new DataInputStream(socket.getInputStream());
      while (true) {
        int length = (in.readUnsignedShort() << 8) | in.readUnsignedByte();
        int type = in.readUnsignedByte();
        int flags = in.readUnsignedByte();
        int stream = in.readInt() & Integer.MAX_VALUE;
        byte[] payload = in.readNBytes(length);
        if (type == SETTINGS && (flags & 1) == 0) {
          frame(socket.getOutputStream(), SETTINGS, 1, 0, new byte[0]);
        } else if (type == HEADERS && stream == 1) {
          events.add("answer");
        } else if (type == GOAWAY) {
          goAwayAt.add(System.nanoTime());
          events.add("GOAWAY " + (ByteBuffer.wrap(payload).getInt() & Integer.MAX_VALUE));
        }
      }
    } catch (EOFException e) {
      closedAt = System.nanoTime();
      events.add("closed");
    } catch (IOException e) {
      closedAt = System.nanoTime();
      events.add("closed: " + e.getMessage());
    }
  }

  private static synchronized void frame(
      OutputStream out, int type, int flags, int stream, byte[] payload) throws IOException {
    ByteBuffer header = ByteBuffer.allocate(9);
    header.put((byte) (payload.length >>> 16)).putShort((short) payload.length);
    header.put((byte) type).put((byte) flags).putInt(stream);
    out.write(header.array());
    out.write(payload);
    out.flush();
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
