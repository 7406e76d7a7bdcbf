/** baton bench: load while redeploying, counted failures, latency percentiles and plots. */
module dev.baton.bench {
  requires static org.jspecify;
  requires dev.baton.config;
  requires dev.baton.os;
  requires dev.baton.protocol;
  requires java.desktop;
  requires tools.jackson.databind;
  requires HdrHistogram;
  requires org.knowm.xchart;

  exports dev.baton.bench;
}
