package dev.baton.sample;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The computation behind {@code --work-cpu}: what a typical JVM service spends its CPU on (small
 * objects, a sort through a comparator, a stream), sized so that a unit takes about a microsecond
 * once the JIT has compiled and inlined it, and many times that before: the interpreter pays for
 * every call, lambda and bounds check. That gap is what the warm-up tests measure.
 */
final class CpuWork {

  private record Item(int id, long weight, String label) {}

  private static final Comparator<Item> BY_WEIGHT =
      Comparator.comparingLong(Item::weight).thenComparing(Item::label);

  private CpuWork() {}

  /** Does {@code units} units of work and returns a checksum of the result. */
  static long run(int units) {
    List<Item> items = new ArrayList<>(units);
    long seed = units * 0x9E3779B97F4A7C15L;
    for (int i = 0; i < units; i++) {
      seed ^= seed << 13;
      seed ^= seed >>> 7;
      seed ^= seed << 17;
      items.add(new Item(i, seed & 0xFFFF, Integer.toHexString((int) (seed >>> 40) & 0xFF)));
    }
    items.sort(BY_WEIGHT);
    return items.stream()
        .mapToLong(item -> item.weight() * 31 + item.id())
        .reduce(17, (a, b) -> a * 31 + b);
  }
}
