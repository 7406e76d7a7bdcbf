package dev.baton.bench;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import org.jspecify.annotations.Nullable;

/**
 * The few RFC 6455 frames {@link WebSocketClients} sends and reads, written by hand rather than
 * through {@code java.net.http}, so that the fleet sees each close frame and its code exactly: the
 * 1012 that makes a polite end is told from every other one only here.
 */
final class WebSocketFrames {
  private WebSocketFrames() {}

  static final int CONTINUATION = 0x0;
  static final int TEXT = 0x1;
  static final int BINARY = 0x2;
  static final int CLOSE = 0x8;
  static final int PING = 0x9;
  static final int PONG = 0xA;

  /** The close code of a close frame with none in it (RFC 6455, 7.1.5). */
  static final int NO_STATUS = 1005;

  /** Service Restart: the one close code that ends a connection politely. */
  static final int SERVICE_RESTART = 1012;

  static final int NORMAL = 1000;

  /** What a server frame may carry at most: the echo of a short text, or a control frame. */
  private static final int MAX_PAYLOAD = 1 << 16;

  private static final String ACCEPT_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

  /** One frame as read, its payload unmasked. */
  record Frame(boolean fin, int opcode, byte[] payload) {
    String text() {
      return new String(payload, StandardCharsets.UTF_8);
    }

    /** The status code of a close frame. */
    int closeCode() {
      return payload.length < 2 ? NO_STATUS : ((payload[0] & 0xff) << 8) | (payload[1] & 0xff);
    }
  }

  /** A client's masked text frame: clients must mask every frame (RFC 6455, 5.3). */
  static byte[] text(String text, int mask) {
    return encode(TEXT, text.getBytes(StandardCharsets.UTF_8), mask);
  }

  /** A client's masked close frame with {@code code}. */
  static byte[] close(int code, int mask) {
    return encode(CLOSE, new byte[] {(byte) (code >>> 8), (byte) code}, mask);
  }

  /** A client's masked pong, carrying the ping's payload back. */
  static byte[] pong(byte[] payload, int mask) {
    return encode(PONG, payload, mask);
  }

  /** A final, masked frame. */
  static byte[] encode(int opcode, byte[] payload, int mask) {
    int length = payload.length;
    int header = length < 126 ? 2 : length < 1 << 16 ? 4 : 10;
    byte[] frame = new byte[header + 4 + length];
    frame[0] = (byte) (0x80 | opcode);
    if (length < 126) {
      frame[1] = (byte) (0x80 | length);
    } else if (length < 1 << 16) {
      frame[1] = (byte) (0x80 | 126);
      frame[2] = (byte) (length >>> 8);
      frame[3] = (byte) length;
    } else {
      frame[1] = (byte) (0x80 | 127);
      for (int i = 0; i < 8; i++) {
        frame[2 + i] = (byte) ((long) length >>> (56 - 8 * i));
      }
    }
    byte[] key = {(byte) (mask >>> 24), (byte) (mask >>> 16), (byte) (mask >>> 8), (byte) mask};
    System.arraycopy(key, 0, frame, header, 4);
    for (int i = 0; i < length; i++) {
      frame[header + 4 + i] = (byte) (payload[i] ^ key[i & 3]);
    }
    return frame;
  }

  /**
   * Reads one frame, or returns null at an end of stream before its first byte. Masked frames (a
   * client's, in tests) are unmasked.
   */
  static @Nullable Frame read(InputStream in) throws IOException {
    int first = in.read();
    return first < 0 ? null : readAfter(first, in);
  }

  /**
   * Reads the rest of a frame whose first byte was read apart: a read timeout before that byte
   * leaves nothing half read.
   */
  static Frame readAfter(int first, InputStream in) throws IOException {
    int second = next(in);
    long length = second & 0x7f;
    if (length == 126) {
      length = (next(in) << 8) | next(in);
    } else if (length == 127) {
      length = 0;
      for (int i = 0; i < 8; i++) {
        length = (length << 8) | next(in);
      }
    }
    if (length > MAX_PAYLOAD) {
      throw new IOException("a frame of " + length + " bytes");
    }
    byte[] key = null;
    if ((second & 0x80) != 0) {
      key = in.readNBytes(4);
      if (key.length < 4) {
        throw new EOFException("end of stream in a frame's mask");
      }
    }
    byte[] payload = in.readNBytes((int) length);
    if (payload.length < length) {
      throw new EOFException("end of stream in a frame's payload");
    }
    if (key != null) {
      for (int i = 0; i < payload.length; i++) {
        payload[i] ^= key[i & 3];
      }
    }
    return new Frame((first & 0x80) != 0, first & 0x0f, payload);
  }

  /** The Sec-WebSocket-Accept a server must answer {@code key} with. */
  static String accept(String key) {
    try {
      byte[] digest =
          MessageDigest.getInstance("SHA-1")
              .digest((key + ACCEPT_GUID).getBytes(StandardCharsets.US_ASCII));
      return Base64.getEncoder().encodeToString(digest);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-1", e);
    }
  }

  private static int next(InputStream in) throws IOException {
    int b = in.read();
    if (b < 0) {
      throw new EOFException("end of stream in a frame's header");
    }
    return b;
  }
}
