#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""bench/scale: berth-provisioner's memory and idle cost among many
claims and PVs that are not its own.

    bench_scale.py BERTH-PROVISIONER SCALE-POPULATE N[,N...] M [PROVISIONER FLAGS...]

Runs under tests/bed/bed.py run k8s nfs (see run.sh). Fresh provisioner
processes, one after another, on one bed:

  1. base: only the StorageClasses exist.
  2. own:  M claims of berth's class ("scale-nfs", NFS on the bed's
           ganesha) are created; a provisioner makes their volumes
           (settle_own_s: start to the last claim Bound and unguarded) and
           stops; a fresh one starts over the M bound claims and M PVs.
  3. all:  for each N (increasing), claims and PVs of another provisioner
           (bound pairs of class "other", bench/scale/scale-populate.c)
           are added up to N pairs (checked: N of each Bound); a fresh
           provisioner starts over everything, settles, then idles for
           IDLE_S seconds (60). Each N's figures follow a line
           "## foreign_pairs=N".

"Settled" means /readyz answers 200 (lease held, every informer listed),
the work queue is empty, and the resident set stayed the same for three
seconds (the provisioner trims its heap one second after work).

Everything (scale-populate, the provisioner) talks to kube-apiserver
itself, not through the bed's fault proxy (VIA_PROXY=1: through it).
Environment: IDLE_S (60), POPULATE_THREADS (16), POPULATE_UNTIL (Unix
time: no pair is begun after it; the step measures the N reached and
the larger ones are skipped), INFORMER_BENCH and INFORMER_AT (10000):
bench/informer's figures taken on this bed at that N. Prints key=value
lines:

  populate_*_ms             creating the objects (scale-populate)
  populate_*_bind_ms        then until kube-controller-manager is idle
  populate_*_cpu_*_ms       CPU the control plane's processes used for it
  settle_own_s              provisioning the M claims (step 2)
  rss_base_kib              step 1, settled
  rss_own_kib               step 2's fresh process, settled
  settle_s                  step 3: start to settled, with N + N + 2M
  rss_kib                   step 3, settled (the headline figure)
  rss_idle_kib              step 3, after the idle minute
  peak_rss_kib              step 3's VmHWM (the lists in flight)
  rss_anon_kib, rss_file_kib  step 3's resident set: heap and stacks
                            versus mapped files (shared libraries)
  bytes_per_own_object      (rss_own - rss_base) / 2M  (claims and PVs)
  bytes_per_foreign_object  (rss - rss_own) / 2N
  idle_cpu_ms               user+system CPU used during the idle minute
  heap_*_kib                step 3's malloc figures (in use, free inside
                            the heap, mmapped), from its metrics
  cached_*                  the informers' objects gauges in step 3
  smaps_*                   step 3's resident memory after the idle minute,
                            by kind (smaps.py)
"""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "tests", "integration"))
from test_provisioner_lib import API, admin, apply, storage_class, v3_url  # noqa: E402

IDLE_S = int(os.environ.get("IDLE_S", "60"))
THREADS = int(os.environ.get("POPULATE_THREADS", "16"))
# The benchmark talks to kube-apiserver itself: the bed's fault proxy
# (Python, one thread per connection) is for the fault tests, and in front
# of 100,000 objects it would be what settle_s measures. VIA_PROXY=1 to
# go through it anyway.
VIA_PROXY = os.environ.get("VIA_PROXY") == "1"
KUBECONFIG = os.environ["KUBECONFIG" if VIA_PROXY else "BERTH_K8S_ADMIN_KUBECONFIG"]
TICK = os.sysconf("SC_CLK_TCK")


class Prov:
    def __init__(self, binary, flags, name):
        self.log = os.path.join(os.environ.get("TMPDIR", "/tmp"), "scale-%s.log" % name)
        argv = [binary, "--provisioner", "berth.io/nfs=nfs", "--http-endpoint",
                "127.0.0.1:0", "--usage-interval", "0", "--kube-api-qps", "2000",
                "--kube-api-burst", "4000"] + flags
        self.t0 = time.monotonic()
        self.proc = subprocess.Popen(argv, stdout=open(self.log, "w"),
                                     stderr=subprocess.STDOUT,
                                     env=dict(os.environ, KUBECONFIG=KUBECONFIG))
        self.port = None

    def status(self, key):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
        return 0

    def smaps(self, key):
        with open("/proc/%d/smaps_rollup" % self.proc.pid) as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
        return 0

    def cpu_ms(self):
        with open("/proc/%d/stat" % self.proc.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) * 1000 // TICK

    def http(self, path):
        if self.port is None:
            for line in open(self.log):
                if "http endpoint listening" in line:
                    self.port = int(line.rsplit("port=", 1)[1].split()[0])
            if self.port is None:
                return None, ""
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d%s" % (self.port, path),
                                        timeout=10) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, ""
        except OSError:
            return None, ""

    def metrics(self):
        out = {}
        for line in self.http("/metrics")[1].splitlines():
            if line and not line.startswith("#"):
                k, _, v = line.rpartition(" ")
                out[k] = float(v)
        return out

    def settle(self, timeout, pred=lambda: True):
        """Poll until settled (see the top); seconds since the start."""
        deadline = time.monotonic() + timeout
        last = None
        stable_since = settled_at = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit("the provisioner exited; see %s" % self.log)
            ready = self.http("/readyz")[0] == 200
            m = self.metrics() if ready else {}
            busy = m.get("berth_provisioner_queue_depth", 1) + \
                m.get("berth_provisioner_queue_in_flight", 1)
            if ready and busy == 0 and pred():
                if last is None:
                    settled_at = time.monotonic()
                rss = self.status("VmRSS")
                if rss != last:
                    last, stable_since = rss, time.monotonic()
                elif time.monotonic() - stable_since >= 3.0:
                    return settled_at - self.t0
            else:
                last = None
            time.sleep(0.1)
        raise SystemExit("not settled within %d s; see %s" % (timeout, self.log))

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def all_bound(api, m):
    claims = api.claims("scale-own")
    done = [c for c in claims
            if (c.get("status") or {}).get("phase") == "Bound" and
            "provisioner.berth.io/provisioning" not in (c["metadata"].get("finalizers") or [])]
    return len(done) == m


def bed_cpu_ms():
    """CPU time (user + system, ms) of each of the bed's control-plane
    processes, found by the bed's work directory in their command lines."""
    workdir = os.path.dirname(os.environ["BERTH_K8S_ADMIN_KUBECONFIG"])
    names = {"kube-apiserver": "apiserver", "etcd": "etcd",
             "kube-controller-manager": "kcm", "kube-scheduler": "scheduler",
             "k8s_proxy.py": "proxy"}
    out = dict.fromkeys(names.values(), 0)
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                argv = f.read().decode(errors="replace").split("\0")
            with open("/proc/%s/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if workdir not in " ".join(argv):
            continue
        for exe, name in names.items():
            if any(os.path.basename(a) == exe for a in argv[:2]):
                out[name] += (int(fields[11]) + int(fields[12])) * 1000 // TICK
    return out


def wait_idle(what, t, limit=3600):
    """Until kube-controller-manager's queues are empty (in slices: the
    admin call times out); whether they were within limit seconds."""
    while not admin("POST", "/idle", {"timeout": 20}).get("idle"):
        if time.monotonic() - t > limit:
            return False
    return True


def check_foreign(tool, n):
    """scale-populate check: N claims and N PVs Bound, no ClaimLost."""
    out = subprocess.run([tool, "check", str(n)], check=True, capture_output=True,
                         text=True, env=dict(os.environ, KUBECONFIG=KUBECONFIG)).stdout
    return out, out.split() == ["foreign_bound_claims=%d" % n, "foreign_bound_volumes=%d" % n,
                                "claim_lost_events=0"]


def populate(tool, what, n, start=0):
    """Create the objects; the N reached (less than n when POPULATE_UNTIL
    passed first)."""
    cpu0, t0 = bed_cpu_ms(), time.monotonic()
    argv = [tool, what, str(n), str(THREADS)] + ([str(start)] if start else [])
    env = dict(os.environ, KUBECONFIG=KUBECONFIG)
    if os.environ.get("POPULATE_UNTIL"):
        env["SCALE_POPULATE_UNTIL"] = os.environ["POPULATE_UNTIL"]
    out = subprocess.run(argv, check=True, capture_output=True, text=True,
                         env=env).stdout
    sys.stdout.write(out)
    for line in out.split():
        if line.startswith("populate_foreign_reached="):
            n = int(line.split("=")[1])
    # The server's PV controller binds (own claims) or confirms (foreign
    # pairs) what was created: wait until its queues are empty. With tens
    # of thousands of pairs they may never be (its resync of every claim
    # and PV every 15 s takes longer than that on a loaded machine): then
    # what counts is that every pair is Bound, and the binder left no
    # ClaimLost.
    t = time.monotonic()
    idle = wait_idle("populating", t, 3600 if what == "own" else 300)
    if what == "own" and not idle:
        raise SystemExit("kube-controller-manager is still busy after populating")
    print("populate_%s_bind_ms=%d" % (what, (time.monotonic() - t) * 1000))
    print("populate_%s_kcm_idle=%d" % (what, idle))
    cpu1 = bed_cpu_ms()
    for k in sorted(cpu1):
        print("populate_%s_cpu_%s_ms=%d" % (what, k, cpu1[k] - cpu0[k]))
    print("populate_%s_wall_ms=%d" % (what, (time.monotonic() - t0) * 1000))
    if what == "foreign":
        out, ok = check_foreign(tool, n)
        while not ok and time.monotonic() - t < 3600:
            time.sleep(5)  # poll again, until the deadline
            out, ok = check_foreign(tool, n)
        sys.stdout.write(out)
        if not ok:
            raise SystemExit("not every foreign pair is Bound, or the binder lost some")
    return n


def measure_all(binary, flags, n, rss_own):
    """Step 3 for N foreign pairs: a fresh provisioner over everything."""
    p = Prov(binary, flags, "all-%d" % n)
    print("settle_s=%.2f" % p.settle(3600))
    rss = p.status("VmRSS")
    anon = p.smaps("Anonymous")
    print("rss_kib=%d" % rss)
    print("rss_anon_kib=%d" % anon)
    print("rss_file_kib=%d" % (rss - anon))
    print("peak_rss_kib=%d" % p.status("VmHWM"))
    print("threads=%d" % p.status("Threads"))
    mt = p.metrics()
    for st in ("in_use", "free", "mmapped"):
        print("heap_%s_kib=%d" % (st, mt.get('berth_provisioner_heap_bytes{state="%s"}' % st,
                                             -1024) // 1024))
    for res in ("persistentvolumeclaims", "persistentvolumes", "storageclasses"):
        print("cached_%s=%d" % (res, mt.get(
            'berth_provisioner_informer_objects{resource="%s"}' % res, -1)))
    cpu0 = p.cpu_ms()
    # The idle minute is the measurement itself (CPU used while nothing
    # changes), not a wait for something.
    time.sleep(IDLE_S)
    print("idle_s=%d" % IDLE_S)
    print("idle_cpu_ms=%d" % (p.cpu_ms() - cpu0))
    print("rss_idle_kib=%d" % p.status("VmRSS"))
    sys.stdout.flush()
    subprocess.run([sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                 "smaps.py"), str(p.proc.pid)], check=True)
    p.stop()
    print("bytes_per_foreign_object=%d" % ((rss - rss_own) * 1024 // (2 * n)))
    sys.stdout.flush()


def informer(bench, n):
    """bench/informer's figures on this bed (N foreign pairs, the own
    claims and PVs besides): its sync modes, churn seen end to end
    straight from kube-apiserver and through the fault proxy, and its
    decoder on a claim as this server sends it."""
    print("## informer_bench foreign_pairs=%d" % n)
    sys.stdout.flush()
    sample = os.path.join(os.environ.get("TMPDIR", "/tmp"), "scale-claim.json")
    with open(sample, "w") as f:
        json.dump(API().claim("fc-000001", "scale-f-1"), f, separators=(",", ":"))
    direct = dict(os.environ, KUBECONFIG=os.environ["BERTH_K8S_ADMIN_KUBECONFIG"])
    runs = [(["decode", "200000"], direct), (["decode", "50000", sample], direct),
            (["decode", "50000", sample, "drop"], direct),
            (["sync", "whole"], direct), (["sync", "trimmed"], direct),
            (["sync", "foreign"], direct), (["churn", "2000"], direct),
            (["churn", "2000"], dict(os.environ))]
    for argv, env in runs:
        print("informer_run=%s via=%s" % (
            " ".join("real-claim" if a == sample else a for a in argv),
            "proxy" if env is not direct else "apiserver"))
        sys.stdout.flush()
        subprocess.run([bench] + argv, check=True, env=env)
        sys.stdout.flush()


def main():
    binary, tool, ns, m, flags = sys.argv[1], sys.argv[2], sys.argv[3], \
        int(sys.argv[4]), sys.argv[5:]
    sizes = [int(x) for x in ns.split(",")]
    if sizes != sorted(sizes) or sizes[0] < 1:
        raise SystemExit("N: increasing sizes, comma-separated (1000,10000,50000)")
    api = API()
    print("foreign_pairs=%s own_claims=%d" % (ns, m))
    print("provisioner_flags=%s" % " ".join(flags))
    print("api_server=%s" % ("the bed's fault proxy" if VIA_PROXY else "kube-apiserver"))
    apply(storage_class("scale-nfs", {"url": v3_url(), "archiveOnDelete": "false"}),
          {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
           "metadata": {"name": "other"}, "provisioner": "example.com/other"})

    p = Prov(binary, flags, "base")
    p.settle(120)
    rss_base = p.status("VmRSS")
    print("rss_base_kib=%d" % rss_base)
    p.stop()

    populate(tool, "own", m)
    p = Prov(binary, flags, "own")
    print("settle_own_s=%.2f" % p.settle(1800, lambda: all_bound(api, m)))
    print("rss_own_provisioned_kib=%d" % p.status("VmRSS"))
    print("peak_rss_own_provisioned_kib=%d" % p.status("VmHWM"))
    p.stop()
    p = Prov(binary, flags, "own2")
    p.settle(120)
    rss_own = p.status("VmRSS")
    print("rss_own_kib=%d" % rss_own)
    mt = p.metrics()
    print("heap_own_in_use_kib=%d heap_own_free_kib=%d" % (
        mt.get('berth_provisioner_heap_bytes{state="in_use"}', -1024) // 1024,
        mt.get('berth_provisioner_heap_bytes{state="free"}', -1024) // 1024))
    p.stop()
    print("bytes_per_own_object=%d" % ((rss_own - rss_base) * 1024 // (2 * m)))
    sys.stdout.flush()

    done = 0
    for n in sizes:
        if n <= done:
            break
        print("## foreign_pairs=%d" % n)
        reached = populate(tool, "foreign", n, done)
        if reached < n:
            print("## POPULATE_UNTIL passed: foreign_pairs=%d reached, not %d" % (reached, n))
        n = done = reached
        measure_all(binary, flags, n, rss_own)
        if os.environ.get("INFORMER_BENCH") and n == int(os.environ.get("INFORMER_AT", "10000")):
            informer(os.environ["INFORMER_BENCH"], n)


if __name__ == "__main__":
    main()
