package dev.baton.supervisor;

import dev.baton.os.NativeException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Generated input for the line protocols, from a seeded {@link Random} so a failure names the seed
 * and the input number that reproduce it: valid lines, mutations of them (flipped, dropped, doubled
 * and inserted bytes, cut short), binary bytes, lines past a limit, and any of these cut into
 * pieces that arrive apart.
 */
final class FuzzInput {
  /** How many inputs a fuzz test runs; {@code -Dbaton.fuzz.inputs=N} raises it. */
  static final int COUNT = Integer.getInteger("baton.fuzz.inputs", 100_000);

  private static final byte[] INTERESTING =
      "\n\r\0{}[]\":,\\ \t".getBytes(StandardCharsets.ISO_8859_1);

  final Random random;

  FuzzInput(long seed) {
    random = new Random(seed);
  }

  /** One of {@code valid}, mutated zero or more times; or, now and then, random bytes. */
  byte[] line(List<String> valid, int limit) {
    int kind = random.nextInt(100);
    if (kind < 10) {
      return valid.get(random.nextInt(valid.size())).getBytes(StandardCharsets.UTF_8);
    }
    if (kind < 25) {
      return bytes(random.nextInt(200));
    }
    if (kind == 25) {
      // Past the limit: a line the supervisor must refuse to gather.
      var huge = new byte[limit + 1 + random.nextInt(2 * limit)];
      java.util.Arrays.fill(huge, (byte) ('a' + random.nextInt(26)));
      return huge;
    }
    var bytes = valid.get(random.nextInt(valid.size())).getBytes(StandardCharsets.UTF_8);
    for (int m = 1 + random.nextInt(4); m > 0; m--) {
      bytes = mutate(bytes);
    }
    return bytes;
  }

  private byte[] mutate(byte[] in) {
    if (in.length == 0) {
      return bytes(1 + random.nextInt(8));
    }
    int at = random.nextInt(in.length);
    var out = new java.io.ByteArrayOutputStream();
    switch (random.nextInt(6)) {
      case 0 -> { // flip a bit
        var copy = in.clone();
        copy[at] ^= (byte) (1 << random.nextInt(8));
        return copy;
      }
      case 1 -> { // drop a run
        out.write(in, 0, at);
        int end = Math.min(in.length, at + 1 + random.nextInt(8));
        out.write(in, end, in.length - end);
      }
      case 2 -> { // insert an interesting byte
        out.write(in, 0, at);
        out.write(INTERESTING[random.nextInt(INTERESTING.length)]);
        out.write(in, at, in.length - at);
      }
      case 3 -> { // double a run
        int end = Math.min(in.length, at + 1 + random.nextInt(16));
        out.write(in, 0, end);
        out.write(in, at, in.length - at);
      }
      case 4 -> { // cut short
        out.write(in, 0, at);
      }
      default -> { // a byte that is not UTF-8 on its own
        out.write(in, 0, at);
        out.write(0x80 + random.nextInt(0x80));
        out.write(in, at, in.length - at);
      }
    }
    return out.toByteArray();
  }

  byte[] bytes(int n) {
    var b = new byte[n];
    random.nextBytes(b);
    return b;
  }

  /** {@code data} in one piece most of the time, else cut at random places into several. */
  List<byte[]> pieces(byte[] data) {
    var pieces = new ArrayList<byte[]>();
    if (data.length < 2 || random.nextInt(4) != 0) {
      pieces.add(data);
      return pieces;
    }
    int from = 0;
    while (from < data.length) {
      int n = Math.min(data.length - from, 1 + random.nextInt(Math.max(1, data.length / 3)));
      pieces.add(java.util.Arrays.copyOfRange(data, from, from + n));
      from += n;
    }
    return pieces;
  }

  /**
   * Writes a piece for each caller in turn, running the loop between rounds or, now and then,
   * letting up to {@code maxPauseMillis} pass as a slow client would; a caller the supervisor has
   * hung up on (a line over the limit, another uid) is allowed to fail its write.
   */
  void interleave(
      Harness h,
      List<FakeSockets.Connection> callers,
      List<List<byte[]>> inputs,
      int maxPauseMillis) {
    for (int piece = 0; ; piece++) {
      boolean any = false;
      for (int c = 0; c < callers.size(); c++) {
        if (piece < inputs.get(c).size()) {
          any = true;
          var bytes = inputs.get(c).get(piece);
          try {
            callers.get(c).writeNow(bytes, 0, bytes.length);
          } catch (NativeException e) {
            // hung up on already
          }
        }
      }
      if (!any) {
        return;
      }
      if (random.nextInt(10) == 0) {
        h.advanceMillis(random.nextInt(maxPauseMillis));
      } else {
        h.drive();
      }
    }
  }
}
