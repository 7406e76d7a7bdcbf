package dev.baton.bench;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Which bundled sample bench replaces: the JVM one, whose every start costs a few hundred
 * milliseconds of CPU, or the light one, which starts in milliseconds. Measured apart, they show
 * how much of a reload's cost is the app's own start.
 */
public enum SampleKind {
  /** The sample service on a JVM, {@code sample/target/baton-sample.jar}. */
  JVM("jvm"),
  /** The same HTTP behaviour in python3 -S, {@code sample/src/main/python/light_sample.py}. */
  LIGHT("light");

  static final List<String> NAMES = Arrays.stream(values()).map(SampleKind::label).toList();

  private final String label;

  SampleKind(String label) {
    this.label = label;
  }

  String label() {
    return label;
  }

  /**
   * @throws IllegalArgumentException naming the unknown sample and the known ones
   */
  public static SampleKind parse(String name) {
    var wanted = name.trim().toLowerCase(Locale.ROOT);
    return Arrays.stream(values())
        .filter(k -> k.label.equals(wanted))
        .findFirst()
        .orElseThrow(
            () ->
                new IllegalArgumentException(
                    "unknown sample '"
                        + name.trim()
                        + "'; use one of "
                        + String.join(", ", NAMES)));
  }

  @Override
  public String toString() {
    return label;
  }
}
