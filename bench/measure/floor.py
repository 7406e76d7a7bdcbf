#!/usr/bin/env python3
"""The floor under the supervisor's RSS: the smallest JVM programs, started with `baton run`'s flags.

    python3 bench/measure/floor.py [--rounds 5] [--settle 6] [--json]

Each program below is compiled into a temporary directory with the JDK that bin/baton uses, then
started with the flags of bin/lib/supervisor.jvm-options and left idle for --settle seconds; its
VmRSS is read from /proc. The programs are run interleaved, round after round, and the median of
each is reported, next to the supervisor's own idle figure (bench/measure/weight.py --deploys 0).

  sleep      main() prints one line and sleeps: the JVM with baton's flags and nothing else.
  epoll      one epoll_create1 and a loop of epoll_wait, through FFM downcalls with errno capture:
             the least a Java event loop on Linux needs from the JDK's foreign function API.
  jackson    epoll, plus one small record written and read as JSON with Jackson 3, as the
             supervisor does for its journal and control protocol (jars from cli/target/lib).
  logback    epoll, plus one SLF4J log line through Logback, as the supervisor logs.

`epoll` above `sleep` is the price of FFM; `jackson` and `logback` above `epoll` the price of
each library; the supervisor above the sum is its own code and state.
Every process it starts is ended by its pid. Python 3 standard library only.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

EPOLL = r'''
import java.lang.foreign.*;
import java.lang.invoke.MethodHandle;

public class Epoll {
  static final Linker LINKER = Linker.nativeLinker();

  static MethodHandle libc(String name, FunctionDescriptor descriptor) {
    return LINKER.downcallHandle(LINKER.defaultLookup().find(name).orElseThrow(), descriptor,
        Linker.Option.captureCallState("errno"));
  }

  public static void main(String[] args) throws Throwable {
    MethodHandle create = libc("epoll_create1", FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    MethodHandle await = libc("epoll_wait", FunctionDescriptor.of(ValueLayout.JAVA_INT,
        ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    try (var arena = Arena.ofConfined()) {
      var state = arena.allocate(Linker.Option.captureStateLayout());
      int epoll = (int) create.invokeExact(state, 0);
      var events = arena.allocate(12 * 16);
      Extra.run();
      System.out.println("idle");
      while (true) {
        int ready = (int) await.invokeExact(state, epoll, events, 16, 1000);
      }
    }
  }
}
'''

NO_EXTRA = 'class Extra { static void run() {} }\n'

JACKSON = r'''
import java.util.List;
import java.util.Map;
import tools.jackson.databind.json.JsonMapper;

class Extra {
  record Doc(String name, List<String> argv, Map<String, String> env) {}

  static void run() throws Exception {
    var json = JsonMapper.builder().build();
    json.readValue(json.writeValueAsString(new Doc("x", List.of("a", "b"), Map.of("K", "V"))), Doc.class);
  }
}
'''

LOGBACK = r'''
class Extra {
  static void run() {
    org.slf4j.LoggerFactory.getLogger("floor").info("one line, {}", "formatted");
  }
}
'''

SLEEP = r'''
public class Sleep {
  public static void main(String[] args) throws Exception {
    System.out.println("idle");
    Thread.sleep(Long.MAX_VALUE);
  }
}
'''


def jdk():
    found = subprocess.run(['bash', '-c', f'source "{ROOT}/bin/lib/jdk.sh" && echo "$jdk"'],
                           capture_output=True, text=True)
    if found.returncode != 0:
        sys.exit(found.stderr.strip())
    return found.stdout.strip()


def supervisor_flags():
    with open(os.path.join(ROOT, 'bin', 'lib', 'supervisor.jvm-options')) as f:
        return [line.strip() for line in f if line.strip() and not line.startswith('#')]


def compile_programs(java_home, work, classpath):
    programs = {}
    for name, sources, cp in (('sleep', {'Sleep.java': SLEEP}, None),
                              ('epoll', {'Epoll.java': EPOLL, 'Extra.java': NO_EXTRA}, None),
                              ('jackson', {'Epoll.java': EPOLL, 'Extra.java': JACKSON}, classpath),
                              ('logback', {'Epoll.java': EPOLL, 'Extra.java': LOGBACK}, classpath)):
        out = os.path.join(work, name)
        os.makedirs(out)
        files = []
        for file, text in sources.items():
            path = os.path.join(out, file)
            with open(path, 'w') as f:
                f.write(text)
            files.append(path)
        command = [os.path.join(java_home, 'bin', 'javac'), '-nowarn', '-d', out]
        if cp:
            command += ['-cp', cp]
        subprocess.run(command + files, check=True)
        main = 'Sleep' if name == 'sleep' else 'Epoll'
        programs[name] = (out + (os.pathsep + cp if cp else ''), main)
    return programs


def rss_kib(pid):
    with open(f'/proc/{pid}/status') as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1])
    raise RuntimeError('no VmRSS')


def run_once(java_home, flags, classpath, main, settle):
    command = [os.path.join(java_home, 'bin', 'java'), '--enable-native-access=ALL-UNNAMED', *flags,
               '-cp', classpath, main]
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        for line in child.stdout:
            if line.strip() == 'idle':
                break
        else:
            raise RuntimeError(f'{main} did not start: {" ".join(command)}')
        time.sleep(settle)
        return rss_kib(child.pid)
    finally:
        child.kill()
        child.wait()


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--rounds', type=int, default=5)
    p.add_argument('--settle', type=float, default=6, help='seconds idle before RSS is read (default 6)')
    p.add_argument('--json', action='store_true')
    args = p.parse_args()
    lib = os.path.join(ROOT, 'cli', 'target', 'lib')
    if not os.path.isdir(lib):
        sys.exit(f'{lib} is missing: build first (bin/baton --version builds it)')
    classpath = os.path.join(lib, '*')
    java_home = jdk()
    flags = supervisor_flags()
    with tempfile.TemporaryDirectory(prefix='baton-floor-') as work:
        programs = compile_programs(java_home, work, classpath)
        results = {name: [] for name in programs}
        for round_ in range(args.rounds):
            names = list(programs) if round_ % 2 == 0 else list(reversed(programs))
            for name in names:
                cp, main_class = programs[name]
                results[name].append(run_once(java_home, flags, cp, main_class, args.settle))
    medians = {name: statistics.median(values) / 1024 for name, values in results.items()}
    if args.json:
        json.dump({'flags': flags, 'rounds': args.rounds, 'rss_kib': results,
                   'median_mib': medians}, sys.stdout, indent=2)
        print()
        return
    print(f'idle RSS with the supervisor\'s flags, median of {args.rounds} interleaved rounds:')
    for name, value in medians.items():
        spread = ', '.join(f'{v / 1024:.1f}' for v in results[name])
        print(f'  {name:<10} {value:5.1f} MiB   ({spread})')


if __name__ == '__main__':
    main()
