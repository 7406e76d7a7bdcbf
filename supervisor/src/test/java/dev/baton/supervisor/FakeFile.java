package dev.baton.supervisor;

import java.util.Arrays;

/**
 * What a fake descriptor refers to: a pipe, a socket, a pidfd. Several descriptors may refer to one
 * file (a dup, a descriptor taken back from a generation); processes hold files too.
 */
abstract class FakeFile {
  final FakeOs os;

  /** When it last became ready or was last reported: the order epoll's ready list keeps. */
  long touched;

  FakeFile(FakeOs os) {
    this.os = os;
  }

  /** {@link dev.baton.os.Poller#READABLE} and/or {@code WRITABLE}, as epoll would report it now. */
  abstract int readiness();

  /** What /proc names it: "socket:[123]", "pipe:[456]". */
  abstract String link();

  /** The supervisor closed its last descriptor of it. */
  void lastClose() {}

  /** Something happened to it: it goes to the end of the ready list. */
  final void touch() {
    touched = os.tick();
  }

  @Override
  public String toString() {
    return link();
  }

  /** Bytes written and not read yet: what a pipe or one direction of a socket holds. */
  static final class Bytes {
    private byte[] data = new byte[256];
    private int start;
    private int end;

    int size() {
      return end - start;
    }

    void add(byte[] bytes, int offset, int length) {
      if (end + length > data.length) {
        var grown = new byte[Math.max(data.length * 2, size() + length)];
        System.arraycopy(data, start, grown, 0, size());
        end = size();
        start = 0;
        data = grown;
      }
      System.arraycopy(bytes, offset, data, end, length);
      end += length;
    }

    int take(byte[] into, int offset, int length) {
      int n = Math.min(length, size());
      System.arraycopy(data, start, into, offset, n);
      start += n;
      if (start == end) {
        start = 0;
        end = 0;
      }
      return n;
    }

    void clear() {
      start = 0;
      end = 0;
      Arrays.fill(data, (byte) 0);
    }
  }
}
