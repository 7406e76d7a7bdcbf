package dev.baton.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class LoadTest {

  @Test
  void byDefaultRunsTenSecondsOfKeepAliveGetsOnFiftyConnections() {
    var load = Load.to("127.0.0.1:8080").build();

    assertThat(load.keepAlive()).isTrue();
    assertThat(load.method()).isEqualTo("GET");
    assertThat(load.path()).isEqualTo("/");
    assertThat(load.connections()).isEqualTo(50);
    assertThat(load.duration()).isEqualTo(Duration.ofSeconds(10));
    assertThat(load.requests()).isEqualTo(Long.MAX_VALUE);
    assertThat(load.timeout()).isEqualTo(Duration.ofSeconds(5));
  }

  @Test
  void aRequestCountAloneIsStillBoundedInTime() {
    var load = Load.to("127.0.0.1:8080").requests(20_000).build();

    assertThat(load.requests()).isEqualTo(20_000);
    assertThat(load.duration()).isEqualTo(Load.MAX_DURATION);
  }

  @Test
  void neverUsesMoreThreadsThanConnections() {
    assertThat(Load.to("127.0.0.1:8080").connections(1).threads(2).build().threads()).isEqualTo(1);
  }

  @Test
  void sendsAConnectionCloseRequestWithoutKeepAlive() {
    var request =
        new String(
            Load.to("127.0.0.1:8080").connectionPerRequest().get("/health").build().requestBytes(),
            StandardCharsets.US_ASCII);

    assertThat(request)
        .isEqualTo(
            "GET /health HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n"
                + "User-Agent: baton-bench\r\nConnection: close\r\n\r\n");
  }

  @Test
  void sendsAPostWithItsBodyAndLength() {
    var request =
        new String(
            Load.to("[::1]:8080")
                .post("/items", "0123456789".getBytes(StandardCharsets.US_ASCII))
                .build()
                .requestBytes(),
            StandardCharsets.US_ASCII);

    assertThat(request)
        .isEqualTo(
            "POST /items HTTP/1.1\r\nHost: [0:0:0:0:0:0:0:1]:8080\r\nUser-Agent: baton-bench\r\n"
                + "Content-Type: application/octet-stream\r\nContent-Length: 10\r\n\r\n0123456789");
  }

  @Test
  void equalSpecsAreEqualEvenWithBodies() {
    byte[] body = {1, 2, 3};
    var load = Load.to("127.0.0.1:8080").post("/", body).build();

    assertThat(load).isEqualTo(Load.to("127.0.0.1:8080").post("/", body.clone()).build());
    assertThat(load).isNotEqualTo(Load.to("127.0.0.1:8080").post("/", new byte[] {1, 2}).build());
  }

  @Test
  void refusesToLoadAnAddressOfAnotherMachine() {
    assertThatThrownBy(() -> Load.to("192.0.2.1:80").build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("is not an address of this machine");
  }

  @Test
  void refusesHostNamesAndMissingPorts() {
    assertThatThrownBy(() -> Load.to("localhost:80"))
        .hasMessageContaining("needs a literal IP and a port");
    assertThatThrownBy(() -> Load.to("127.0.0.1"))
        .hasMessageContaining("needs a literal IP and a port");
  }

  @Test
  void refusesUnboundedOrNonsensicalSpecs() {
    var builder = Load.to("127.0.0.1:8080");
    assertThatThrownBy(() -> builder.duration(Duration.ofHours(5)).build())
        .hasMessageContaining("duration");
    assertThatThrownBy(() -> Load.to("127.0.0.1:8080").timeout(Duration.ZERO).build())
        .hasMessageContaining("timeout");
    assertThatThrownBy(() -> Load.to("127.0.0.1:8080").connections(0).build())
        .hasMessageContaining("connections");
    assertThatThrownBy(() -> Load.to("127.0.0.1:8080").requests(0).build())
        .hasMessageContaining("requests");
    assertThatThrownBy(() -> Load.to("127.0.0.1:8080").get("no-slash").build())
        .hasMessageContaining("must start with /");
    assertThatThrownBy(() -> Load.to("127.0.0.1:8080").get("/a b").build())
        .hasMessageContaining("no spaces");
  }
}
