package dev.baton.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class SizesTest {
  @ParameterizedTest
  @CsvSource({
    "2048, 2048",
    "2048B, 2048",
    "512KB, 524288",
    "512k, 524288",
    "10MiB, 10485760",
    "'100 MB', 104857600",
    "1GB, 1073741824",
    "1gib, 1073741824",
    "8589934591G, 9223372035781033984",
  })
  void takesPowersOf1024(String text, long bytes) {
    assertThat(Sizes.parse(text)).isEqualTo(bytes);
  }

  @Test
  void refusesWhatIsNotASizeSayingWhy() {
    assertThatThrownBy(() -> Sizes.parse("lots")).hasMessageStartingWith("'lots' is not a size; ");
    assertThatThrownBy(() -> Sizes.parse(""))
        .hasMessageStartingWith("'' is not a size: it is empty");
    assertThatThrownBy(() -> Sizes.parse("-1MB"))
        .hasMessageStartingWith("'-1MB' is not a size: it is negative");
    assertThatThrownBy(() -> Sizes.parse("1TB")).hasMessageContaining("e.g. \"100MB\"");
    assertThatThrownBy(() -> Sizes.parse("1.5GB")).hasMessageStartingWith("'1.5GB' is not a size");
  }

  @Test
  void refusesASizeThatWouldWrapAround() {
    assertThatThrownBy(() -> Sizes.parse("999999999999GB"))
        .hasMessage(
            "'999999999999GB' is larger than any size baton can count; write e.g. \"100MB\"");
    assertThatThrownBy(() -> Sizes.parse("99999999999999999999"))
        .hasMessageContaining("larger than any size");
  }
}
