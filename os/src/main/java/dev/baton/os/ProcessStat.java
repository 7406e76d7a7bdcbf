package dev.baton.os;

/**
 * What /proc says about a process, for a restarted supervisor to tell its own generations from any
 * other process: who its parent is, which process group and session it is in, whose it is, and when
 * it started (clock ticks since boot).
 */
public record ProcessStat(int pid, int parent, int group, int session, int uid, long startTime) {}
