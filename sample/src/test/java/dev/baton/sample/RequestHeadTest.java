package dev.baton.sample;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class RequestHeadTest {

  @Test
  void findsTheEndOfAHeadWithCrlfOrBareLf() {
    assertThat(end("GET / HTTP/1.1\r\nHost: a\r\n\r\nrest")).isEqualTo(27);
    assertThat(end("GET / HTTP/1.1\nHost: a\n\nrest")).isEqualTo(24);
    assertThat(end("GET / HTTP/1.1\r\nHost: a\r\n")).isEqualTo(-1);
  }

  @Test
  void readsTheHeadersItActsOn() throws Exception {
    RequestHead head =
        parse(
            "POST /up?x=1 HTTP/1.1\r\nHost: a\r\ncontent-length: 12\r\nConnection: Keep-Alive,"
                + " Close\r\nExpect: 100-Continue\r\n\r\n");

    assertThat(head.method()).isEqualTo("POST");
    assertThat(head.path()).isEqualTo("/up");
    assertThat(head.contentLength()).isEqualTo(12);
    assertThat(head.hasBody()).isTrue();
    assertThat(head.close()).isTrue();
    assertThat(head.expectContinue()).isTrue();
    assertThat(head.keepsConnection()).isFalse();
  }

  @Test
  void keepsHttp11ConnectionsAndHttp10OnesOnlyWhenAsked() throws Exception {
    assertThat(parse("GET / HTTP/1.1\r\n\r\n").keepsConnection()).isTrue();
    assertThat(parse("GET / HTTP/1.0\r\n\r\n").keepsConnection()).isFalse();
    assertThat(parse("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").keepsConnection())
        .isTrue();
  }

  @Test
  void lettingChunkedWinOverContentLengthClosesTheConnection() throws Exception {
    RequestHead head =
        parse("POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n");

    assertThat(head.chunked()).isTrue();
    assertThat(head.keepsConnection()).isFalse();
  }

  @Test
  void rejectsWhatItCannotServe() {
    assertThatThrownBy(() -> parse("GET /\r\n\r\n")).hasMessage("malformed request line");
    assertThatThrownBy(() -> parse("GET / HTTP/2.0\r\n\r\n"))
        .isInstanceOfSatisfying(
            RequestHead.Malformed.class, e -> assertThat(e.status).isEqualTo(505));
    assertThatThrownBy(
            () -> parse("GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"))
        .hasMessage("conflicting Content-Length headers");
    assertThatThrownBy(() -> parse("GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n"))
        .hasMessage("malformed Content-Length");
    assertThatThrownBy(() -> parse("GET / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n"))
        .isInstanceOfSatisfying(
            RequestHead.Malformed.class, e -> assertThat(e.status).isEqualTo(501));
    assertThatThrownBy(() -> parse("GET / HTTP/1.1\r\nno colon\r\n\r\n"))
        .hasMessage("malformed header line");
  }

  private static int end(String text) {
    byte[] bytes = text.getBytes(StandardCharsets.ISO_8859_1);
    return RequestHead.end(bytes, 0, bytes.length);
  }

  private static RequestHead parse(String text) throws RequestHead.Malformed {
    byte[] bytes = text.getBytes(StandardCharsets.ISO_8859_1);
    return RequestHead.parse(bytes, 0, RequestHead.end(bytes, 0, bytes.length));
  }
}
