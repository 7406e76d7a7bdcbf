#!/usr/bin/env python3
"""How heavy is `baton run`? Its memory and threads idle, then over many deploys of the light sample.

    python3 bench/measure/weight.py [--deploys 5000] [--java-opts="FLAGS"] [--baton PATH] [--json]
    python3 bench/measure/weight.py --deploys 0 --nmt --class-log --mappings    # where the idle RSS goes
    python3 bench/measure/weight.py --deploys 200 --metrics 50    # with [metrics], scraped 50 times

Starts `bin/baton run` (this checkout's, or PATH's) on a config of its own in a temporary directory:
the light sample (python3 -S light_sample.py, ready by READY=1 on the notify socket) behind one
loopback listener. Once the first generation is active and the supervisor has sat idle for --settle
seconds, it reports the supervisor's RSS (VmRSS; anonymous and file-backed from smaps_rollup), its
threads by name (/proc/PID/task/*/comm), the JVM's own service threads apart from baton's, and how
often each woke up while idle (context switches over the --settle seconds).

Then it deploys --deploys times over the control socket, one connection and one
{"command":"deploy"} line each, reading replies until the line that is not an event, the next deploy
as soon as the previous one's reply arrived. It samples RSS every 100 deploys and reports RSS at the
end and again --settle seconds later, its growth over the last 1,000 deploys (or all of them, when
fewer), deploy latency (request to reply), and the supervisor's CPU per deploy: utime + stime of the
supervisor process (every thread, GC and JIT included; not its children) from /proc/PID/stat, the
delta over the deploys divided by their number. CPU figures need a quiet machine; RSS much less so.

--java-opts adds JVM flags after the launcher's own, so that they win (HotSpot takes the last of
a repeated flag): through BATON_JAVA_OPTS, which bin/baton appends; for a launcher that does not know
BATON_JAVA_OPTS, through JDK_JAVA_OPTIONS, which the java launcher puts *before* the command line's
flags, so there a flag the launcher sets itself cannot be overridden (the report says which was used).
--nmt adds Native Memory Tracking and reports `jcmd PID VM.native_memory summary` idle and at the end
(NMT costs memory of its own: do not compare RSS of an --nmt run with one without). --class-log counts
the classes loaded by the time the supervisor is idle (-Xlog:class+load), by where they came from.
--mappings prints resident memory by mapping (libjvm.so, the CDS archive, anonymous), --jcmd runs any
jcmd command idle and after the deploys (GC.heap_info, Compiler.codecache, GC.class_histogram ...).

Every process it starts ends with it: the supervisor by {"command":"stop"} on the control socket,
then, if it is still there after --stop-timeout seconds, SIGKILL to its process group (it runs in a
session of its own); any generation it saw still alive after that gets SIGKILL to its process group.
Nothing is ever looked up or killed by name. Python 3 standard library only.
"""
import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CLK_TCK = os.sysconf('SC_CLK_TCK')

# The JVM's own threads, by the start of their comm (the kernel keeps 15 characters of a name). The
# primordial thread, whose tid is the pid, is the launcher's: it only waits for the main thread.
JVM_THREADS = (
    'VM Thread', 'VM Periodic Tas', 'Reference Handl', 'Finalizer', 'Signal Dispatch', 'Service Thread',
    'Monitor Deflati', 'Notification Th', 'Common-Cleaner', 'C1 CompilerThre', 'C2 CompilerThre',
    'CompilerThread', 'Sweeper thread', 'Training repla', 'GC Thread', 'G1 ', 'GC ', 'VM JFR', 'JFR ', 'Attach Listener',
    'Native Heap Tri', 'StrDedup', 'ZDirector', 'ZDriver', 'ZStat', 'Shenandoah', 'AOT ', 'SurrogateLocker',
)


def log(message):
    print(message, file=sys.stderr, flush=True)


# --- /proc ----------------------------------------------------------------------------------------

def read(path):
    with open(path) as f:
        return f.read()


def status_kib(pid):
    """The kB fields of /proc/PID/status that say where resident memory is."""
    out = {}
    for line in read(f'/proc/{pid}/status').splitlines():
        key, _, value = line.partition(':')
        if key in ('VmRSS', 'VmHWM', 'RssAnon', 'RssFile', 'RssShmem', 'VmSize', 'VmData'):
            out[key] = int(value.split()[0])
    return out


def smaps_rollup_kib(pid):
    out = {}
    for line in read(f'/proc/{pid}/smaps_rollup').splitlines()[1:]:
        key, _, value = line.partition(':')
        parts = value.split()
        if parts and parts[-1] == 'kB':
            out[key] = int(parts[0])
    return out


def memory(pid):
    """VmRSS and its split: anonymous (heap, stacks, malloc, the JVM's own) and file-backed (libjvm,
    the CDS archive, jars): from smaps_rollup, with status's counters beside them."""
    st, sm = status_kib(pid), smaps_rollup_kib(pid)
    return {
        'rss_kib': st['VmRSS'],
        'hwm_kib': st['VmHWM'],
        'anon_kib': sm.get('Anonymous', st.get('RssAnon', 0)),
        'file_kib': sm['Rss'] - sm.get('Anonymous', 0) - st.get('RssShmem', 0),
        'shmem_kib': st.get('RssShmem', 0),
        'pss_anon_kib': sm.get('Pss_Anon'),
        'pss_file_kib': sm.get('Pss_File'),
        'private_dirty_kib': sm.get('Private_Dirty'),
    }


def mappings(pid, top=12):
    """Resident KiB by what is mapped (a file, or [heap], [stack] or anonymous), with how much of it is
    anonymous: a private file mapping written to (the CDS archive relocated, say) is anonymous too."""
    by_name, name = {}, None
    for line in read(f'/proc/{pid}/smaps').splitlines():
        head = line.split(None, 5)
        if re.match(r'^[0-9a-f]+-[0-9a-f]+ ', line):
            name = head[5] if len(head) > 5 else '[anonymous]'
            by_name.setdefault(name, [0, 0])
        elif head[0] == 'Rss:':
            by_name[name][0] += int(head[1])
        elif head[0] == 'Anonymous:':
            by_name[name][1] += int(head[1])
    rows = sorted(by_name.items(), key=lambda kv: -kv[1][0])
    return [{'mapping': n, 'rss_kib': r, 'anon_kib': a} for n, (r, a) in rows[:top] if r]


def cpu_ticks(pid):
    """utime + stime of every thread of the process, in clock ticks."""
    stat = read(f'/proc/{pid}/stat')
    fields = stat[stat.rindex(')') + 2:].split()
    return int(fields[11]) + int(fields[12])


def threads(pid):
    """Every thread's comm, split into the JVM's own service threads and the rest, which are baton's
    (or the JDK's on baton's behalf: a process reaper, virtual threads' carriers)."""
    jvm, baton = [], []
    for tid in sorted(os.listdir(f'/proc/{pid}/task'), key=int):
        try:
            name = read(f'/proc/{pid}/task/{tid}/comm').rstrip('\n')
        except FileNotFoundError:
            continue  # ended between the listing and the read
        if int(tid) == pid:
            jvm.append(name + ' (launcher, primordial)')
        elif name.startswith(JVM_THREADS):
            jvm.append(name)
        elif name == 'java':
            baton.append('java (main)')
        else:
            baton.append(name)
    return {'total': len(jvm) + len(baton), 'jvm': jvm, 'baton': baton}


def fds(pid):
    return len(os.listdir(f'/proc/{pid}/fd'))


def switches(pid):
    """Context switches so far per thread (tid -> (comm, count)): a thread that sleeps and wakes
    switches once per wake-up."""
    out = {}
    for tid in os.listdir(f'/proc/{pid}/task'):
        try:
            name = read(f'/proc/{pid}/task/{tid}/comm').rstrip('\n')
            count = sum(int(line.split()[1]) for line in read(f'/proc/{pid}/task/{tid}/status').splitlines()
                        if line.startswith(('voluntary_ctxt_switches', 'nonvoluntary_ctxt_switches')))
        except FileNotFoundError:
            continue
        out[tid] = (name, count)
    return out


def wakeups(before, after, seconds):
    """Wake-ups per second while idle, by thread name, threads that woke at all, most first."""
    rates = {}
    for tid, (name, count) in after.items():
        delta = count - before.get(tid, (name, 0))[1]
        if delta:
            rates[name] = rates.get(name, 0) + delta / seconds
    return dict(sorted(((k, round(v, 1)) for k, v in rates.items()), key=lambda kv: -kv[1]))


def alive(pid):
    try:
        with open(f'/proc/{pid}/stat') as f:
            state = f.read().rsplit(')', 1)[1].split()[0]
        return state != 'Z'
    except FileNotFoundError:
        return False


# --- the control socket ---------------------------------------------------------------------------

class Control:
    def __init__(self, path):
        self.path = path

    def call(self, request, timeout=120):
        """One connection, one request line; returns (events, reply)."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(timeout)
            s.connect(self.path)
            s.sendall((json.dumps(request) + '\n').encode())
            events = []
            with s.makefile('r', encoding='utf-8') as lines:
                for line in lines:
                    node = json.loads(line)
                    if 'event' in node:
                        events.append(node)
                    else:
                        return events, node
        raise ConnectionError(f'the supervisor closed {self.path} without a reply')


# --- the run --------------------------------------------------------------------------------------

def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def scrape(port, times):
    """GET /metrics and / on [metrics] `times` times each, as Prometheus and a browser left open would."""
    for _ in range(times):
        for path in ('/metrics', '/'):
            with socket.create_connection(('127.0.0.1', port), timeout=5) as c:
                c.sendall(f'GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n'.encode())
                reply = b''
                while chunk := c.recv(65536):
                    reply += chunk
                if not reply.startswith(b'HTTP/1.1 200'):
                    raise RuntimeError(f'GET {path} on [metrics] answered {reply[:80]!r}')


def write_config(directory, python, metrics_port=None):
    script = os.path.join(ROOT, 'sample', 'src', 'main', 'python', 'light_sample.py')
    path = os.path.join(directory, 'baton.toml')
    with open(path, 'w') as f:
        f.write(f'''# Written by bench/measure/weight.py: the light sample under baton run, as baton bench runs it.
[app]
command = [{json.dumps(python)}, "-S", {json.dumps(script)}]

[[listen]]
name = "http"
address = "127.0.0.1:0"

[readiness]
notify = true
timeout = "10s"

[drain]
timeout = "15s"

[control]
socket = "baton.sock"
''')
        if metrics_port:
            f.write(f'\n[metrics]\naddress = "127.0.0.1:{metrics_port}"\n')
    return path


class Supervisor:
    """`baton run` in a session (so a process group) of its own, and every generation it was seen to run."""

    def __init__(self, baton, config, directory, java_opts, extra_env):
        env = dict(os.environ)
        env.pop('JDK_JAVA_OPTIONS', None)
        env.update(extra_env)
        self.via = None
        if java_opts:
            with open(baton) as f:
                knows = 'BATON_JAVA_OPTS' in f.read()
            self.via = 'BATON_JAVA_OPTS' if knows else 'JDK_JAVA_OPTIONS'
            env[self.via] = ' '.join(java_opts)
            if not knows:
                log(f'weight: {baton} does not know BATON_JAVA_OPTS; passing the flags in JDK_JAVA_OPTIONS,'
                    ' before its own, which win where both set the same flag')
        self.log_path = os.path.join(directory, 'baton-run.log')
        self.log = open(self.log_path, 'wb')
        self.started = time.monotonic()
        self.process = subprocess.Popen([baton, 'run', '-c', config], cwd=directory, env=env,
                                        stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        self.pid = self.process.pid
        self.control = Control(os.path.join(directory, 'baton.sock'))
        self.generations = set()

    def await_active(self, timeout):
        """Waits for the first active generation; returns the status reply."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f'baton run exited with {self.process.returncode} before a generation was'
                                   f' active:\n{self.tail()}')
            try:
                _, reply = self.control.call({'command': 'status'}, timeout=5)
                status = reply.get('status', {})
                for g in status.get('generations', []):
                    self.generations.add(g.get('pid'))
                # Supervisors before the protocol module answered in camelCase: --baton may be one.
                active = status.get('active_generation', status.get('activeGeneration'))
                supervisor_pid = status.get('supervisor_pid', status.get('supervisorPid'))
                if active is not None:
                    if supervisor_pid not in (None, self.pid):
                        raise RuntimeError(f'the supervisor is pid {supervisor_pid}, not {self.pid}:'
                                           ' the launcher did not exec java')
                    return status
            except (OSError, ValueError):
                pass
            time.sleep(0.05)
        raise RuntimeError(f'no active generation after {timeout} s:\n{self.tail()}')

    def deploy(self):
        """One deploy; asks again while the previous one still holds the deploy slot. Returns
        (ms to the reply, ms to "promoted", the reply)."""
        for attempt in range(5000):
            t0 = time.monotonic()
            events, reply = self.control.call({'command': 'deploy'})
            t1 = time.monotonic()
            promoted = None
            for event in events:
                if event.get('pid'):
                    self.generations.add(event['pid'])
                if event.get('event') == 'promoted' and promoted is None:
                    promoted = event.get('elapsed_ms')
            if reply.get('ok') or 'already in progress' not in reply.get('error', ''):
                return (t1 - t0) * 1000, promoted, reply
            time.sleep(0.002)
        return None, None, reply

    def stop(self, timeout):
        """{"command":"stop"}, then SIGKILL to the process group if it is still there; then SIGKILL to
        the group of any generation seen that is still alive and still a light sample of this run."""
        how = 'stop'
        if self.process.poll() is None:
            try:
                self.control.call({'command': 'stop'}, timeout=timeout)
            except (OSError, ValueError) as e:
                log(f'weight: stop over the control socket failed ({e}); killing the process group')
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                how = 'SIGKILL'
                try:
                    os.killpg(self.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.process.wait(10)
        for pid in self.generations:
            if pid and pid > 1 and alive(pid):
                try:
                    if 'light_sample.py' in read(f'/proc/{pid}/cmdline'):
                        os.killpg(os.getpgid(pid), signal.SIGKILL)
                        how += f', SIGKILL to generation {pid}'
                except (ProcessLookupError, FileNotFoundError, PermissionError):
                    pass
        self.log.close()
        return how

    def tail(self, lines=15):
        with open(self.log_path, errors='replace') as f:
            return ''.join(f.readlines()[-lines:])


def jcmd(pid, *command):
    """jcmd of the supervisor's own JDK: /proc/PID/exe is its java."""
    tool = os.path.join(os.path.dirname(os.readlink(f'/proc/{pid}/exe')), 'jcmd')
    return subprocess.run([tool, str(pid), *command], capture_output=True, text=True, timeout=60).stdout


NMT_LINE = re.compile(r"^-\s+(.+?) \(reserved=(\d+)KB, committed=(\d+)KB")


def native_memory(pid):
    """`VM.native_memory summary`, as {category: committed KiB}, and its text."""
    text = jcmd(pid, 'VM.native_memory', 'summary')
    out = {}
    for line in text.splitlines():
        m = re.match(r'^Total: reserved=(\d+)KB, committed=(\d+)KB', line.strip())
        if m:
            out['Total'] = int(m.group(2))
        m = NMT_LINE.match(line.strip())
        if m:
            out[m.group(1).strip()] = int(m.group(3))
    return out, text


def class_counts(path):
    """Classes loaded so far, from an -Xlog:class+load file: by source, and by top package."""
    total, shared, by_package = 0, 0, {}
    with open(path, errors='replace') as f:
        for line in f:
            m = re.search(r'\]\s+(\S+) source: (.*)$', line)
            if not m:
                continue
            total += 1
            if 'shared' in m.group(2) or 'AOT' in m.group(2):
                shared += 1
            name = m.group(1)
            parts = name.split('.')
            key = '.'.join(parts[:3]) if name.startswith(('java.', 'jdk.', 'sun.')) else '.'.join(parts[:2])
            by_package[key] = by_package.get(key, 0) + 1
    top = sorted(by_package.items(), key=lambda kv: -kv[1])
    return {'total': total, 'from_cds_or_aot': shared, 'from_jars_or_generated': total - shared,
            'by_package': dict(top[:25])}


def run_jcmds(supervisor, commands, into, when):
    for command in commands:
        try:
            out = jcmd(supervisor.pid, *command.split())
        except (OSError, subprocess.SubprocessError) as e:
            out = f'jcmd failed: {e}'
        into.setdefault('jcmd', {})[command] = out
        log(f'jcmd {command}, {when}:\n{out}')
        if not alive(supervisor.pid):
            raise RuntimeError(f'the supervisor is gone after jcmd {command}:\n{supervisor.tail()}')


def mib(kib):
    return round(kib / 1024, 1)


def measure(args):
    directory = tempfile.mkdtemp(prefix='baton-weight-')
    metrics_port = free_port() if args.metrics else None
    config = write_config(directory, args.python, metrics_port)
    opts = list(args.java_opts.split()) if args.java_opts else []
    class_log = os.path.join(directory, 'class-load.log')
    if args.nmt:
        opts.append('-XX:NativeMemoryTracking=summary')
    if args.class_log:
        opts.append(f'-Xlog:class+load=info:file={class_log}')
    result = {'baton': args.baton, 'java_opts': args.java_opts or '', 'deploys_asked': args.deploys,
              'dir': directory, 'loadavg_start': read('/proc/loadavg').split()[:3]}
    extra_env = dict(e.split('=', 1) for e in args.env)
    result['env'] = extra_env
    supervisor = Supervisor(args.baton, config, directory, opts, extra_env)
    result['pid'] = supervisor.pid
    result['java_opts_via'] = supervisor.via
    try:
        supervisor.await_active(args.start_timeout)
        result['start_to_active_s'] = round(time.monotonic() - supervisor.started, 3)
        result['cmdline'] = read(f'/proc/{supervisor.pid}/cmdline').split('\0')[:-1]
        if metrics_port:
            # Scraped before the idle reading, so that the reading includes what serving them costs.
            scrape(metrics_port, args.metrics)
            result['metrics_scrapes'] = args.metrics
        before = switches(supervisor.pid)
        time.sleep(args.settle)
        idle_wakeups = wakeups(before, switches(supervisor.pid), args.settle)
        result['idle'] = {'memory': memory(supervisor.pid), 'threads': threads(supervisor.pid),
                          'cpu_s_so_far': cpu_ticks(supervisor.pid) / CLK_TCK,
                          'mappings': mappings(supervisor.pid), 'wakeups_per_s': idle_wakeups}
        if args.nmt:
            result['idle']['nmt'], nmt_text = native_memory(supervisor.pid)
            if args.verbose:
                log(nmt_text)
        if args.class_log:
            result['idle']['classes'] = class_counts(class_log)
        run_jcmds(supervisor, args.jcmd, result['idle'], 'idle')
        # Early, so that a long deploy run has shown this much; on stderr under --json.
        print_idle(result, file=sys.stderr if args.json else sys.stdout)
        sys.stdout.flush()

        if args.deploys:
            result['deploys'] = run_deploys(supervisor, args)
            time.sleep(args.settle)
            end = result['deploys']
            end['memory_settled'] = memory(supervisor.pid)
            end['threads_settled'] = threads(supervisor.pid)
            end['cpu_ms_per_deploy_incl_drains'] = round(
                (cpu_ticks(supervisor.pid) - end.pop('_cpu0')) * 1000 / CLK_TCK / max(1, end['done']), 2)
            if args.nmt:
                end['nmt'], nmt_text = native_memory(supervisor.pid)
                if args.verbose:
                    log(nmt_text)
            run_jcmds(supervisor, args.jcmd, end, f'after {end["done"]} deploys')
    finally:
        result['ended_by'] = supervisor.stop(args.stop_timeout)
        result['loadavg_end'] = read('/proc/loadavg').split()[:3]
    if not args.keep:
        shutil.rmtree(directory, ignore_errors=True)
    return result


def run_deploys(supervisor, args):
    pid = supervisor.pid
    samples = [{'deploys': 0, **memory(pid), 'threads': len(os.listdir(f'/proc/{pid}/task')), 'fds': fds(pid)}]
    reply_ms, promoted_ms, failed = [], [], []
    cpu0 = cpu_ticks(pid)
    t0 = time.monotonic()
    done = 0
    for i in range(1, args.deploys + 1):
        ms, promoted, reply = supervisor.deploy()
        if reply.get('ok'):
            done += 1
            reply_ms.append(ms)
            if promoted is not None:
                promoted_ms.append(promoted)
        else:
            failed.append(reply.get('error', str(reply)))
            if len(failed) >= 20:
                log('weight: 20 deploys failed; giving up')
                break
        if i % 100 == 0 or i == args.deploys:
            sample = {'deploys': i, **memory(pid), 'threads': len(os.listdir(f'/proc/{pid}/task')), 'fds': fds(pid)}
            samples.append(sample)
            if i % 500 == 0 or i == args.deploys:
                log(f'weight: {i} deploys, RSS {mib(sample["rss_kib"])} MiB (anon {mib(sample["anon_kib"])}),'
                    f' {sample["threads"]} threads, {sample["fds"]} open files')
    elapsed = time.monotonic() - t0
    cpu = cpu_ticks(pid) - cpu0
    last = samples[-1]
    window = min(1000, last['deploys'])
    before = next(s for s in samples if s['deploys'] >= last['deploys'] - window)
    tail = [s['rss_kib'] for s in samples if s['deploys'] >= last['deploys'] - window]
    reply_ms.sort()
    out = {
        'done': done, 'failed': len(failed), 'failures': failed[:5], 'seconds': round(elapsed, 1),
        'memory_end': {k: v for k, v in last.items() if k != 'deploys'},
        'growth_window_deploys': last['deploys'] - before['deploys'],
        'rss_growth_over_window_kib': last['rss_kib'] - before['rss_kib'],
        'rss_max_over_window_kib': max(tail), 'rss_min_over_window_kib': min(tail),
        'cpu_ms_per_deploy': round(cpu * 1000 / CLK_TCK / max(1, done), 2),
        'reply_ms': percentiles(reply_ms),
        'promoted_ms': percentiles(sorted(promoted_ms)),
        'samples': samples,
        '_cpu0': cpu0,
    }
    return out


def percentiles(values):
    if not values:
        return {}
    def at(q):
        return round(values[min(len(values) - 1, int(q * len(values)))], 2)
    return {'median': round(statistics.median(values), 2), 'p90': at(0.9), 'p99': at(0.99), 'max': round(values[-1], 2)}


def print_idle(r, file):
    idle = r['idle']
    m, t = idle['memory'], idle['threads']
    print(f'baton run, pid {r["pid"]}: {" ".join(r["cmdline"])}', file=file)
    if r['java_opts']:
        print(f'  extra JVM flags ({r["java_opts_via"]}): {r["java_opts"]}', file=file)
    if r['env']:
        print(f'  environment: {" ".join(k + "=" + v for k, v in r["env"].items())}', file=file)
    print(f'  active {r["start_to_active_s"]} s after start; CPU {idle["cpu_s_so_far"]:.2f} s by idle', file=file)
    print(f'  idle, one generation: RSS {mib(m["rss_kib"])} MiB (anon {mib(m["anon_kib"])}, file {mib(m["file_kib"])},'
          f' shmem {mib(m["shmem_kib"])}), peak {mib(m["hwm_kib"])} MiB', file=file)
    print(f'  threads {t["total"]}: baton {len(t["baton"])} ({", ".join(t["baton"])});'
          f' JVM {len(t["jvm"])} ({", ".join(t["jvm"])})', file=file)
    if idle.get('wakeups_per_s') is not None:
        w = idle['wakeups_per_s']
        print(f'  idle wake-ups: {round(sum(w.values()), 1)}/s ('
              + ', '.join(f'{k} {v}' for k, v in w.items()) + ')', file=file)
    if args_mappings:
        print('  resident by mapping, MiB (of it anonymous): ' + ', '.join(
            f'{os.path.basename(x["mapping"])} {mib(x["rss_kib"])} ({mib(x["anon_kib"])})' for x in idle['mappings']), file=file)
    if 'nmt' in idle:
        nmt = idle['nmt']
        parts = ', '.join(f'{k} {mib(v)}' for k, v in sorted(nmt.items(), key=lambda kv: -kv[1]) if v >= 256)
        print(f'  NMT committed, MiB: {parts}', file=file)
    if 'classes' in idle:
        c = idle['classes']
        print(f'  classes loaded by idle: {c["total"]} ({c["from_cds_or_aot"]} from the CDS/AOT archive,'
              f' {c["from_jars_or_generated"]} from jars or generated)', file=file)
        print('    ' + ', '.join(f'{k} {v}' for k, v in list(c['by_package'].items())[:15]), file=file)


def print_report(r, file):
    d = r.get('deploys')
    if d:
        m, s = d['memory_end'], d['memory_settled']
        print(f'  {d["done"]} deploys ({d["failed"]} failed) in {d["seconds"]} s: RSS at the end {mib(m["rss_kib"])} MiB'
              f' (anon {mib(m["anon_kib"])}), peak {mib(s["hwm_kib"])} MiB; {mib(s["rss_kib"])} MiB and'
              f' {d["threads_settled"]["total"]} threads {args_settle} s later', file=file)
        print(f'  RSS over the last {d["growth_window_deploys"]} deploys: {d["rss_growth_over_window_kib"]:+d} KiB'
              f' (min {mib(d["rss_min_over_window_kib"])}, max {mib(d["rss_max_over_window_kib"])} MiB)', file=file)
        print(f'  supervisor CPU per deploy: {d["cpu_ms_per_deploy"]} ms'
              f' ({d["cpu_ms_per_deploy_incl_drains"]} ms with the last drains)', file=file)
        print(f'  deploy, request to reply: median {d["reply_ms"].get("median")} ms, p99 {d["reply_ms"].get("p99")} ms;'
              f' spawn to promoted median {d["promoted_ms"].get("median")} ms', file=file)
        if 'nmt' in d:
            parts = ', '.join(f'{k} {mib(v)}' for k, v in sorted(d['nmt'].items(), key=lambda kv: -kv[1]) if v >= 256)
            print(f'  NMT committed at the end, MiB: {parts}', file=file)
        if d['failures']:
            print(f'  failures: {d["failures"]}', file=file)
    print(f'  load average {" ".join(r["loadavg_start"])} at the start, {" ".join(r["loadavg_end"])} at the end;'
          f' ended by {r["ended_by"]}', file=file)


args_settle = 12
args_mappings = False


def interrupt(signum, frame):
    # As for Ctrl-C: measure()'s finally stops the supervisor.
    raise KeyboardInterrupt()


def main():
    global args_settle, args_mappings
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    p.add_argument('--deploys', type=int, default=5000, help='deploys to run after the idle reading (default 5000)')
    p.add_argument('--java-opts', default='', help='JVM flags to add after the launcher\'s own')
    p.add_argument('--baton', default=os.path.join(ROOT, 'bin', 'baton'), help='the launcher to measure')
    p.add_argument('--python', default='/usr/bin/python3', help='the light sample\'s interpreter')
    p.add_argument('--settle', type=float, default=12,
                   help='seconds idle before the idle reading, and after the last deploy (default 12: the JVM frees'
                   ' its compiler\'s scratch memory every 5 s, so a reading sooner sees start-up\'s leftovers)')
    p.add_argument('--metrics', type=int, default=0, metavar='N',
                   help='add a [metrics] table and GET /metrics and / N times each before the idle reading')
    p.add_argument('--nmt', action='store_true', help='Native Memory Tracking summaries, idle and at the end')
    p.add_argument('--class-log', action='store_true', help='count the classes loaded by idle')
    p.add_argument('--start-timeout', type=float, default=300, help='seconds to the first active generation'
                   ' (bin/baton may build first)')
    p.add_argument('--stop-timeout', type=float, default=30)
    p.add_argument('--keep', action='store_true', help='keep the temporary directory (config, log)')
    p.add_argument('--json', action='store_true', help='the result as JSON on stdout')
    p.add_argument('--env', action='append', default=[], metavar='NAME=VALUE',
                   help='set in the supervisor\'s environment (so its generations\' too); repeatable')
    p.add_argument('--jcmd', action='append', default=[], metavar='COMMAND',
                   help='a jcmd command to run at the idle reading and after the deploys, e.g. GC.heap_info;'
                   ' repeatable')
    p.add_argument('--mappings', action='store_true', help='print resident memory by mapping (always in --json)')
    p.add_argument('--verbose', action='store_true', help='print NMT\'s full text too')
    args = p.parse_args()
    args.baton = os.path.abspath(args.baton)
    args_settle = args.settle
    args_mappings = args.mappings
    signal.signal(signal.SIGTERM, interrupt)
    try:
        result = measure(args)
    except KeyboardInterrupt:
        sys.exit('weight: interrupted; the supervisor was stopped')
    except RuntimeError as e:
        sys.exit(f'weight: {e}')
    if args.json:
        json.dump(result, sys.stdout, indent=1)
        print()
    else:
        print_report(result, sys.stdout)


if __name__ == '__main__':
    main()
