package dev.baton.os;

/** SO_PEERCRED of a Unix stream connection: who is on the other end, as the kernel saw it. */
public record PeerCredentials(int pid, int uid, int gid) {}
