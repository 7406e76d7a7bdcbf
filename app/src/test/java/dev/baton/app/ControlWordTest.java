package dev.baton.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ControlWordTest {

  @Test
  void linesAreTheWordAndItsArgument() {
    assertThat(ControlWord.HELLO.line("7")).isEqualTo("HELLO 7");
    assertThat(ControlWord.READY.line()).isEqualTo("READY");
    assertThat(ControlWord.STATUS.line("warming\r\ncaches")).isEqualTo("STATUS warming  caches");
  }

  @Test
  void aWordIsFormedWithAnArgumentOnlyIfItTakesOne() {
    assertThatThrownBy(ControlWord.HELLO::line)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("line(String)");
    assertThatThrownBy(() -> ControlWord.PAUSE.line("now"))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("line()");
  }

  @Test
  void everyLineFormedParsesBack() {
    for (ControlWord word : ControlWord.values()) {
      String line = word.takesArgument() ? word.line("some text") : word.line();
      assertThat(ControlWord.parse(line))
          .contains(new ControlWord.Message(word, word.takesArgument() ? "some text" : ""));
    }
  }

  @Test
  void drainNowIsSpelledWithAHyphenOnTheWire() {
    assertThat(ControlWord.DRAIN_NOW.line()).isEqualTo("DRAIN-NOW");
    assertThat(ControlWord.parse("DRAIN-NOW"))
        .contains(new ControlWord.Message(ControlWord.DRAIN_NOW, ""));
    assertThat(ControlWord.parse("DRAIN_NOW")).isEmpty();
    assertThat(ControlWord.parse("DRAIN-NOW please")).isEmpty();
  }

  @Test
  void whatThisVersionDoesNotKnowParsesToNothing() {
    assertThat(ControlWord.parse("")).isEmpty();
    assertThat(ControlWord.parse("SHUTDOWN")).isEmpty();
    assertThat(ControlWord.parse("pause")).isEmpty();
    assertThat(ControlWord.parse("PAUSE now")).isEmpty();
    assertThat(ControlWord.parse("ERRORS")).isEmpty();
    assertThat(ControlWord.parse("ERROR")).contains(new ControlWord.Message(ControlWord.ERROR, ""));
    assertThat(ControlWord.parse("ERROR uid 1000 may not"))
        .contains(new ControlWord.Message(ControlWord.ERROR, "uid 1000 may not"));
  }
}
