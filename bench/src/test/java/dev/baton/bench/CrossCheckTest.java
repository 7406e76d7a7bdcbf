package dev.baton.bench;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class CrossCheckTest {
  @Test
  void wrkOutputGivesRequestsFailuresAndLatency() {
    var check =
        CrossCheck.parseWrk(
            "wrk",
            """
        Running 10s test @ http://127.0.0.1:8080/
          2 threads and 50 connections
          Thread Stats   Avg      Stdev     Max   +/- Stdev
            Latency     1.36ms    3.33ms  64.70ms   96.71%
            Req/Sec    25.85k     5.71k   31.32k    85.00%
          Latency Distribution
             50%  520.00us
             75%    1.01ms
             90%    2.00ms
             99%   15.20ms
          257345 requests in 5.00s, 25.03MB read
          Socket errors: connect 3, read 12, write 1, timeout 0
          Non-2xx or 3xx responses: 5
        Requests/sec:  51453.35
        """);
    assertThat(check.requests()).isEqualTo(257345);
    assertThat(check.failed()).isEqualTo(21);
    assertThat(check.meanMs().getAsDouble()).isEqualTo(1.36);
    assertThat(check.p50Ms().getAsDouble()).isEqualTo(0.52);
    assertThat(check.p99Ms().getAsDouble()).isEqualTo(15.2);
    assertThat(check.maxMs().getAsDouble()).isEqualTo(64.7);
    assertThat(check.throughput()).isEqualTo(51453.35);
    assertThat(check.gaveUp()).isEmpty();
  }

  @Test
  void abOutputGivesRequestsFailuresAndLatency() {
    var check =
        CrossCheck.parseAb(
            "ab",
            """
        Complete requests:      10100
        Failed requests:        7
           (Connect: 0, Receive: 7, Length: 0, Exceptions: 0)
        Non-2xx responses:      2
        Requests per second:    3366.66 [#/sec] (mean)
        Time per request:       0.297 [ms] (mean)
        Time per request:       0.297 [ms] (mean, across all concurrent requests)
        Percentage of the requests served within a certain time (ms)
          50%      0
          99%      1
         100%      5 (longest request)
        """);
    assertThat(check.requests()).isEqualTo(10100);
    assertThat(check.failed()).isEqualTo(9);
    assertThat(check.failures()).contains("receive 7");
    assertThat(check.meanMs().getAsDouble()).isEqualTo(0.297);
    assertThat(check.p99Ms().getAsDouble()).isEqualTo(1);
    assertThat(check.maxMs().getAsDouble()).isEqualTo(5);
  }

  @Test
  void absLengthFailuresAreNotFailedRequests() {
    // After generation 9, "generation 10 pid ..." is a byte longer: ab calls every later answer
    // failed.
    var check =
        CrossCheck.parseAb(
            "ab",
            """
        Complete requests:      5000
        Failed requests:        4003
           (Connect: 0, Receive: 3, Length: 4000, Exceptions: 0)
        """);
    assertThat(check.failed()).isEqualTo(3);
    assertThat(check.failures())
        .contains("receive 3")
        .contains("not counted: 4000 bodies of another length");
  }

  @Test
  void abThatStopsAtARefusedConnectionCountsAsAFailureAndSaysWhy() {
    var check = CrossCheck.parseAb("ab", "apr_socket_connect(): Connection refused (111)\n");
    assertThat(check.failed()).isEqualTo(1);
    assertThat(check.gaveUp())
        .hasValueSatisfying(reason -> assertThat(reason).contains("Connection refused"));
  }
}
