package dev.baton.supervisor;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import org.junit.jupiter.api.Test;

class AgentCheckTest {
  private static final InetAddress HAPROXY = InetAddress.getLoopbackAddress();
  private static final InetAddress OTHER_HAPROXY = InetAddress.ofLiteral("10.0.0.2");

  private final AgentCheck.Answers answers = new AgentCheck.Answers(100);

  @Test
  void aServingHostAnswersUpWhichLeavesAnOperatorsDrainAlone() {
    assertThat(answers.next(HAPROXY, /* drain= */ false)).isEqualTo("up\n");
    assertThat(answers.next(HAPROXY, /* drain= */ false)).isEqualTo("up\n");
  }

  @Test
  void aDeployingHostAnswersDrainThenReadyOnceToUndoItsOwnDrain() {
    assertThat(answers.next(HAPROXY, /* drain= */ true)).isEqualTo("drain\n");
    assertThat(answers.next(HAPROXY, /* drain= */ true)).isEqualTo("drain\n");

    assertThat(answers.next(HAPROXY, /* drain= */ false)).isEqualTo("ready\n");
    assertThat(answers.next(HAPROXY, /* drain= */ false)).isEqualTo("up\n");
  }

  @Test
  void onlyTheHaproxyThatHeardDrainHearsReady() {
    answers.next(HAPROXY, /* drain= */ true);

    assertThat(answers.next(OTHER_HAPROXY, /* drain= */ false)).isEqualTo("up\n");
    assertThat(answers.next(HAPROXY, /* drain= */ false)).isEqualTo("ready\n");
  }

  @Test
  void aWeightOtherThan100IsSentAsAPercentage() {
    var weighted = new AgentCheck.Answers(50);

    assertThat(weighted.next(HAPROXY, /* drain= */ false)).isEqualTo("up 50%\n");
    assertThat(weighted.next(HAPROXY, /* drain= */ true)).isEqualTo("drain\n");
    assertThat(weighted.next(HAPROXY, /* drain= */ false)).isEqualTo("ready 50%\n");
  }
}
