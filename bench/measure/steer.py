#!/usr/bin/env python3
"""baton, baton-bpf and reuseport-migrate side by side, each against a baseline of its own run, with
an A/A control: the ratios of BENCHMARKS.md's "BPF steering in `baton bench`".

    python3 bench/measure/steer.py [--rounds 2] [--duration 6s] [--rhythm 100ms] [--out DIR] [--baton bin/baton]

Each round runs four short `baton bench` invocations, one after another, each with the light sample,
a deploy every 100 ms (--rhythm), the loads c=1 and c=50 per-request and no cross-check:
`--scenarios none,X` for X = baton, baton-bpf, reuseport-migrate and baton again (the A/A control,
baton'; bench runs baton-steady in those too, since none is there); the order is reversed every
other round, so that drift in the machine falls on all alike. Each X is compared with the `none` of
its own invocation (bench's "against the baseline" ratios), and each X's ratio with baton's of the
same round. reuseport-migrate's invocation runs in bench's network namespace (it sets
tcp_migrate_req there), the others on the host's loopback: each ratio is against a baseline on the
same loopback. The 1-minute load average is read before and after each invocation and printed with
it; on 2 cores, figures taken above about 3 are not quiet. The runs' report.json files and
steer.json (what was printed) stay in --out.

Needs root (baton-bpf's BPF program, the namespace). Every process is bench's, which ends them.
Python 3 standard library only.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

ROWS = ('baton', 'baton-bpf', 'reuseport-migrate', "baton'")
MODES = ('c=1', 'c=50 per-request')


def load_average():
    return float(open('/proc/loadavg').read().split()[0])


def invoke(baton, row, duration, rhythm, out):
    scenario = row.rstrip("'")
    argv = [baton, 'bench', '--sample', 'light', '--scenarios', 'none,' + scenario,
            '--modes', 'c1,per-request', '--duration', duration, '--rhythm', rhythm,
            '--no-cross-check', '--out', out]
    os.makedirs(out, exist_ok=True)
    before = load_average()
    with open(os.path.join(out, 'bench.err'), 'w') as err:
        status = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=err).returncode
    after = load_average()
    report = json.load(open(os.path.join(out, 'report.json')))
    found = {}
    for s in report['scenarios']:
        if s['scenario'] != scenario:
            continue
        for load in s['loads']:
            found[load['mode']] = {
                'failed': load['failed'], 'requests': load['requests'], 'reloads': load['reloads'],
                **{k: load['againstBaseline'][k] for k in ('mean', 'p99', 'max', 'throughput')}}
        found['promotedMs'] = s.get('reloadTimingsMs', {}).get('promoted', {}).get('median')
        found['cpuMsPerDeploy'] = s.get('supervisor', {}).get('cpuMsPerDeploy')
    ratios = '; '.join(f'{m}: mean {found[m]["mean"]:.2f}x, p99 {found[m]["p99"]:.2f}x, '
                       f'{found[m]["reloads"]} reloads' for m in MODES if m in found)
    print(f'  {row:18} exit {status}, load average {before:.2f} -> {after:.2f}; {ratios}', flush=True)
    return {'row': row, 'status': status, 'load': [before, after], **found}


def main():
    parser = argparse.ArgumentParser(description=' '.join(__doc__.split('\n\n')[0].split()))
    parser.add_argument('--rounds', type=int, default=2)
    parser.add_argument('--duration', default='6s')
    parser.add_argument('--rhythm', default='100ms')
    parser.add_argument('--out', default='/tmp/baton-steer')
    parser.add_argument('--baton', default='bin/baton')
    args = parser.parse_args()
    runs = []
    for r in range(args.rounds):
        order = ROWS if r % 2 == 0 else tuple(reversed(ROWS))
        print(f'round {r + 1}: {", ".join(order)}', flush=True)
        for row in order:
            out = os.path.join(args.out, f'{r + 1}-{row.replace(chr(39), "-aa")}')
            runs.append({'round': r, **invoke(args.baton, row, args.duration, args.rhythm, out)})
    json.dump(runs, open(os.path.join(args.out, 'steer.json'), 'w'), indent=1)

    def of(row, mode, key):
        return [x[mode][key] for x in runs if x['row'] == row and mode in x]

    for mode in MODES:
        print(f'\n{mode}: against the baseline of its own run, median of {args.rounds} rounds'
              ' (mean / p99 / max / throughput), then each ratio over baton\'s of the same round')
        for row in ROWS:
            med = [statistics.median(of(row, mode, k)) for k in ('mean', 'p99', 'max', 'throughput')]
            paired = []
            for k in ('mean', 'p99', 'throughput'):
                pairs = [x[mode][k] / b[mode][k] for x in runs for b in runs
                         if x['row'] == row and b['row'] == 'baton' and x['round'] == b['round']
                         and mode in x and mode in b]
                paired.append(statistics.median(pairs) if pairs else float('nan'))
            failed, requests = sum(of(row, mode, 'failed')), sum(of(row, mode, 'requests'))
            print(f'  {row:18} {med[0]:.2f} / {med[1]:.2f} / {med[2]:.2f} / {med[3]:.2f}'
                  f'   over baton: mean {paired[0]:.3f}, p99 {paired[1]:.3f}, throughput {paired[2]:.3f}'
                  f'   {failed:,} failed of {requests:,}, {sum(of(row, mode, "reloads"))} reloads')
    for row in ROWS:
        promoted = [x['promotedMs'] for x in runs if x['row'] == row and x.get('promotedMs')]
        cpu = [x['cpuMsPerDeploy'] for x in runs if x['row'] == row and x.get('cpuMsPerDeploy')]
        print(f'{row:18} promoted, median of the runs\' medians: '
              f'{statistics.median(promoted) if promoted else float("nan"):.1f} ms'
              + (f'; supervisor CPU per deploy {statistics.median(cpu):.1f} ms' if cpu else ''))
    return 0 if all(x['status'] == 0 for x in runs) else 1


if __name__ == '__main__':
    sys.exit(main())
