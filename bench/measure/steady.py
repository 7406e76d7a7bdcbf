#!/usr/bin/env python3
"""Is the supervisor in the request path? The sample bare against the sample under `baton run`, side by side.

    python3 bench/measure/steady.py [ROUNDS] [--sample jvm|light] [--duration 10s]   # from the repo root

One bench run of `none` (the sample started bare) and one of `baton-steady` (the same sample under
`baton run`, never redeployed) make a round; the order alternates (none first, then baton-steady
first) so that neither always runs on a warmer or busier machine. Each run waits for a quiet
machine first. Prints each load mode's throughput per run, the medians, and the ratio of the
medians (baton-steady / none): 1.00 means the supervisor costs the app nothing.
"""
import json
import os
import statistics
import subprocess
import sys
import time

HZ = os.sysconf('SC_CLK_TCK')


def busy_seconds():
    fields = list(map(int, open('/proc/stat').readline().split()[1:9]))
    return (sum(fields) - fields[3] - fields[4]) / HZ


def wait_until_quiet():
    for _ in range(600):
        before = busy_seconds()
        time.sleep(1)
        if busy_seconds() - before < 0.1 * os.cpu_count():
            return
    sys.exit('the machine never went quiet')


def bench(scenario, sample, duration):
    wait_until_quiet()
    out = f'/tmp/baton-steady-{scenario}'
    run = subprocess.run(['bin/baton', 'bench', '--scenarios', scenario, '--sample', sample, '--duration', duration,
                          '--no-cross-check', '--json', '--out', out], capture_output=True, text=True)
    if run.returncode != 0:
        sys.exit(f'bench --scenarios {scenario} failed ({run.returncode}):\n{run.stderr}')
    loads = json.loads(run.stdout)['scenarios'][0]['loads']
    for load in loads:
        if load['failed'] != 0:
            sys.exit(f'{scenario}, {load["mode"]}: {load["failed"]} failed requests')
    return {load['mode']: load['throughput'] for load in loads}


def main(argv):
    rounds, sample, duration = 3, 'jvm', '10s'
    args = iter(argv)
    for arg in args:
        if arg == '--sample':
            sample = next(args)
        elif arg == '--duration':
            duration = next(args)
        else:
            rounds = int(arg)
    runs = {'none': [], 'baton-steady': []}
    for i in range(rounds):
        order = ['none', 'baton-steady'] if i % 2 == 0 else ['baton-steady', 'none']
        for scenario in order:
            runs[scenario].append(bench(scenario, sample, duration))
            print(f'round {i + 1}, {scenario}: ' + ', '.join(f'{m} {t:,.0f} req/s' for m, t in runs[scenario][-1].items()),
                  flush=True)
    print(f'\n{sample} sample, {rounds} rounds of {duration} per load; medians of req/s, and baton-steady / none')
    for mode in runs['none'][0]:
        bare = statistics.median(r[mode] for r in runs['none'])
        steady = statistics.median(r[mode] for r in runs['baton-steady'])
        each = ' · '.join(f'{s[mode] / b[mode]:.3f}' for b, s in zip(runs['none'], runs['baton-steady']))
        print(f'  {mode:20} none {bare:>9,.0f}   baton-steady {steady:>9,.0f}   ratio {steady / bare:.3f}'
              f'   (per round: {each})')


if __name__ == '__main__':
    main(sys.argv[1:])
