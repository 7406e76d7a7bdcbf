package dev.baton.bench;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import org.jspecify.annotations.Nullable;

/**
 * The little of HTTP/2 (RFC 9113) and HPACK (RFC 7541) that {@link H2cClients} needs, by hand: a
 * library would hide the two GOAWAYs of a drain and the last stream id of the final one, which is
 * what tells a refused stream (to send again) from a lost one.
 */
final class Http2Frames {
  private Http2Frames() {}

  static final byte[] PREFACE =
      "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

  static final int DATA = 0x0;
  static final int HEADERS = 0x1;
  static final int PRIORITY = 0x2;
  static final int RST_STREAM = 0x3;
  static final int SETTINGS = 0x4;
  static final int PUSH_PROMISE = 0x5;
  static final int PING = 0x6;
  static final int GOAWAY = 0x7;
  static final int WINDOW_UPDATE = 0x8;
  static final int CONTINUATION = 0x9;

  static final int END_STREAM = 0x1;
  static final int ACK = 0x1;
  static final int END_HEADERS = 0x4;
  static final int PADDED = 0x8;
  static final int PRIORITY_FLAG = 0x20;

  static final int NO_ERROR = 0x0;
  static final int REFUSED_STREAM = 0x7;

  /** The largest stream id: the last stream id of a drain's first GOAWAY, which refuses none. */
  static final int MAX_STREAM_ID = Integer.MAX_VALUE;

  /** SETTINGS_MAX_FRAME_SIZE's default, which this client never raises. */
  static final int MAX_FRAME = 16_384;

  private static final int SETTINGS_ENABLE_PUSH = 0x2;

  /** One frame as read. */
  record Frame(int type, int flags, int stream, byte[] payload) {
    boolean has(int flag) {
      return (flags & flag) != 0;
    }

    /** A GOAWAY's last stream id. */
    int lastStreamId() {
      return int31(payload, 0);
    }

    /** A GOAWAY's or RST_STREAM's error code. */
    int errorCode() {
      return type == GOAWAY ? int32(payload, 4) : int32(payload, 0);
    }

    /** A HEADERS frame's block fragment, without its padding and priority. */
    byte[] headerBlock() {
      int start = 0;
      int end = payload.length;
      if (has(PADDED)) {
        start = 1;
        end -= payload[0] & 0xff;
      }
      if (type == HEADERS && has(PRIORITY_FLAG)) {
        start += 5;
      }
      if (start > end) {
        return new byte[0];
      }
      byte[] block = new byte[end - start];
      System.arraycopy(payload, start, block, 0, block.length);
      return block;
    }
  }

  static byte[] frame(int type, int flags, int stream, byte[] payload) {
    byte[] frame = new byte[9 + payload.length];
    frame[0] = (byte) (payload.length >>> 16);
    frame[1] = (byte) (payload.length >>> 8);
    frame[2] = (byte) payload.length;
    frame[3] = (byte) type;
    frame[4] = (byte) flags;
    put32(frame, 5, stream & MAX_STREAM_ID);
    System.arraycopy(payload, 0, frame, 9, payload.length);
    return frame;
  }

  /** The connection's start: the preface, then SETTINGS that turn server push off. */
  static byte[] preface() {
    byte[] settings = new byte[6];
    settings[1] = SETTINGS_ENABLE_PUSH; // value 0
    byte[] frame = frame(SETTINGS, 0, 0, settings);
    byte[] start = new byte[PREFACE.length + frame.length];
    System.arraycopy(PREFACE, 0, start, 0, PREFACE.length);
    System.arraycopy(frame, 0, start, PREFACE.length, frame.length);
    return start;
  }

  static byte[] settingsAck() {
    return frame(SETTINGS, ACK, 0, new byte[0]);
  }

  static byte[] pingAck(byte[] opaque) {
    return frame(PING, ACK, 0, opaque);
  }

  static byte[] windowUpdate(int stream, int increment) {
    byte[] payload = new byte[4];
    put32(payload, 0, increment & MAX_STREAM_ID);
    return frame(WINDOW_UPDATE, 0, stream, payload);
  }

  static byte[] goAway(int lastStreamId, int errorCode) {
    byte[] payload = new byte[8];
    put32(payload, 0, lastStreamId & MAX_STREAM_ID);
    put32(payload, 4, errorCode);
    return frame(GOAWAY, 0, 0, payload);
  }

  static byte[] rstStream(int stream, int errorCode) {
    byte[] payload = new byte[4];
    put32(payload, 0, errorCode);
    return frame(RST_STREAM, 0, stream, payload);
  }

  /**
   * A whole request, {@code GET /} on {@code stream}: HEADERS with END_STREAM and END_HEADERS, its
   * block static-table indexes and one literal (:authority) without indexing nor Huffman, so that
   * no dynamic table is ever needed on either side.
   */
  static byte[] get(int stream, String authority) {
    var block = new ByteArrayOutputStream();
    block.write(0x82); // :method GET
    block.write(0x86); // :scheme http
    block.write(0x84); // :path /
    writeInteger(block, 0x00, 4, 1); // literal without indexing, name :authority
    byte[] value = authority.getBytes(StandardCharsets.US_ASCII);
    writeInteger(block, 0x00, 7, value.length); // not Huffman
    block.writeBytes(value);
    return frame(HEADERS, END_STREAM | END_HEADERS, stream, block.toByteArray());
  }

  /**
   * The :status of a response header block, when it is the first field: indexed (static 8 to 14) or
   * a literal with the static name :status and a plain value; -1 for anything else.
   */
  static int status(byte[] block) {
    int i = 0;
    // A dynamic table size update may open a block (RFC 7541, 4.2).
    while (i < block.length && (block[i] & 0xe0) == 0x20) {
      i = skipInteger(block, i, 5);
    }
    if (i >= block.length) {
      return -1;
    }
    int b = block[i] & 0xff;
    if ((b & 0x80) != 0) {
      return switch (b & 0x7f) {
        case 8 -> 200;
        case 9 -> 204;
        case 10 -> 206;
        case 11 -> 304;
        case 12 -> 400;
        case 13 -> 404;
        case 14 -> 500;
        default -> -1;
      };
    }
    // With incremental indexing (01), without (0000), never indexed (0001): name index 8 to 14.
    int index = (b & 0xc0) == 0x40 ? b & 0x3f : (b & 0xe0) == 0 ? b & 0x0f : -1;
    if (index < 8 || index > 14 || i + 1 >= block.length || (block[i + 1] & 0x80) != 0) {
      return -1;
    }
    int length = block[i + 1] & 0x7f;
    if (length != 3 || i + 2 + length > block.length) {
      return -1;
    }
    try {
      return Integer.parseInt(new String(block, i + 2, 3, StandardCharsets.US_ASCII));
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  /** Reads one frame, or returns null at an end of stream before its first byte. */
  static @Nullable Frame read(InputStream in) throws IOException {
    int first = in.read();
    return first < 0 ? null : readAfter(first, in);
  }

  /** Reads the rest of a frame whose first byte was read apart (see {@link WebSocketFrames}). */
  static Frame readAfter(int first, InputStream in) throws IOException {
    byte[] header = in.readNBytes(8);
    if (header.length < 8) {
      throw new EOFException("end of stream in a frame's header");
    }
    int length = (first << 16) | ((header[0] & 0xff) << 8) | (header[1] & 0xff);
    if (length > MAX_FRAME) {
      throw new IOException("a frame of " + length + " bytes, above SETTINGS_MAX_FRAME_SIZE");
    }
    byte[] payload = in.readNBytes(length);
    if (payload.length < length) {
      throw new EOFException("end of stream in a frame's payload");
    }
    return new Frame(header[2] & 0xff, header[3] & 0xff, int31(header, 4), payload);
  }

  /**
   * An HPACK integer (RFC 7541, 5.1) in a prefix of {@code bits}, after the pattern {@code high}.
   */
  static void writeInteger(ByteArrayOutputStream out, int high, int bits, int value) {
    int max = (1 << bits) - 1;
    if (value < max) {
      out.write(high | value);
      return;
    }
    out.write(high | max);
    value -= max;
    while (value >= 0x80) {
      out.write((value & 0x7f) | 0x80);
      value >>>= 7;
    }
    out.write(value);
  }

  private static int skipInteger(byte[] block, int i, int bits) {
    int max = (1 << bits) - 1;
    if ((block[i] & max) < max) {
      return i + 1;
    }
    i++;
    while (i < block.length && (block[i] & 0x80) != 0) {
      i++;
    }
    return i + 1;
  }

  private static int int31(byte[] bytes, int at) {
    return int32(bytes, at) & MAX_STREAM_ID;
  }

  private static int int32(byte[] bytes, int at) {
    if (bytes.length < at + 4) {
      return 0;
    }
    return ((bytes[at] & 0xff) << 24)
        | ((bytes[at + 1] & 0xff) << 16)
        | ((bytes[at + 2] & 0xff) << 8)
        | (bytes[at + 3] & 0xff);
  }

  private static void put32(byte[] bytes, int at, int value) {
    bytes[at] = (byte) (value >>> 24);
    bytes[at + 1] = (byte) (value >>> 16);
    bytes[at + 2] = (byte) (value >>> 8);
    bytes[at + 3] = (byte) value;
  }
}
