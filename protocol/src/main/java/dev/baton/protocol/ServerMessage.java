package dev.baton.protocol;

/**
 * A line from the supervisor, as a client reads it: any number of {@link DeployEvent}s while a
 * deploy goes on, then one {@link Reply} that ends the exchange.
 */
public sealed interface ServerMessage permits DeployEvent, Reply {}
