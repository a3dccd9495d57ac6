# SPDX-License-Identifier: Apache-2.0
"""The test bed's "nfs" component: nfs-ganesha (VFS FSAL) on 127.0.0.1.

One ganesha.nfsd per bed exports a fresh directory under the bed's workdir
over NFSv3 and NFSv4 (TCP only, AUTH_SYS, no root squash), on ports picked
at run time. Its configuration, pid file, log and NFSv4 recovery directory
all live in the workdir, so two beds can run side by side. The NFSv4 grace
period is switched off (Graceless), so creates work as soon as it answers.

The export is reachable under the same path for both versions: the pseudo
path /export (mount_path_pseudo = true makes NFSv3 MOUNT use it too).

Exports:
    BERTH_NFS_URL         nfs://127.0.0.1/export?nfsport=N&mountport=M (v3)
    BERTH_NFS4_URL        nfs://127.0.0.1/export?version=4&nfsport=N
    BERTH_NFS_EXPORT_DIR  the exported local directory
    BERTH_NFS_PID         ganesha's pid, for tests that make it stop
                          answering (SIGSTOP, then SIGCONT)

NFSv4 only: with BERTH_BED_NFS_VERSIONS=4 in the environment (default
"3,4") ganesha serves NFSv4 alone (Protocols = 4, no MOUNT service), as
servers configured v4-only do; BERTH_NFS_URL then names the export with
the ports but no version (nfs://127.0.0.1/export?nfsport=N&mountport=M,
the MOUNT port unanswered), for clients that must negotiate. With
BERTH_BED_NFS_PORT=2049 (only in a bed of its own network namespace, as
`bed.py run` gives each test) ganesha takes the standard port, so that a
client given only a server and a path (nfs-subdir's NFS_SERVER and
NFS_PATH) reaches NFSv4 as a kernel mount would.

rpcbind: ganesha registers its NFSv3 and MOUNT programs with the portmapper
and exits when it cannot, so an rpcbind must run on the fixed port 111.
Clients here never ask it (the URLs carry the ports). A running rpcbind is
reused and never stopped. When none runs, the bed starts one (`rpcbind -f
-w`) and the last bed using it stops it. The beds that share it are listed
in $TMPDIR/berth-bed-nfs.json, changed only under an flock on
$TMPDIR/berth-bed-nfs.lock. Ganesha starts under that lock too, because
two ganeshas starting at once race in rpcbind (each unsets, then sets, the
same programs, and the loser exits).
"""

import fcntl
import glob
import json
import os
import shutil
import subprocess
import tempfile
import time

import bedlib

PSEUDO = "/export"
START_TIMEOUT = 60.0     # seconds for ganesha to answer NFSv3 and NFSv4
LOCK_TIMEOUT = 180.0     # seconds to wait for another bed's start
PROBE_TIMEOUT = 5.0      # seconds for one nfs-ls probe
ATTEMPTS = 3             # ganesha starts (new ports) before giving up

SHARED_LOCK = os.path.join(tempfile.gettempdir(), "berth-bed-nfs.lock")
SHARED_STATE = os.path.join(tempfile.gettempdir(), "berth-bed-nfs.json")

CONF = """\
# Written by tests/bed/bed_nfs.py for one test bed; see ganesha-config(8).
NFS_CORE_PARAM {{
    Bind_addr = 127.0.0.1;
    NFS_Port = {nfs_port};
    MNT_Port = {mnt_port};
    NLM_Port = {nlm_port};
    Rquota_Port = {rquota_port};
    Protocols = {protocols};
    Enable_NLM = false;
    Enable_RQUOTA = false;
    Enable_UDP = false;
    mount_path_pseudo = true;
    Plugins_Dir = "{plugins_dir}";
    Dbus_Name_Prefix = "{dbus_prefix}";
}}

NFSv4 {{
    # No grace period: a fresh server has no clients to reclaim state, and
    # the default 90 s grace would block creates.
    Graceless = true;
    RecoveryBackend = fs;
    RecoveryRoot = "{recovery_root}";
    Only_Numeric_Owners = true;
}}

NFS_KRB5 {{
    Active_krb5 = false;
    CCacheDir = "{ccache_dir}";
}}

EXPORT {{
    Export_Id = 1;
    Path = "{export_dir}";
    Pseudo = "{pseudo}";
    Access_Type = RW;
    Squash = No_Root_Squash;
    Protocols = {protocols};
    Transports = TCP;
    SecType = sys;
    FSAL {{
        Name = VFS;
    }}
}}

LOG {{
    Default_Log_Level = EVENT;
}}
"""


def _versions():
    """The NFS versions to serve: BERTH_BED_NFS_VERSIONS, "3,4" or "4"."""
    v = os.environ.get("BERTH_BED_NFS_VERSIONS", "3,4").replace(" ", "")
    if v not in ("3,4", "4"):
        raise bedlib.BedError("BERTH_BED_NFS_VERSIONS: \"3,4\" or \"4\", not %r" % v)
    return v


def _plugins_dir():
    """The directory holding ganesha's libfsalvfs.so."""
    for d in ["/usr/lib/x86_64-linux-gnu/ganesha"] + \
            sorted(glob.glob("/usr/lib/*/ganesha")) + \
            ["/usr/lib64/ganesha", "/usr/lib/ganesha"]:
        if os.path.exists(os.path.join(d, "libfsalvfs.so")):
            return d
    raise bedlib.BedError("ganesha's VFS FSAL (libfsalvfs.so) not found: "
                          "install the Debian package nfs-ganesha-vfs")


def _alive(pid):
    """True when pid runs (a zombie counts as gone, see bedlib.pid_alive)."""
    return bool(pid) and bedlib.pid_alive(pid)


def _comm(pid):
    try:
        with open("/proc/%d/comm" % pid) as f:
            return f.read().strip()
    except OSError:
        return ""


class _SharedLock:
    """An exclusive flock on SHARED_LOCK, held for a `with` block."""

    def __enter__(self):
        self.fd = os.open(SHARED_LOCK, os.O_RDWR | os.O_CREAT, 0o666)
        deadline = time.monotonic() + LOCK_TIMEOUT
        while True:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return self
            except BlockingIOError:
                if time.monotonic() > deadline:
                    os.close(self.fd)
                    raise bedlib.BedError(
                        "another bed held %s for %.0f s" %
                        (SHARED_LOCK, LOCK_TIMEOUT))
                time.sleep(0.05)

    def __exit__(self, *exc):
        os.close(self.fd)  # releases the lock
        return False


def _load_shared():
    """The shared rpcbind state, with beds whose ganesha died dropped."""
    state = {"rpcbind_pid": None, "users": {}}
    try:
        with open(SHARED_STATE) as f:
            state.update(json.load(f))
    except (OSError, ValueError):
        pass
    state["users"] = {d: pid for d, pid in state["users"].items()
                      if _alive(pid)}
    pid = state["rpcbind_pid"]
    if pid and not (_alive(pid) and _comm(pid) == "rpcbind"):
        state["rpcbind_pid"] = None
    return state


def _save_shared(state):
    tmp = SHARED_STATE + ".%d.tmp" % os.getpid()
    with open(tmp, "w") as f:
        json.dump(state, f, indent=2)
    os.replace(tmp, SHARED_STATE)


def _rpcbind_up():
    """True when a portmapper answers on 127.0.0.1:111."""
    try:
        return bedlib.tcp_open(111)
    except OSError:
        return False


def _ensure_rpcbind(workdir, shared):
    """Start rpcbind unless one runs (caller holds the lock). Return how."""
    if _rpcbind_up():
        return "bed" if shared["rpcbind_pid"] else "external"
    rpcbind = shutil.which("rpcbind") or "/usr/sbin/rpcbind"
    log = os.path.join(workdir, "rpcbind.log")
    # -f: stay in the foreground so that we know its pid; -w: warm start.
    # (-h 127.0.0.1 would limit its UDP socket to loopback, but Debian's
    # rpcbind 1.2.6 aborts with a double free when given -h.)
    proc = bedlib.spawn([rpcbind, "-f", "-w"], log)
    try:
        bedlib.wait_until(_rpcbind_up, 10, "rpcbind", proc, log)
    except bedlib.BedError:
        bedlib.kill_pid(proc.pid)
        raise
    shared["rpcbind_pid"] = proc.pid
    _save_shared(shared)
    return "bed"


def _release_rpcbind(workdir):
    """Drop this bed from the users; stop a bed-started rpcbind if unused."""
    with _SharedLock():
        shared = _load_shared()
        shared["users"].pop(workdir, None)
        pid = shared["rpcbind_pid"]
        if not shared["users"] and pid:
            bedlib.kill_pid(pid)
            shared["rpcbind_pid"] = None
        _save_shared(shared)


def _urls(ports):
    v3 = "nfs://127.0.0.1%s?nfsport=%d&mountport=%d" % (
        PSEUDO, ports["nfs_port"], ports["mnt_port"])
    v4 = "nfs://127.0.0.1%s?version=4&nfsport=%d" % (PSEUDO, ports["nfs_port"])
    return v3, v4


# Log lines that mean the export will never come up: stop waiting.
FATAL_MARKS = ("Errors processing block (EXPORT)",
               "No export entries found",
               "Failed to load FSAL")
# Log lines that are noise in an error report: the missing DBus and
# Kerberos of a test machine, and our own readiness probes coming and going.
NOISE_MARKS = (":DBUS :", "krb5", "keytab", "default realm",
               "svc_vc_wait", "svc_rqst_")


def _log_excerpt(log, lines=12):
    """The lines of ganesha's log worth showing in an error: first its
    complaints (CRIT, MAJ, FATAL), then its last words, noise left out."""
    try:
        with open(log, "rb") as f:
            text = f.read().decode("utf-8", "replace").splitlines()
    except OSError:
        return ""
    text = [ln for ln in text if not any(m in ln for m in NOISE_MARKS)]
    bad = [ln for ln in text
           if any(m in ln for m in (":CRIT :", ":MAJ :", ":FATAL :"))]
    out = bad[:lines] + [ln for ln in text[-lines:] if ln not in bad]
    return "\n--- %s (excerpt) ---\n%s" % (log, "\n".join(out))


def _export_failed(log):
    try:
        with open(log, "rb") as f:
            text = f.read().decode("utf-8", "replace")
    except OSError:
        return False
    return any(m in text for m in FATAL_MARKS)


def _probe(url):
    """True when nfs-ls can mount url and list it."""
    try:
        r = subprocess.run(["nfs-ls", url], stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=PROBE_TIMEOUT)
    except subprocess.TimeoutExpired:
        return False
    return r.returncode == 0


def _start_ganesha(workdir, export_dir):
    """Start ganesha on fresh ports and wait until both versions answer.

    Return (Popen, ports). A port taken between free_port and ganesha's bind
    makes ganesha exit; then we retry with new ports."""
    ganesha = shutil.which("ganesha.nfsd")
    if ganesha is None:
        raise bedlib.BedError("ganesha.nfsd not found: install the Debian "
                              "packages nfs-ganesha and nfs-ganesha-vfs")
    if shutil.which("nfs-ls") is None:
        raise bedlib.BedError("nfs-ls not found (readiness probe): install "
                              "the Debian package libnfs-utils")
    conf = os.path.join(workdir, "ganesha.conf")
    log = os.path.join(workdir, "ganesha.log")
    out = os.path.join(workdir, "ganesha.out")
    pidfile = os.path.join(workdir, "ganesha.pid")
    recovery = os.path.join(workdir, "recovery")
    ccache = os.path.join(workdir, "ccache")
    os.makedirs(recovery, exist_ok=True)
    os.makedirs(ccache, exist_ok=True)
    plugins = _plugins_dir()
    for attempt in range(1, ATTEMPTS + 1):
        ports = {}
        fixed = os.environ.get("BERTH_BED_NFS_PORT")
        if fixed:
            ports["nfs_port"] = int(fixed)
        for key in ("nfs_port", "mnt_port", "nlm_port", "rquota_port"):
            if key in ports:
                continue
            port = bedlib.free_port()
            while port in ports.values():
                port = bedlib.free_port()
            ports[key] = port
        with open(conf, "w") as f:
            f.write(CONF.format(plugins_dir=plugins, recovery_root=recovery,
                                ccache_dir=ccache,
                                export_dir=export_dir, pseudo=PSEUDO,
                                dbus_prefix="berthbed%d" % ports["nfs_port"],
                                protocols=_versions().replace(",", ", "),
                                **ports))
        proc = bedlib.spawn([ganesha, "-F", "-f", conf, "-L", log,
                             "-p", pidfile, "-N", "NIV_EVENT"], out)
        v3, v4 = _urls(ports)

        def ready():
            if _export_failed(log):
                raise bedlib.BedError("ganesha.nfsd could not set up the "
                                      "export" + _log_excerpt(log))
            if _versions() == "4":
                return _probe(v4)
            return _probe(v3) and _probe(v4)

        try:
            # The log is passed as None: on failure we add our own excerpt
            # of it, without the noise, below.
            bedlib.wait_until(ready, START_TIMEOUT, "ganesha.nfsd", proc)
            return proc, ports
        except bedlib.BedError as e:
            exited = proc.poll() is not None
            bedlib.kill_pid(proc.pid)
            if exited and attempt < ATTEMPTS and \
                    "Address already in use" in bedlib.tail(log, 40):
                continue  # a port was taken meanwhile: new ports
            msg = str(e)
            if "could not set up the export" not in msg:
                msg += _log_excerpt(log)
            raise bedlib.BedError(msg) from None
    raise bedlib.BedError("unreachable")


def start(workdir):
    workdir = os.path.abspath(workdir)
    export_dir = os.path.join(workdir, "export")
    os.makedirs(export_dir, exist_ok=True)
    os.chmod(export_dir, 0o755)
    with _SharedLock():
        shared = _load_shared()
        rpcbind = _ensure_rpcbind(workdir, shared)
        try:
            proc, ports = _start_ganesha(workdir, export_dir)
        except BaseException:
            if not shared["users"] and shared["rpcbind_pid"]:
                bedlib.kill_pid(shared["rpcbind_pid"])
                shared["rpcbind_pid"] = None
                _save_shared(shared)
            raise
        shared["users"][workdir] = proc.pid
        _save_shared(shared)
    v3, v4 = _urls(ports)
    info = dict(ports)
    info.update({"export_dir": export_dir, "pseudo": PSEUDO,
                 "log": os.path.join(workdir, "ganesha.log"),
                 "rpcbind": rpcbind})
    return {"env": {"BERTH_NFS_URL": v3, "BERTH_NFS4_URL": v4,
                    "BERTH_NFS_EXPORT_DIR": export_dir,
                    "BERTH_NFS_PID": str(proc.pid)},
            "pids": [proc.pid], "info": info}


def stop(workdir, state):
    workdir = os.path.abspath(workdir)
    # ganesha first (it unregisters from rpcbind as it goes), then rpcbind
    # if this was the last bed using one that a bed started.
    for pid in state.get("pids", []):
        if _alive(pid) and _comm(pid).startswith("ganesha"):
            bedlib.kill_pid(pid)
    _release_rpcbind(workdir)
