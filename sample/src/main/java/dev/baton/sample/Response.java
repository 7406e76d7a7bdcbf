package dev.baton.sample;

import java.nio.charset.StandardCharsets;

/**
 * What the sample answers to one request: a status and a small text body, always sent with its
 * Content-Length so that the connection can carry the next response.
 *
 * @param headers extra header lines, each ending in CRLF
 */
record Response(int status, String body, String headers) {

  Response(int status, String body) {
    this(status, body, "");
  }

  /**
   * The response on the wire.
   *
   * @param connection the Connection header's value, or empty for none
   */
  byte[] bytes(String connection, boolean withBody) {
    byte[] bodyBytes = body.getBytes(StandardCharsets.UTF_8);
    StringBuilder head = new StringBuilder(128 + headers.length());
    head.append("HTTP/1.1 ")
        .append(status)
        .append(' ')
        .append(reason())
        .append("\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ")
        .append(bodyBytes.length)
        .append("\r\n");
    if (!connection.isEmpty()) {
      head.append("Connection: ").append(connection).append("\r\n");
    }
    head.append(headers).append("\r\n");
    byte[] headBytes = head.toString().getBytes(StandardCharsets.ISO_8859_1);
    if (!withBody) {
      return headBytes;
    }
    byte[] all = new byte[headBytes.length + bodyBytes.length];
    System.arraycopy(headBytes, 0, all, 0, headBytes.length);
    System.arraycopy(bodyBytes, 0, all, headBytes.length, bodyBytes.length);
    return all;
  }

  private String reason() {
    return switch (status) {
      case 200 -> "OK";
      case 400 -> "Bad Request";
      case 405 -> "Method Not Allowed";
      case 431 -> "Request Header Fields Too Large";
      case 500 -> "Internal Server Error";
      case 501 -> "Not Implemented";
      case 505 -> "HTTP Version Not Supported";
      default -> "Status " + status;
    };
  }
}
