#!/usr/bin/env python3
"""How long does an operator wait for the CLI? Wall time of `baton status`, `deploy`, `rollback`,
`stop` and `--version` against a running supervisor, for one or more baton launchers side by side.

    python3 bench/measure/cli.py [--rounds 20] [--json] BATON [BATON ...]
    python3 bench/measure/cli.py /usr/bin/baton /tmp/old/baton-0.1.0/bin/baton     # after vs before
    python3 bench/measure/cli.py /usr/bin/baton /usr/bin/baton                       # the A/A control

Each BATON gets a supervisor of its own (`BATON run` on a config in a temporary directory: one
loopback listener, `sleep 600` as the app, ready once it has stayed alive for 10 ms), so that a deploy
or a rollback costs the supervisor a few milliseconds and the figure is mostly the CLI's. The JVM's
own start is measured beside them, as a floor no JVM command goes under: `java -version` of the
runtime the launcher runs (a release's runtime/bin/java, else the JDK on JAVA_HOME or PATH).

Rounds are interleaved: in each, every BATON runs every command once, the BATONs in turn and the
order of both reversed every other round, so that drift in the machine's speed falls on all alike.
A rollback always follows a deploy. `stop` ends the supervisor, so each round starts a new one for
each BATON first (not timed). A deploy
and a rollback also report the supervisor's own share, from the `elapsed_ms` of the `promoted` or
`resumed` event (`--json`); what is left is the CLI's. Quote medians, and ratios of medians from one
run; measure on a quiet machine.

Every process it starts ends with it: a supervisor by `stop`, or, if it is still there after 10 s,
SIGKILL to its process group (it runs in a session of its own). Python 3 standard library only.
"""
import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

COMMANDS = ('java -version', '--version', 'status', 'status --json', 'deploy', 'rollback', 'stop')


def runtime_java(baton):
    """The java a launcher runs: a release's bundled runtime, else the JDK's."""
    release = os.path.join(os.path.dirname(os.path.dirname(os.path.realpath(baton))), 'runtime', 'bin', 'java')
    if os.path.exists(release):
        return release
    home = os.environ.get('JAVA_HOME')
    return os.path.join(home, 'bin', 'java') if home else shutil.which('java')


class Service:
    def __init__(self, baton, workdir):
        self.baton = baton
        self.workdir = workdir
        self.config = os.path.join(workdir, 'baton.toml')
        self.socket = os.path.join(workdir, 'baton.sock')
        with open(self.config, 'w') as f:
            f.write('[[listen]]\naddress = "127.0.0.1:0"\n\n'
                    '[app]\ncommand = ["sleep", "600"]\n\n'
                    '[readiness]\nalive = "10ms"\n\n'
                    '[drain]\ntimeout = "2s"\n\n'
                    f'[control]\nsocket = "{self.socket}"\n')
        self.supervisor = None

    def start(self):
        log = open(os.path.join(self.workdir, 'supervisor.log'), 'ab')
        self.supervisor = subprocess.Popen([self.baton, 'run', '-c', self.config], stdout=log,
                                           stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if subprocess.run([self.baton, 'status', '-c', self.config], capture_output=True).returncode == 0:
                return
            if self.supervisor.poll() is not None:
                break
            time.sleep(0.1)
        raise SystemExit(f'cli.py: {self.baton} run did not come up; see {self.workdir}/supervisor.log')

    def argv(self, command):
        if command == 'java -version':
            return [runtime_java(self.baton), '-version']
        words = command.split()
        return [self.baton] + words + ([] if command == '--version' else ['-c', self.config])

    def end(self):
        if self.supervisor is None:
            return
        try:
            self.supervisor.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.supervisor.pid, signal.SIGKILL)
            self.supervisor.wait()
        self.supervisor = None


def timed(argv):
    start = time.monotonic()
    done = subprocess.run(argv, capture_output=True, text=True)
    wall = time.monotonic() - start
    if done.returncode != 0:
        raise SystemExit(f'cli.py: {" ".join(argv)} exited {done.returncode}: {done.stderr.strip()}')
    return wall, done.stdout


def supervisor_share(stdout):
    """The supervisor's own time for a deploy or rollback, from its promoted or resumed event."""
    for line in stdout.splitlines():
        event = json.loads(line)
        if event.get('event') in ('promoted', 'resumed'):
            return event['elapsed_ms'] / 1000
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('batons', nargs='+', metavar='BATON')
    parser.add_argument('--rounds', type=int, default=20)
    parser.add_argument('--json', action='store_true')
    args = parser.parse_args()

    workdir = tempfile.mkdtemp(prefix='baton-cli.')
    services = []
    for i, baton in enumerate(args.batons):
        os.mkdir(os.path.join(workdir, str(i)))
        services.append(Service(baton, os.path.join(workdir, str(i))))
    walls = {(i, c): [] for i in range(len(services)) for c in COMMANDS}
    shares = {(i, c): [] for i in range(len(services)) for c in ('deploy', 'rollback')}
    try:
        for round_ in range(args.rounds):
            order = list(enumerate(services))
            commands = list(COMMANDS[:-1])
            if round_ % 2:
                order.reverse()
                commands.reverse()
                # A rollback needs the deploy before it.
                d, r = commands.index('deploy'), commands.index('rollback')
                commands[d], commands[r] = 'rollback', 'deploy'
            for _, service in order:
                service.start()
            for command in commands:
                for i, service in order:
                    argv = service.argv(command)
                    if command in ('deploy', 'rollback'):
                        wall, out = timed(argv[:2] + ['--json'] + argv[2:])
                        share = supervisor_share(out)
                        if share is not None:
                            shares[(i, command)].append(share)
                    else:
                        wall, _ = timed(argv)
                    walls[(i, command)].append(wall)
            for i, service in order:
                wall, _ = timed(service.argv('stop'))
                walls[(i, 'stop')].append(wall)
                service.end()
            print(f'round {round_ + 1}/{args.rounds}', file=sys.stderr)
    finally:
        for service in services:
            if service.supervisor is not None:
                os.killpg(service.supervisor.pid, signal.SIGKILL)
                service.supervisor.wait()
        shutil.rmtree(workdir, ignore_errors=True)

    report = []
    for i, service in enumerate(services):
        for command in COMMANDS:
            row = {'baton': service.baton, 'index': i, 'command': command,
                   'median_ms': round(statistics.median(walls[(i, command)]) * 1000, 1),
                   'min_ms': round(min(walls[(i, command)]) * 1000, 1),
                   'max_ms': round(max(walls[(i, command)]) * 1000, 1),
                   'runs': len(walls[(i, command)])}
            if shares.get((i, command)):
                row['supervisor_median_ms'] = round(statistics.median(shares[(i, command)]) * 1000, 1)
            report.append(row)
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f'{"BATON":<44} {"COMMAND":<14} {"MEDIAN":>8} {"MIN":>8} {"MAX":>8}  SUPERVISOR')
    for row in report:
        share = f'{row["supervisor_median_ms"]:.1f} ms' if 'supervisor_median_ms' in row else ''
        print(f'{str(row["index"]) + ": " + row["baton"]:<44} {row["command"]:<14} '
              f'{row["median_ms"]:>6.1f}ms {row["min_ms"]:>6.1f}ms {row["max_ms"]:>6.1f}ms  {share}')
    if len(services) > 1:
        print('\nratio of medians to the first BATON:')
        for i in range(1, len(services)):
            ratios = []
            for command in COMMANDS:
                a = statistics.median(walls[(i, command)])
                b = statistics.median(walls[(0, command)])
                ratios.append(f'{command} {a / b:.2f}')
            print(f'  {i}: ' + ', '.join(ratios))


if __name__ == '__main__':
    main()
