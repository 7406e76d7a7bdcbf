package dev.baton.bench;

import static org.assertj.core.api.Assertions.assertThat;

import dev.baton.bench.ResponseParser.Progress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class ResponseParserTest {
  private final ResponseParser parser = new ResponseParser();

  private static final String CHUNKED =
      "HTTP/1.1 200 OK\r\n"
          + "transfer-encoding: gzip, Chunked\r\n\r\n"
          + "5;ext=1\r\nhello\r\n"
          + "1a\r\nabcdefghijklmnopqrstuvwxyz\r\n"
          + "0\r\nTrailer: value\r\n\r\n";

  private Progress feed(String text) {
    return parser.feed(ByteBuffer.wrap(text.getBytes(StandardCharsets.ISO_8859_1)));
  }

  /** Feeds the response cut at {@code cut}; the first piece alone must never look complete. */
  private Progress feedInTwo(String response, int cut) {
    parser.reset();
    assertThat(feed(response.substring(0, cut)))
        .as("after %d of %d bytes", cut, response.length())
        .isEqualTo(Progress.MORE);
    return feed(response.substring(cut));
  }

  @Test
  void readsAResponseWithAContentLengthCutAnywhere() {
    var response = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: keep-alive\r\n\r\nhello";
    for (int cut = 1; cut < response.length(); cut++) {
      assertThat(feedInTwo(response, cut)).isEqualTo(Progress.DONE);
      assertThat(parser.status()).isEqualTo(200);
      assertThat(parser.keepsConnection()).isTrue();
    }
  }

  @Test
  void readsAChunkedResponseWithExtensionsAndTrailersCutAnywhere() {
    for (int cut = 1; cut < CHUNKED.length(); cut++) {
      assertThat(feedInTwo(CHUNKED, cut)).isEqualTo(Progress.DONE);
    }
  }

  @Test
  void keepsTheHeadOfEachBodyWhenAskedToWhereverTheBytesAreCut() {
    var keeping = new ResponseParser(8);
    var sized = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
    for (var response : List.of(sized, CHUNKED)) {
      for (int cut = 1; cut < response.length(); cut++) {
        keeping.reset();
        var bytes = response.getBytes(StandardCharsets.ISO_8859_1);
        keeping.feed(ByteBuffer.wrap(bytes, 0, cut));
        assertThat(keeping.feed(ByteBuffer.wrap(bytes, cut, bytes.length - cut)))
            .isEqualTo(Progress.DONE);
        assertThat(keeping.bodyHead())
            .as("cut at %d", cut)
            .isEqualTo(response.equals(sized) ? "hello" : "helloabc");
      }
    }
    keeping.reset();
    assertThat(keeping.bodyHead()).isEmpty();
  }

  @Test
  void keepsNoBodyUnlessAskedTo() {
    assertThat(feed("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")).isEqualTo(Progress.DONE);
    assertThat(parser.bodyHead()).isEmpty();
  }

  @Test
  void readsAChunkedResponseOneByteAtATime() {
    for (int i = 0; i < CHUNKED.length() - 1; i++) {
      assertThat(feed(CHUNKED.substring(i, i + 1))).isEqualTo(Progress.MORE);
    }
    assertThat(feed(CHUNKED.substring(CHUNKED.length() - 1))).isEqualTo(Progress.DONE);
  }

  @Test
  void leavesTheBytesAfterTheResponseInTheBuffer() {
    var buffer =
        ByteBuffer.wrap(
            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA"
                .getBytes(StandardCharsets.US_ASCII));

    assertThat(parser.feed(buffer)).isEqualTo(Progress.DONE);
    assertThat(buffer.remaining()).isEqualTo(5);
  }

  @Test
  void skipsInterimResponsesToTheFinalOne() {
    assertThat(feed("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"))
        .isEqualTo(Progress.MORE);
    assertThat(feed("HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n")).isEqualTo(Progress.DONE);
    assertThat(parser.status()).isEqualTo(201);
  }

  @Test
  void connectionCloseInAnyCaseAndListEndsTheConnection() {
    assertThat(feed("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nconnection: Upgrade, CLOSE \r\n\r\n"))
        .isEqualTo(Progress.DONE);
    assertThat(parser.keepsConnection()).isFalse();
  }

  @Test
  void http10KeepsTheConnectionOnlyWhenAskedTo() {
    assertThat(feed("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n")).isEqualTo(Progress.DONE);
    assertThat(parser.keepsConnection()).isFalse();

    parser.reset();
    assertThat(feed("HTTP/1.0 200 OK\r\nContent-Length: 0\r\nConnection: keep-alive\r\n\r\n"))
        .isEqualTo(Progress.DONE);
    assertThat(parser.keepsConnection()).isTrue();
  }

  @Test
  void aBodyWithoutLengthEndsAtEof() {
    assertThat(feed("HTTP/1.1 200 OK\r\n\r\nsome body")).isEqualTo(Progress.MORE);
    assertThat(feed(" and more")).isEqualTo(Progress.MORE);
    assertThat(parser.completeAtEof()).isTrue();
    assertThat(parser.keepsConnection()).isFalse();
  }

  @Test
  void aTruncatedBodyIsNotCompleteAtEof() {
    assertThat(feed("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf")).isEqualTo(Progress.MORE);
    assertThat(parser.completeAtEof()).isFalse();
  }

  @Test
  void noContentAndNotModifiedHaveNoBody() {
    assertThat(feed("HTTP/1.1 204 No Content\r\n\r\n")).isEqualTo(Progress.DONE);
    parser.reset();
    assertThat(feed("HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n"))
        .isEqualTo(Progress.DONE);
  }

  @Test
  void readsTheStatusOfErrors() {
    assertThat(feed("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n"))
        .isEqualTo(Progress.DONE);
    assertThat(parser.status()).isEqualTo(503);
  }

  @Test
  void rejectsWhatIsNotHttp() {
    assertThat(feed("SSH-2.0-OpenSSH_9.2\r\n")).isEqualTo(Progress.MALFORMED);
    assertThat(parser.error()).isEqualTo("not an HTTP/1.x status line: 'SSH-2.0-OpenSSH_9.2'");
  }

  @Test
  void rejectsABadChunkSize() {
    assertThat(feed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"))
        .isEqualTo(Progress.MALFORMED);
    assertThat(parser.error()).startsWith("not a chunk size");
  }

  @Test
  void rejectsConflictingContentLengths() {
    assertThat(feed("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"))
        .isEqualTo(Progress.MALFORMED);
  }

  @Test
  void rejectsAHeaderLineLongerThanTheLimit() {
    assertThat(feed("HTTP/1.1 200 OK\r\nX: " + "a".repeat(ResponseParser.MAX_LINE)))
        .isEqualTo(Progress.MALFORMED);
    assertThat(parser.error()).contains("longer than");
  }
}
