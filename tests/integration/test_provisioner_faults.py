#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""berth-provisioner: every claim Bound once the faults end.

  A. API faults during a burst of 60 claims: watches dropped every few
     events, 410 Gone on watches (and the history compacted, so resuming
     needs a relist), 429 with Retry-After, 500/503, 409 conflicts on
     writes, slow answers, and two failed Lease renewals (which the leader
     survives: its renew deadline is longer);
  B. the NFS server paused (SIGSTOP) with provisioning in flight, then
     resumed;
  C. the NFS server stopped, claims made meanwhile fail and back off, the
     server started again on the same ports: they are provisioned;
  D. a PV that cannot be saved (500 on every PV create): the claim keeps
     our finalizer while its directory exists; deleting the claim cleans
     the directory up, so nothing leaks.

    test_provisioner_faults.py BERTH-PROVISIONER   (under bed.py run k8s nfs)
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import time

from test_provisioner_lib import (API, CLAIM_FINALIZER, Provisioner, admin, apply, check,
                                  claim, clear_faults, create, events_for, export_dir, fault,
                                  kubectl, log, poll, run, storage_class, v3_url, volume_dirs,
                                  wait_bound, wait_unguarded)


def api_faults():
    fault(kind="watch-drop", after=3, resource="persistentvolumeclaims", count=6)
    fault(kind="watch-drop", after=3, resource="persistentvolumes", count=6)
    fault(kind="watch-gone", resource="persistentvolumeclaims", count=2)
    fault(kind="watch-gone", resource="persistentvolumes", count=2, http=True)
    fault(kind="throttle", resource="persistentvolumes", verb="create", count=8, retryAfter=1)
    # berth no longer writes claims on the way to a PV (no finalizer): the
    # Events are the other writes a claim costs.
    fault(kind="throttle", resource="events", verb="create", count=8)
    fault(kind="error", code=500, resource="persistentvolumes", verb="create", count=6)
    fault(kind="error", code=503, resource="events", verb="create", count=6)
    fault(kind="error", code=500, resource="persistentvolumeclaims", verb="list", count=2)
    fault(kind="latency", ms=300, resource="events", count=20)
    fault(kind="error", code=500, resource="leases", verb="update", count=2)


def phase_api(api, p, root):
    api_faults()
    names = ["f-%02d" % i for i in range(60)]
    create(*[claim(n, "faults") for n in names])
    poll(lambda: len(volume_dirs(root)) >= 10, 60, "10 directories")
    # Open watches predate the faults: close them (and forget the history,
    # so that resuming needs a relist) until the watch faults are used up.
    closed = [0.0]

    def used_up():
        left = [f for f in admin("GET", "/faults")["faults"] if "count" in f]
        if left and time.monotonic() - closed[0] > 1.0:
            admin("POST", "/compact", {"keep": 0})
            admin("POST", "/watches/close")
            closed[0] = time.monotonic()
        return not left
    poll(used_up, 60, "the counted faults to be used up", interval=0.2)
    clear_faults()
    log("API faults used up: %s" % admin("GET", "/requests?limit=0")["byCode"])
    wait_bound(api, names, 90)
    check(len(volume_dirs(root)) == 60, "%d directories, want 60" % len(volume_dirs(root)))
    check(p.starts == 1 and p.alive(), "the provisioner died under API faults")
    return names


def phase_pause(api, root):
    pid = int(os.environ["BERTH_NFS_PID"])
    os.kill(pid, signal.SIGSTOP)
    try:
        names = ["pause-%02d" % i for i in range(10)]
        create(*[claim(n, "faults") for n in names])
        poll(lambda: events_for(api, "pause-00", "Provisioning"), 30,
             "provisioning in flight while NFS is paused")
    finally:
        os.kill(pid, signal.SIGCONT)
    wait_bound(api, names, 90)
    log("NFS paused with provisioning in flight, resumed: all Bound")
    return names


class Ganesha:
    """Stop the bed's ganesha and start it again on the same ports."""

    def __init__(self):
        d = os.path.join(os.environ["BERTH_BED_DIR"], "nfs")
        self.argv = [shutil.which("ganesha.nfsd"), "-F", "-f", os.path.join(d, "ganesha.conf"),
                     "-L", os.path.join(d, "ganesha.log"), "-p", os.path.join(d, "ganesha.pid"),
                     "-N", "NIV_EVENT"]
        self.proc = None

    def stop_bed_server(self):
        pid = int(os.environ["BERTH_NFS_PID"])
        os.kill(pid, signal.SIGTERM)
        poll(lambda: not os.path.exists("/proc/%d" % pid) or
             open("/proc/%d/stat" % pid).read().split()[2] == "Z", 30, "ganesha to stop")

    def start(self):
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     start_new_session=True)

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def phase_restart(api, p, g):
    g.stop_bed_server()
    names = ["restart-%02d" % i for i in range(10)]
    create(*[claim(n, "faults") for n in names])
    poll(lambda: re.search(r'msg="provisioning failed" claim=default/restart-',
                           p.current_log()), 60, "provisioning to fail while NFS is down")
    g.start()
    wait_bound(api, names, 90)
    log("NFS stopped, claims failed and backed off, NFS started: all Bound")
    return names


def phase_unsaved(api, root):
    fault(kind="error", code=500, resource="persistentvolumes", verb="create")
    create(claim("unsaved", "faults"))
    c = poll(lambda: api.claim("unsaved"), 30, "the claim")
    d = "default-unsaved-pvc-" + c["metadata"]["uid"]
    poll(lambda: os.path.isdir(os.path.join(root, d)), 30, "the unsaved volume's directory")
    poll(lambda: events_for(api, "unsaved", "ProvisioningFailed"), 30, "ProvisioningFailed")
    # No finalizer holds the claim back (it cost two requests per claim):
    # the claim goes at once, and the provisioner, which holds it in
    # flight, removes the directory afterwards.
    check(CLAIM_FINALIZER not in (api.claim("unsaved")["metadata"].get("finalizers") or []),
          "the claim carries %s" % CLAIM_FINALIZER)
    kubectl("delete", "pvc", "unsaved", "--wait=false")
    poll(lambda: api.claim("unsaved") is None, 30, "the claim to go")
    poll(lambda: not os.path.exists(os.path.join(root, d)), 30,
         "the directory %s of the deleted claim removed" % d)
    clear_faults()
    log("a volume whose PV could not be saved was cleaned up after its claim went")


def main(binary, procs):
    api = API()
    root = export_dir()
    apply(storage_class("faults", {"url": v3_url(), "archiveOnDelete": "false"}))
    p = Provisioner(binary, "p", Provisioner.FAST_LEASE)
    procs.append(p)
    p.start()
    poll(lambda: "controller running" in p.log_text(), 30, "the controller to run")
    names = phase_api(api, p, root)
    names += phase_pause(api, root)
    g = Ganesha()
    try:
        names += phase_restart(api, p, g)
        phase_unsaved(api, root)
    finally:
        clear_faults()
        rc = p.stop()
        g.stop()
    check(rc == 0, "SIGTERM after the faults: exit %s, want 0" % rc)
    wait_unguarded(api)
    dirs = volume_dirs(root)
    check(len(dirs) == len(names), "%d directories for %d claims" % (len(dirs), len(names)))
    check(p.starts == 1, "the provisioner was restarted")
    log("%d claims Bound, %d directories; the provisioner never died" % (len(names), len(dirs)))


if __name__ == "__main__":
    sys.exit(run(main))
