package dev.baton.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class WebSocketFramesTest {

  private static WebSocketFrames.Frame parse(byte[] bytes) throws IOException {
    var frame = WebSocketFrames.read(new ByteArrayInputStream(bytes));
    assertThat(frame).isNotNull();
    return frame;
  }

  @Test
  void aTextFrameIsMaskedAndReadsBack() throws IOException {
    byte[] frame = WebSocketFrames.text("17-42", 0x01020304);
    assertThat(frame[0] & 0xff).isEqualTo(0x81); // FIN, text
    assertThat(frame[1] & 0xff).isEqualTo(0x80 | 5); // masked, 5 bytes
    assertThat(Arrays.copyOfRange(frame, 2, 6)).containsExactly(1, 2, 3, 4);
    assertThat(frame[6]).isEqualTo((byte) ('1' ^ 1)); // the payload is not sent in the clear
    var read = parse(frame);
    assertThat(read.fin()).isTrue();
    assertThat(read.opcode()).isEqualTo(WebSocketFrames.TEXT);
    assertThat(read.text()).isEqualTo("17-42");
  }

  @Test
  void longerTextsTakeTheSixteenBitLength() throws IOException {
    String text = "x".repeat(300);
    byte[] frame = WebSocketFrames.text(text, 0xdeadbeef);
    assertThat(frame[1] & 0x7f).isEqualTo(126);
    assertThat(((frame[2] & 0xff) << 8) | (frame[3] & 0xff)).isEqualTo(300);
    assertThat(parse(frame).text()).isEqualTo(text);
  }

  @Test
  void aCloseFrameCarriesItsCode() throws IOException {
    var read = parse(WebSocketFrames.close(WebSocketFrames.NORMAL, 0x7f00ff11));
    assertThat(read.opcode()).isEqualTo(WebSocketFrames.CLOSE);
    assertThat(read.closeCode()).isEqualTo(1000);
  }

  @Test
  void readsAServersUnmaskedCloseFrameWith1012AndAReason() throws IOException {
    byte[] server = {(byte) 0x88, 9, 0x03, (byte) 0xf4, 'r', 'e', 's', 't', 'a', 'r', 't'};
    var read = parse(server);
    assertThat(read.opcode()).isEqualTo(WebSocketFrames.CLOSE);
    assertThat(read.closeCode()).isEqualTo(WebSocketFrames.SERVICE_RESTART);
  }

  @Test
  void aCloseFrameWithoutACodeSaysNoStatus() throws IOException {
    assertThat(parse(new byte[] {(byte) 0x88, 0}).closeCode()).isEqualTo(1005);
  }

  @Test
  void anEndOfStreamBetweenFramesIsNoFrameButInsideOneIsAnError() throws IOException {
    assertThat(WebSocketFrames.read(new ByteArrayInputStream(new byte[0]))).isNull();
    byte[] cut = Arrays.copyOf(WebSocketFrames.text("hello", 7), 8);
    assertThatThrownBy(() -> WebSocketFrames.read(new ByteArrayInputStream(cut)))
        .isInstanceOf(EOFException.class);
  }

  @Test
  void theAcceptKeyIsRfc6455sExample() {
    assertThat(WebSocketFrames.accept("dGhlIHNhbXBsZSBub25jZQ=="))
        .isEqualTo("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  }
}
