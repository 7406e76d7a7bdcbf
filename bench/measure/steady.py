#!/usr/bin/env python3
"""Is the supervisor in the request path? The sample bare against the same sample under `baton run`.

    python3 bench/measure/steady.py [--sample light|jvm] [--pairs 20] [--slice 1]   # from the repo root

Both run at once, idle unless loaded: the sample bound to a port of its own, and `baton run` with the
sample behind its own listener. wrk then loads one and the other in turn, a slice of a second each,
the order flipping every pair, so that the slow drift of a shared host falls on both alike. Three
loads: c=50 keep-alive, c=50 with a connection per request, and c=1 with a connection per request.
Prints, per load, the median req/s of each side and the median of the per-pair ratios (baton / bare):
1.00 means the supervisor costs the app nothing. Needs wrk; ends every process it started.
"""
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
JAVA = '/usr/lib/jvm/temurin-25-jdk-amd64/bin/java'
LOADS = [
    ('c=50 keep-alive', ['-t2', '-c50']),
    ('c=50 per-request', ['-t2', '-c50', '-H', 'Connection: close']),
    ('c=1 per-request', ['-t1', '-c1', '-H', 'Connection: close']),
]


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def sample_argv(sample):
    if sample == 'light':
        return ['/usr/bin/python3', '-S', f'{ROOT}/sample/src/main/python/light_sample.py']
    return [JAVA, '-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC', '-Xss512k', '-XX:-UsePerfData', '-jar',
            f'{ROOT}/sample/target/baton-sample.jar']


def await_answer(port, deadline=60):
    end = time.time() + deadline
    while time.time() < end:
        try:
            with socket.create_connection(('127.0.0.1', port), timeout=1) as s:
                s.sendall(b'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
                if s.recv(100).startswith(b'HTTP/1.1 200'):
                    return
        except OSError:
            pass
        time.sleep(0.1)
    sys.exit(f'nothing answered on 127.0.0.1:{port} within {deadline} s')


def wrk(port, options, seconds):
    out = subprocess.run(['wrk', *options, f'-d{seconds}s', f'http://127.0.0.1:{port}/'],
                         capture_output=True, text=True, timeout=seconds + 30).stdout
    errors = re.search(r'Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)', out)
    if errors and any(int(n) for n in errors.groups()) or 'Non-2xx' in out:
        sys.exit(f'wrk saw failed requests:\n{out}')
    return float(re.search(r'Requests/sec:\s+([0-9.]+)', out).group(1))


def main(argv):
    sample, pairs, seconds = 'light', 20, 1
    args = iter(argv)
    for arg in args:
        if arg == '--sample':
            sample = next(args)
        elif arg == '--pairs':
            pairs = int(next(args))
        elif arg == '--slice':
            seconds = int(next(args))
        else:
            sys.exit(__doc__)
    bare_port, baton_port = free_port(), free_port()
    work = tempfile.mkdtemp(prefix='baton-steady-')
    argv_toml = ', '.join(f'"{w}"' for w in sample_argv(sample))
    readiness = 'notify = true' if sample == 'light' else 'http = "/healthz"'
    config = os.path.join(work, 'baton.toml')
    with open(config, 'w') as f:
        f.write(f'[app]\ncommand = [{argv_toml}]\n\n[[listen]]\nname = "http"\naddress = "127.0.0.1:{baton_port}"\n\n'
                f'[readiness]\n{readiness}\ntimeout = "30s"\n\n[control]\nsocket = "baton.sock"\n')
    started = []
    try:
        for argv in (sample_argv(sample) + [f'--port={bare_port}'], [f'{ROOT}/bin/baton', 'run', '-c', config]):
            started.append(subprocess.Popen(argv, cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                            start_new_session=True))
        await_answer(bare_port)
        await_answer(baton_port)
        results = {name: {'bare': [], 'baton': []} for name, _ in LOADS}
        for i in range(pairs):
            for name, options in LOADS:
                order = [('bare', bare_port), ('baton', baton_port)]
                for side, port in order if i % 2 == 0 else reversed(order):
                    results[name][side].append(wrk(port, options, seconds))
            print(f'pair {i + 1}/{pairs}: ' + ', '.join(
                f'{n} {r["baton"][-1] / r["bare"][-1]:.3f}' for n, r in results.items()), flush=True)
        print(f'\n{sample} sample, {pairs} pairs of {seconds} s slices per load, wrk; medians')
        for name, r in results.items():
            ratios = [b / a for a, b in zip(r['bare'], r['baton'])]
            print(f'  {name:18} bare {statistics.median(r["bare"]):>9,.0f} req/s   baton run {statistics.median(r["baton"]):>9,.0f}'
                  f' req/s   baton / bare {statistics.median(ratios):.3f}'
                  f'   (quartiles {statistics.quantiles(ratios, n=4)[0]:.3f} to {statistics.quantiles(ratios, n=4)[2]:.3f})')
    finally:
        for process in reversed(started):
            if process.poll() is None:
                # SIGTERM to the group: baton run drains its generation; the bare sample drains.
                os.killpg(process.pid, signal.SIGTERM)
        for process in reversed(started):
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


if __name__ == '__main__':
    main(sys.argv[1:])
