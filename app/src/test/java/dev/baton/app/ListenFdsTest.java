package dev.baton.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

class ListenFdsTest {

  private static final long PID = 4242;

  @Test
  void namesEachFdFromListenFdNames() {
    ListenFds fds =
        ListenFds.from(
            Map.of("LISTEN_FDS", "2", "LISTEN_PID", "4242", "LISTEN_FDNAMES", "http:admin"), PID);

    assertThat(fds.names()).containsExactly("http", "admin");
    assertThat(fds.absence()).isEmpty();
  }

  @Test
  void namesEveryFdUnknownWithoutListenFdNamesLikeSystemd() {
    ListenFds fds = ListenFds.from(Map.of("LISTEN_FDS", "3", "LISTEN_PID", "4242"), PID);

    assertThat(fds.names()).containsExactly("unknown", "unknown", "unknown");
  }

  @Test
  void namesAnEmptyFieldUnknown() {
    ListenFds fds =
        ListenFds.from(
            Map.of("LISTEN_FDS", "3", "LISTEN_PID", "4242", "LISTEN_FDNAMES", "http::admin"), PID);

    assertThat(fds.names()).containsExactly("http", "unknown", "admin");
  }

  @Test
  void ignoresVariablesMeantForAnotherProcess() {
    ListenFds fds = ListenFds.from(Map.of("LISTEN_FDS", "1", "LISTEN_PID", "17"), PID);

    assertThat(fds.count()).isZero();
    assertThat(fds.absence()).isEqualTo("LISTEN_FDS is for pid 17, not this process (pid 4242)");
  }

  @Test
  void ignoresListenFdsWithoutListenPidAsSdListenFdsDoes() {
    ListenFds fds = ListenFds.from(Map.of("LISTEN_FDS", "1"), PID);

    assertThat(fds.count()).isZero();
    assertThat(fds.absence()).contains("LISTEN_PID is not");
  }

  @Test
  void findsNothingWithoutVariables() {
    assertThat(ListenFds.from(Map.of(), PID).absence()).isEqualTo("no LISTEN_FDS");
    assertThat(ListenFds.from(Map.of("LISTEN_FDS", "0", "LISTEN_PID", "4242"), PID).count())
        .isZero();
  }

  @Test
  void rejectsANameCountThatDoesNotMatchTheFdCount() {
    assertThatThrownBy(
            () ->
                ListenFds.from(
                    Map.of("LISTEN_FDS", "2", "LISTEN_PID", "4242", "LISTEN_FDNAMES", "http"), PID))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("LISTEN_FDNAMES=http names 1 listeners but LISTEN_FDS=2");
  }

  @Test
  void rejectsNumbersThatAreNot() {
    assertThatThrownBy(() -> ListenFds.from(Map.of("LISTEN_FDS", "two", "LISTEN_PID", "4242"), PID))
        .hasMessageContaining("LISTEN_FDS=two is not a non-negative number");
    assertThatThrownBy(() -> ListenFds.from(Map.of("LISTEN_FDS", "-1", "LISTEN_PID", "4242"), PID))
        .hasMessageContaining("LISTEN_FDS=-1");
    assertThatThrownBy(() -> ListenFds.from(Map.of("LISTEN_FDS", "1", "LISTEN_PID", "me"), PID))
        .hasMessageContaining("LISTEN_PID=me");
  }
}
