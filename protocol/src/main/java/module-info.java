/**
 * baton's control protocol: the typed requests, replies, deploy events and status that go over a
 * supervisor's control socket and its remote API ({@link dev.baton.protocol.Request}, {@link
 * dev.baton.protocol.Reply}, {@link dev.baton.protocol.DeployEvent}, {@link
 * dev.baton.protocol.Status}), their one JSON codec ({@link dev.baton.protocol.Codec}), and the
 * client ({@link dev.baton.protocol.ControlClient}).
 */
module dev.baton.protocol {
  requires static org.jspecify;
  requires tools.jackson.databind;

  exports dev.baton.protocol;

  // The codec binds the records, its own private ones too, by reflection.
  opens dev.baton.protocol to
      tools.jackson.databind;
}
