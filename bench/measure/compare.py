#!/usr/bin/env python3
"""Side-by-side runs of bench's load generator and wrk / ab against the same nginx, for MEASUREMENTS.md.

    python3 bench/measure/compare.py            # from the repo root, after `mvn -pl bench install`
                                                # and with nginx started from bench/measure/nginx.conf

Each pair runs in turn (ours, then the reference), three rounds, and the median is reported. This
machine is shared: a run starts only once the CPUs have been idle for a second, and a run during
which other processes used more than half a CPU-second is thrown away and repeated.
"""
import glob
import os
import re
import resource
import statistics
import subprocess
import sys
import time

HZ = os.sysconf('SC_CLK_TCK')
TARGET = '127.0.0.1:18081'
JAVA = '/usr/lib/jvm/temurin-25-jdk-amd64/bin/java'
CP = ':'.join(['bench/target/classes', 'bench/target/test-classes']
              + glob.glob(os.path.expanduser('~/.m2/repository/org/hdrhistogram/HdrHistogram/2.2.2/*.jar')))
OURS = f'{JAVA} -cp {CP} dev.baton.bench.MeasureLoad {TARGET}'
URL = f'http://{TARGET}/'

PAIRS = [
    ('keep-alive, c=50, 10 s', f'{OURS} keep-alive 50 10s', f'wrk -t2 -c50 -d10s {URL}'),
    ('connection per request, c=50, 10 s', f'{OURS} per-request 50 10s',
     f"wrk -t2 -c50 -d10s -H 'Connection: close' {URL}"),
    ('c=1, connection per request, 20,000 requests', f'{OURS} per-request 1 n=20000', f'ab -c1 -n 20000 {URL}'),
]


def busy_seconds():
    fields = list(map(int, open('/proc/stat').readline().split()[1:9]))
    return (sum(fields) - fields[3] - fields[4]) / HZ


def server_seconds():
    master = open('/tmp/ngx/nginx.pid').read().strip()
    pids = [master] + subprocess.run(['pgrep', '-P', master], capture_output=True, text=True).stdout.split()
    total = 0.0
    for pid in pids:
        fields = open(f'/proc/{pid}/stat').read().rsplit(')', 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / HZ
    return total


def wait_until_quiet():
    for _ in range(1800):
        before = busy_seconds()
        time.sleep(1)
        if busy_seconds() - before < 0.1 * os.cpu_count():
            return
    sys.exit('the machine never went quiet')


def requests_per_second(output):
    for pattern in (r'Requests/sec:\s+([\d.]+)', r'Requests per second:\s+([\d.]+)', r'([\d,.]+) req/s'):
        match = re.search(pattern, output)
        if match:
            return float(match.group(1).replace(',', ''))
    sys.exit('no rate in:\n' + output)


def measure(command):
    """Requests per second of one undisturbed run, and the CPU-seconds the generator used."""
    for _ in range(10):
        wait_until_quiet()
        server0, busy0 = server_seconds(), busy_seconds()
        usage0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        output = subprocess.run(command, shell=True, capture_output=True, text=True).stdout
        usage1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        generator = usage1.ru_utime - usage0.ru_utime + usage1.ru_stime - usage0.ru_stime
        others = busy_seconds() - busy0 - generator - (server_seconds() - server0)
        if others < 0.5:
            return requests_per_second(output), generator
        print(f'    (disturbed: others used {others:.1f} CPU-s; again)', file=sys.stderr)
    sys.exit('every run was disturbed')


for name, ours, reference in PAIRS:
    rates = {ours: [], reference: []}
    for round_ in range(3):
        for command in (ours, reference):
            rate, cpu = measure(command)
            rates[command].append(rate)
            print(f'  {name}, round {round_ + 1}: {rate:9.0f} req/s, generator {cpu:5.2f} CPU-s  {command[:60]}',
                  file=sys.stderr)
    ours_median, reference_median = statistics.median(rates[ours]), statistics.median(rates[reference])
    print(f'{name}: bench {ours_median:,.0f} req/s {sorted(round(r) for r in rates[ours])}, '
          f'reference {reference_median:,.0f} req/s {sorted(round(r) for r in rates[reference])}, '
          f'ratio {ours_median / reference_median:.2f}')
