#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""berth's test bed: real servers on 127.0.0.1, on ports picked at run time.

    bed.py start [--dir DIR] [COMPONENT ...]   start, print `export` lines
    bed.py stop [--dir DIR]                    stop what start started
    bed.py status [--dir DIR]                  show what runs
    bed.py ctl [--dir DIR] COMPONENT ARGS...   change a running component
    bed.py run [COMPONENT ...] -- CMD ARGS...  start, run CMD with the
                                               exports, stop; CMD's status
    bed.py isolate -- CMD ARGS...              run CMD in a private network
                                               namespace (as run does)

Components: see COMPONENTS below; with none named, all of them start.
State lives in DIR (default: a new temporary directory, remembered in
$TMPDIR/berth-bed.current so that a bare `stop` finds it).
"""

import argparse
import importlib
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bedlib  # noqa: E402

# Component name -> module. Order is start order.
COMPONENTS = {
    "nfs": "bed_nfs",
    "dns": "bed_dns",
    "https": "bed_https",
    "k8s": "bed_k8s",
    # The snapshot CRDs and kubernetes-csi's snapshot-controller on the
    # real control plane (tests/snapshotter); needs "k8s".
    "snapshot": "bed_snapshot",
    "aws": "bed_aws",
    # moto's server: a second opinion on AWS (tests/aws/moto-venv.sh).
    "moto": "bed_moto",
}
# Components that only start when named.
NOT_DEFAULT = ("moto", "snapshot")


def available():
    """The components whose module is present, in start order."""
    here = os.path.dirname(os.path.abspath(__file__))
    return [n for n, m in COMPONENTS.items() if n not in NOT_DEFAULT
            and os.path.exists(os.path.join(here, m + ".py"))]

CURRENT = os.path.join(tempfile.gettempdir(), "berth-bed.current")


def load_state(d):
    path = os.path.join(d, "state.json")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def save_state(d, state):
    tmp = os.path.join(d, "state.json.tmp")
    with open(tmp, "w") as f:
        json.dump(state, f, indent=2)
    os.replace(tmp, os.path.join(d, "state.json"))


def exports(state):
    env = {"BERTH_BED_DIR": state["dir"],
           "BERTH_BED": os.path.abspath(__file__)}
    for comp in state["components"].values():
        env.update(comp.get("env", {}))
    return env


def stop_dir(d):
    state = load_state(d)
    if state is not None:
        for name in reversed(list(state["components"])):
            comp = state["components"][name]
            mod = importlib.import_module(COMPONENTS[name])
            if hasattr(mod, "stop"):
                try:
                    mod.stop(os.path.join(d, name), comp)
                except Exception as e:  # keep stopping the rest
                    print("bed: stopping %s: %s" % (name, e), file=sys.stderr)
            for pid in comp.get("pids", []):
                bedlib.kill_pid(pid)
    shutil.rmtree(d, ignore_errors=True)


def start(d, names):
    os.makedirs(d, exist_ok=True)
    # Start order is COMPONENTS' order, whatever the order named.
    names = sorted(names, key=lambda n: list(COMPONENTS).index(n)
                   if n in COMPONENTS else len(COMPONENTS))
    state = {"dir": d, "components": {}}
    save_state(d, state)
    try:
        for name in names:
            if name not in COMPONENTS:
                raise bedlib.BedError("unknown component %r (known: %s)" %
                                      (name, ", ".join(COMPONENTS)))
            mod = importlib.import_module(COMPONENTS[name])
            work = os.path.join(d, name)
            os.makedirs(work, exist_ok=True)
            state["components"][name] = mod.start(work)
            save_state(d, state)
    except BaseException:
        stop_dir(d)
        raise
    return state


def resolve_dir(args):
    if args.dir:
        return os.path.abspath(args.dir)
    if os.environ.get("BERTH_BED_DIR"):
        return os.environ["BERTH_BED_DIR"]
    if os.path.exists(CURRENT):
        with open(CURRENT) as f:
            return f.read().strip()
    return None


def running_pids(d):
    """The recorded server pids of the bed in d that still run."""
    state = load_state(d) if d and os.path.isdir(d) else None
    if state is None:
        return []
    return [p for c in state["components"].values() for p in c.get("pids", [])
            if bedlib.pid_alive(p)]


def cmd_start(args):
    if not args.dir and os.path.exists(CURRENT):
        # berth-bed.current names the bed a bare `stop` stops: a second bed
        # must not take it over in silence (the first would be orphaned).
        with open(CURRENT) as f:
            cur = f.read().strip()
        if running_pids(cur):
            print("bed: a bed already runs in %s (its servers: pids %s); stop it "
                  "first (scripts/bed stop), or start another with --dir DIR"
                  % (cur, " ".join(str(p) for p in running_pids(cur))), file=sys.stderr)
            return 1
        print("bed: %s (in %s) names a bed that no longer runs: replacing it"
              % (cur, CURRENT), file=sys.stderr)
        stop_dir(cur)
    d = os.path.abspath(args.dir) if args.dir else tempfile.mkdtemp(prefix="berth-bed-")
    state = start(d, args.components or available())
    if not args.dir:
        with open(CURRENT, "w") as f:
            f.write(d + "\n")
    for k, v in exports(state).items():
        print("export %s=%s" % (k, shlex.quote(str(v))))
    return 0


def cmd_stop(args):
    d = resolve_dir(args)
    if d is None or not os.path.isdir(d):
        print("bed: nothing to stop", file=sys.stderr)
        return 0
    state = load_state(d)
    names = list(state["components"]) if state else []
    pids = running_pids(d)
    stop_dir(d)
    # Say what was stopped only once it is: every recorded server gone.
    left = [p for p in pids if bedlib.pid_alive(p)]
    if os.path.exists(CURRENT):
        with open(CURRENT) as f:
            if f.read().strip() == d:
                os.unlink(CURRENT)
    if left:
        print("bed: stopping %s: pids %s still run" % (d, " ".join(map(str, left))),
              file=sys.stderr)
        return 1
    print("bed: stopped %s (%s; pids %s)" % (d, ", ".join(names) or "nothing",
                                            " ".join(map(str, pids)) or "-"),
          file=sys.stderr)
    return 0


def cmd_status(args):
    d = resolve_dir(args)
    state = load_state(d) if d else None
    if state is None:
        print("bed: not running")
        return 1
    ok = True
    for name, comp in state["components"].items():
        alive = [p for p in comp.get("pids", []) if bedlib.pid_alive(p)]
        up = bool(comp.get("pids")) and len(alive) == len(comp["pids"])
        ok = ok and up
        print("%-6s %s pids=%s %s" % (name, "up" if up else "DOWN",
                                      comp.get("pids"), json.dumps(comp.get("env", {}))))
    return 0 if ok else 1


def cmd_ctl(args):
    d = resolve_dir(args)
    state = load_state(d) if d else None
    if state is None or args.component not in state["components"]:
        print("bed: %s is not running" % args.component, file=sys.stderr)
        return 1
    mod = importlib.import_module(COMPONENTS[args.component])
    new = mod.ctl(os.path.join(d, args.component),
                  state["components"][args.component], args.args)
    if new is not None:
        state["components"][args.component] = new
        save_state(d, state)
    return 0


# Inside a private network namespace, only a private loopback exists: so a
# server that insists on a fixed port on every address (rpcbind, on port
# 111 of 0.0.0.0: Debian's rpcbind aborts when given -h) is reachable from
# loopback only, and parallel tests each have their own. A private /run and
# TMPDIR keep rpcbind's socket and the beds' lock files apart too. glibc's
# AI_ADDRCONFIG ignores loopback addresses, and ganesha resolves its bind
# address with it, so lo also gets one private non-loopback address per
# family (reachable from inside the namespace only, like everything else).
ISOLATE_SCRIPT = (
    'ip link set lo up && ip addr add 10.254.254.1/32 dev lo && '
    '{ ip addr add fd00:be:27::1/128 dev lo 2>/dev/null || true; } && '
    'mount -t tmpfs -o mode=755 berth-run /run && '
    'mkdir -p /run/rpcbind /run/lock && exec "$@"')


def can_isolate():
    if os.environ.get("BERTH_BED_ISOLATED") or os.environ.get("BERTH_BED_NO_NETNS"):
        return False
    if not (os.geteuid() == 0 and shutil.which("unshare") is not None
            and shutil.which("ip") is not None):
        return False
    # A container may forbid new namespaces even to root: probe once.
    probe = subprocess.call(["unshare", "--net", "--mount", "true"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if probe != 0:
        print("bed: cannot make a private network namespace; servers share "
              "the host's loopback", file=sys.stderr)
    return probe == 0


def isolated(argv):
    """Run argv in a private network and mount namespace; its status."""
    if not can_isolate():
        return subprocess.call(argv)
    tmp = tempfile.mkdtemp(prefix="berth-bed-ns-")
    env = dict(os.environ, BERTH_BED_ISOLATED="1", TMPDIR=tmp)
    try:
        return subprocess.call(["unshare", "--net", "--mount",
                                "--propagation", "private", "--",
                                "/bin/sh", "-c", ISOLATE_SCRIPT, "sh"] + argv,
                               env=env)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def cmd_isolate(args):
    if not args.cmd:
        print("bed: isolate needs -- CMD", file=sys.stderr)
        return 2
    return isolated(args.cmd)


def cmd_run(args):
    argv = args.cmd
    if not argv:
        print("bed: run needs -- CMD", file=sys.stderr)
        return 2
    if can_isolate():
        return isolated([sys.executable, os.path.abspath(__file__), "run"] +
                        args.components + ["--"] + argv)
    d = tempfile.mkdtemp(prefix="berth-bed-")
    try:
        state = start(d, args.components or available())
        env = dict(os.environ)
        env.update(exports(state))
        return subprocess.call(argv, env=env)
    finally:
        stop_dir(d)


def main():
    p = argparse.ArgumentParser(description="berth's test bed of real servers")
    sub = p.add_subparsers(dest="verb", required=True)
    s = sub.add_parser("start")
    s.add_argument("--dir")
    s.add_argument("components", nargs="*")
    s = sub.add_parser("stop")
    s.add_argument("--dir")
    s = sub.add_parser("status")
    s.add_argument("--dir")
    s = sub.add_parser("ctl")
    s.add_argument("--dir")
    s.add_argument("component")
    s.add_argument("args", nargs=argparse.REMAINDER)
    sub.add_parser("run", help="run [COMPONENT ...] -- CMD ARGS...")
    sub.add_parser("isolate", help="isolate -- CMD ARGS... (private netns)")
    raw = sys.argv[1:]
    if raw[:1] in (["run"], ["isolate"]):
        # argparse cannot split "COMPONENT ... -- CMD ..." reliably.
        cut = raw.index("--") if "--" in raw else len(raw)
        args = argparse.Namespace(verb=raw[0], components=raw[1:cut],
                                  cmd=raw[cut + 1:])
    else:
        args = p.parse_args()
    try:
        return {"start": cmd_start, "stop": cmd_stop, "status": cmd_status,
                "ctl": cmd_ctl, "run": cmd_run,
                "isolate": cmd_isolate}[args.verb](args)
    except bedlib.BedError as e:
        print("bed: %s" % e, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
