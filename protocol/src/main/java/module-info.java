/**
 * baton's control protocol: the typed requests, replies, deploy events and status that go over a
 * supervisor's control socket and its remote API ({@link dev.baton.protocol.Request}, {@link
 * dev.baton.protocol.Reply}, {@link dev.baton.protocol.DeployEvent}, {@link
 * dev.baton.protocol.Status}), their one JSON codec ({@link dev.baton.protocol.Codec}) over
 * Jackson's streaming core ({@link dev.baton.protocol.Json}), and the client ({@link
 * dev.baton.protocol.ControlClient}).
 */
module dev.baton.protocol {
  requires static org.jspecify;

  // Json's writers take a JsonGenerator.
  requires transitive tools.jackson.core;

  exports dev.baton.protocol;
}
