package dev.baton.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class Http2FramesTest {

  private static Http2Frames.Frame parse(byte[] bytes) throws IOException {
    var frame = Http2Frames.read(new ByteArrayInputStream(bytes));
    assertThat(frame).isNotNull();
    return frame;
  }

  @Test
  void thePrefaceIsFollowedBySettingsThatTurnPushOff() throws IOException {
    byte[] start = Http2Frames.preface();
    assertThat(new String(start, 0, 24, StandardCharsets.US_ASCII))
        .isEqualTo("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
    var settings = parse(Arrays.copyOfRange(start, 24, start.length));
    assertThat(settings.type()).isEqualTo(Http2Frames.SETTINGS);
    assertThat(settings.stream()).isZero();
    assertThat(settings.payload()).containsExactly(0, 2, 0, 0, 0, 0); // ENABLE_PUSH = 0
  }

  @Test
  void aSettingsAckIsEmpty() {
    assertThat(Http2Frames.settingsAck()).containsExactly(0, 0, 0, 4, 1, 0, 0, 0, 0);
  }

  @Test
  void aGetIsOneHeadersFrameThatEndsTheStream() throws IOException {
    var headers = parse(Http2Frames.get(5, "127.0.0.1:8080"));
    assertThat(headers.type()).isEqualTo(Http2Frames.HEADERS);
    assertThat(headers.stream()).isEqualTo(5);
    assertThat(headers.has(Http2Frames.END_STREAM)).isTrue();
    assertThat(headers.has(Http2Frames.END_HEADERS)).isTrue();
    byte[] block = headers.headerBlock();
    assertThat(Arrays.copyOf(block, 5)).containsExactly(0x82, 0x86, 0x84, 0x01, 14);
    assertThat(new String(block, 5, 14, StandardCharsets.US_ASCII)).isEqualTo("127.0.0.1:8080");
    assertThat(block).hasSize(19);
  }

  @Test
  void aLongAuthorityTakesAMultiByteLength() {
    var out = new java.io.ByteArrayOutputStream();
    Http2Frames.writeInteger(out, 0x00, 7, 300);
    assertThat(out.toByteArray()).containsExactly(0x7f, 0xad, 0x01); // 127 + 173, RFC 7541 5.1
  }

  @Test
  void aWindowUpdateCarriesItsIncrement() throws IOException {
    var update = parse(Http2Frames.windowUpdate(0, 70_000));
    assertThat(update.type()).isEqualTo(Http2Frames.WINDOW_UPDATE);
    assertThat(update.stream()).isZero();
    assertThat(update.payload()).containsExactly(0, 1, 0x11, 0x70);
  }

  @Test
  void readsAGoAwaysLastStreamIdAndErrorCode() throws IOException {
    byte[] first = {0, 0, 8, 7, 0, 0, 0, 0, 0, 0x7f, -1, -1, -1, 0, 0, 0, 0};
    assertThat(parse(first).lastStreamId()).isEqualTo(Integer.MAX_VALUE);
    assertThat(parse(first).errorCode()).isEqualTo(Http2Frames.NO_ERROR);
    byte[] finalOne = {0, 0, 12, 7, 0, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 2, 'b', 'y', 'e', '!'};
    var goAway = parse(finalOne);
    assertThat(goAway.type()).isEqualTo(Http2Frames.GOAWAY);
    assertThat(goAway.lastStreamId()).isEqualTo(9);
    assertThat(goAway.errorCode()).isEqualTo(2); // INTERNAL_ERROR
    assertThat(parse(Http2Frames.goAway(7, 0)).lastStreamId()).isEqualTo(7);
  }

  @Test
  void readsAnRstStreamsErrorCode() throws IOException {
    var reset = parse(new byte[] {0, 0, 4, 3, 0, 0, 0, 0, 3, 0, 0, 0, 7});
    assertThat(reset.type()).isEqualTo(Http2Frames.RST_STREAM);
    assertThat(reset.stream()).isEqualTo(3);
    assertThat(reset.errorCode()).isEqualTo(Http2Frames.REFUSED_STREAM);
  }

  @Test
  void aPingIsAckedWithItsOpaqueData() throws IOException {
    var ping = parse(new byte[] {0, 0, 8, 6, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8});
    assertThat(ping.type()).isEqualTo(Http2Frames.PING);
    assertThat(ping.has(Http2Frames.ACK)).isFalse();
    var ack = parse(Http2Frames.pingAck(ping.payload()));
    assertThat(ack.has(Http2Frames.ACK)).isTrue();
    assertThat(ack.payload()).containsExactly(1, 2, 3, 4, 5, 6, 7, 8);
  }

  @Test
  void readsTheStatusIndexedOrLiteral() {
    assertThat(Http2Frames.status(new byte[] {(byte) 0x88, 0x5f})).isEqualTo(200);
    assertThat(Http2Frames.status(new byte[] {(byte) 0x8d})).isEqualTo(404);
    assertThat(Http2Frames.status(new byte[] {0x08, 3, '5', '0', '3'})).isEqualTo(503);
    assertThat(Http2Frames.status(new byte[] {0x48, 3, '2', '0', '0'})).isEqualTo(200);
    // A dynamic table size update first, then the status.
    assertThat(Http2Frames.status(new byte[] {0x20, (byte) 0x88})).isEqualTo(200);
    // Huffman-coded, or not the status first: not recognised, so not a 200.
    assertThat(Http2Frames.status(new byte[] {0x08, (byte) 0x82, 0x10, 0x01})).isEqualTo(-1);
    assertThat(Http2Frames.status(new byte[] {(byte) 0x82})).isEqualTo(-1);
    assertThat(Http2Frames.status(new byte[0])).isEqualTo(-1);
  }

  @Test
  void aPaddedHeadersFrameGivesItsBlockWithoutPaddingOrPriority() throws IOException {
    byte[] frame = {0, 0, 9, 1, 0x2d, 0, 0, 0, 1, 2, 0, 0, 0, 0, 16, (byte) 0x88, 0, 0};
    var headers = parse(frame);
    assertThat(headers.headerBlock()).containsExactly(0x88);
    assertThat(Http2Frames.status(headers.headerBlock())).isEqualTo(200);
  }
}
