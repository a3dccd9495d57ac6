# SPDX-License-Identifier: Apache-2.0
"""The "dns" component of berth's test bed: dnsmasq on 127.0.0.1.

dnsmasq (Debian dnsmasq-base) answers for a small model of Kubernetes DNS
(https://github.com/kubernetes/dns/blob/master/docs/specification.md): by
default a headless Service "web" in namespace "default" of the zone
"cluster.local", backing a 3-member StatefulSet:

    web-N.web.default.svc.cluster.local         A 10.244.0.(10+N), AAAA fd00:10:244:0::(10+N)
    web.default.svc.cluster.local               A/AAAA of every member (headless)
    web.default.svc.cluster.local               SRV 0 W 80 web-N.web.default.svc.cluster.local
    _http._tcp.web.default.svc.cluster.local    SRV 0 W 80 web-N.web.default.svc.cluster.local

W is 100 / members, as CoreDNS does. Every other name is NXDOMAIN: nothing
is forwarded anywhere. TTLs are 5 s so that clients see them.

The model lives in WORKDIR/records.json:

    {"zone": "cluster.local", "ttl": 5,
     "services": [{"name": "web", "namespace": "default", "replicas": 3,
                   "ports": [{"name": "http", "protocol": "tcp", "port": 80}],
                   "ipv4_prefix": "10.244.0.", "ipv6_prefix": "fd00:10:244:0::"}],
     "records": [{"type": "A", "name": "x.cluster.local", "address": "10.1.2.3"},
                 {"type": "AAAA", "name": "x.cluster.local", "address": "fd00::1"},
                 {"type": "SRV", "name": "_x._tcp.cluster.local",
                  "target": "x.cluster.local", "port": 1, "priority": 0,
                  "weight": 0}]}

(the prefixes are optional: service number K gets 10.244.K. and
fd00:10:244:K::), rendered into WORKDIR/hosts (--addn-hosts) and
WORKDIR/dnsmasq.conf (srv-host= lines).

    bed.py ctl dns scale SERVICE N [--ns NS] [--port P]
        make the StatefulSet SERVICE (created if new) have members 0..N-1;
        --port sets the number of its first port
    bed.py ctl dns set-file RECORDS.json   replace the whole model
    bed.py ctl dns down                    stop dnsmasq, keep its port
    bed.py ctl dns up                      start it again on the same port

dnsmasq re-reads host files on SIGHUP but not --srv-host, so a change
restarts it on the same port and waits until it answers a real query.

Environment: BERTH_DNS_SERVER=127.0.0.1:PORT, BERTH_DNS_DOMAIN=<zone>.
"""

import argparse
import grp
import ipaddress
import json
import os
import pwd
import random
import signal
import socket
import struct
import time

import bedlib

DEFAULT_TTL = 5
MAX_REPLICAS = 240
READY_TIMEOUT = 10.0


def default_model():
    return {
        "zone": "cluster.local",
        "ttl": DEFAULT_TTL,
        "services": [{
            "name": "web",
            "namespace": "default",
            "replicas": 3,
            "ports": [{"name": "http", "protocol": "tcp", "port": 80}],
        }],
        "records": [],
    }


# --- the model ---------------------------------------------------------------

def _fail(msg):
    raise bedlib.BedError("dns: " + msg)


def _check_name(name, what):
    if not isinstance(name, str) or not name or len(name) > 253:
        _fail("%s: %r is not a DNS name" % (what, name))
    for label in name.rstrip(".").split("."):
        if not label or len(label) > 63 or any(
                not (c.isascii() and (c.isalnum() or c in "-_")) for c in label):
            _fail("%s: %r is not a DNS name" % (what, name))
    return name.rstrip(".").lower()


def _check_u16(v, what):
    if not isinstance(v, int) or isinstance(v, bool) or not 0 <= v <= 65535:
        _fail("%s: %r is not an integer in 0..65535" % (what, v))
    return v


def _check_addr(addr, version, what):
    try:
        ip = ipaddress.ip_address(addr)
    except (ValueError, TypeError):
        _fail("%s: %r is not an IP address" % (what, addr))
    if ip.version != version:
        _fail("%s: %r is not an IPv%d address" % (what, addr, version))
    return str(ip)


def validate(model):
    """Check a model and fill in defaults; return it or raise BedError."""
    if not isinstance(model, dict):
        _fail("the record model must be a JSON object")
    unknown = set(model) - {"zone", "ttl", "services", "records"}
    if unknown:
        _fail("unknown keys in the record model: %s" % ", ".join(sorted(unknown)))
    model.setdefault("zone", "cluster.local")
    model.setdefault("ttl", DEFAULT_TTL)
    model.setdefault("services", [])
    model.setdefault("records", [])
    model["zone"] = _check_name(model["zone"], "zone")
    if not isinstance(model["ttl"], int) or not 0 <= model["ttl"] <= 86400:
        _fail("ttl must be an integer number of seconds in 0..86400")
    if not isinstance(model["services"], list) or not isinstance(model["records"], list):
        _fail("services and records must be lists")
    for k, svc in enumerate(model["services"]):
        if not isinstance(svc, dict):
            _fail("services[%d] must be an object" % k)
        _check_name(svc.get("name"), "services[%d].name" % k)
        svc.setdefault("namespace", "default")
        _check_name(svc["namespace"], "services[%d].namespace" % k)
        svc.setdefault("ports", [{"name": "http", "protocol": "tcp", "port": 80}])
        r = svc.get("replicas")
        if not isinstance(r, int) or isinstance(r, bool) or not 0 <= r <= MAX_REPLICAS:
            _fail("services[%d].replicas must be an integer in 0..%d" % (k, MAX_REPLICAS))
        if not isinstance(svc["ports"], list):
            _fail("services[%d].ports must be a list" % k)
        for p in svc["ports"]:
            if not isinstance(p, dict):
                _fail("services[%d].ports entries must be objects" % k)
            _check_u16(p.get("port"), "services[%d].ports[].port" % k)
            p.setdefault("protocol", "tcp")
            if p["protocol"] not in ("tcp", "udp", "sctp"):
                _fail("services[%d]: protocol %r is not tcp, udp or sctp" % (k, p["protocol"]))
            if p.get("name") is not None:
                _check_name(p["name"], "services[%d].ports[].name" % k)
    for k, rec in enumerate(model["records"]):
        what = "records[%d]" % k
        if not isinstance(rec, dict):
            _fail("%s must be an object" % what)
        _check_name(rec.get("name"), what + ".name")
        t = rec.get("type")
        if t == "A":
            _check_addr(rec.get("address"), 4, what + ".address")
        elif t == "AAAA":
            _check_addr(rec.get("address"), 6, what + ".address")
        elif t == "SRV":
            _check_name(rec.get("target"), what + ".target")
            _check_u16(rec.get("port"), what + ".port")
            for f in ("priority", "weight"):
                rec.setdefault(f, 0)
                _check_u16(rec[f], "%s.%s" % (what, f))
        else:
            _fail("%s.type must be A, AAAA or SRV, not %r" % (what, t))
    return model


def expand(model):
    """Return (hosts, srvs): [(address, name)] and
    [(name, target, port, priority, weight)] for the whole model."""
    hosts = []
    srvs = []
    zone = model["zone"]
    for k, svc in enumerate(model["services"]):
        fqdn = "%s.%s.svc.%s" % (svc["name"], svc["namespace"], zone)
        v4 = svc.get("ipv4_prefix", "10.244.%d." % k)
        v6 = svc.get("ipv6_prefix", "fd00:10:244:%x::" % k)
        n = svc["replicas"]
        weight = 100 // n if n else 0
        for i in range(n):
            member = "%s-%d.%s" % (svc["name"], i, fqdn)
            for addr, ver in (("%s%d" % (v4, 10 + i), 4), ("%s%x" % (v6, 10 + i), 6)):
                addr = _check_addr(addr, ver, "service %s address" % svc["name"])
                hosts.append((addr, member))
                hosts.append((addr, fqdn))
            for p in svc["ports"]:
                srvs.append((fqdn, member, p["port"], 0, weight))
                if p.get("name"):
                    srvs.append(("_%s._%s.%s" % (p["name"], p["protocol"], fqdn),
                                 member, p["port"], 0, weight))
    for rec in model["records"]:
        if rec["type"] in ("A", "AAAA"):
            hosts.append((rec["address"], rec["name"].rstrip(".")))
        else:
            srvs.append((rec["name"].rstrip("."), rec["target"].rstrip("."),
                         rec["port"], rec["priority"], rec["weight"]))
    return hosts, srvs


def _write_atomic(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def _paths(workdir):
    return {k: os.path.join(workdir, v) for k, v in {
        "model": "records.json", "hosts": "hosts", "conf": "dnsmasq.conf",
        "pid": "dnsmasq.pid", "log": "dnsmasq.log", "out": "dnsmasq.out"}.items()}


def save_model(workdir, model):
    """Validate model, write records.json, hosts and dnsmasq.conf."""
    model = validate(model)
    p = _paths(workdir)
    hosts, srvs = expand(model)
    _write_atomic(p["hosts"], "".join("%s %s\n" % h for h in hosts))
    _write_atomic(p["conf"], "# Generated by tests/bed/bed_dns.py from records.json.\n" +
                  "".join("srv-host=%s,%s,%d,%d,%d\n" % s for s in srvs))
    _write_atomic(p["model"], json.dumps(model, indent=2) + "\n")
    return model


def load_model(workdir):
    with open(_paths(workdir)["model"]) as f:
        return json.load(f)


# --- dnsmasq -----------------------------------------------------------------

def _dns_query(port, name, timeout=0.3):
    """Send one real A query over UDP; return the response code or None."""
    qid = random.randrange(0x10000)
    qname = b"".join(bytes([len(l)]) + l.encode() for l in name.split(".")) + b"\0"
    msg = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + qname + struct.pack("!HH", 1, 1)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        s.sendto(msg, ("127.0.0.1", port))
        try:
            data = s.recv(4096)
        except socket.timeout:
            return None
    if len(data) < 12:
        return None
    rid, flags = struct.unpack("!HH", data[:4])
    if rid != qid or not flags & 0x8000:
        return None
    return flags & 0xF


def _answers(port, zone):
    """True when dnsmasq answers from its own data over UDP and accepts TCP."""
    # NOERROR or NXDOMAIN means our data answered; REFUSED or SERVFAIL would
    # mean a misconfiguration, which the deadline then reports.
    rcode = _dns_query(port, "bed-ready-probe." + zone)
    return rcode in (0, 3) and bedlib.tcp_open(port)


def _proc_state(pid):
    """(comm, state letter) of pid from /proc, or None when it is gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
    except OSError:
        return None
    lpar, rpar = stat.find("("), stat.rfind(")")
    return stat[lpar + 1:rpar], stat[rpar + 2:rpar + 3]


def _running(pid):
    """True when pid is a live dnsmasq (not a zombie, not a reused pid)."""
    st = _proc_state(pid)
    return st is not None and st[0] == "dnsmasq" and st[1] not in ("Z", "X")


def _reap(pid):
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def kill_dnsmasq(pid, timeout=5.0):
    """Stop our dnsmasq: SIGTERM, then SIGKILL; True once it is gone.

    A killed process that nobody reaps (its parent, `bed.py start`, has
    exited, and PID 1 may not reap orphans) stays a zombie, which kill(pid,
    0) still reports as alive; so look at its /proc state instead. Its
    sockets are closed once it is a zombie, so the port is free again.
    """
    for sig in (signal.SIGTERM, signal.SIGKILL):
        if not _running(pid):
            _reap(pid)
            return True
        try:
            os.killpg(pid, sig)
        except OSError:
            try:
                os.kill(pid, sig)
            except OSError:
                pass
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            _reap(pid)
            if not _running(pid):
                return True
            time.sleep(0.02)
    return not _running(pid)


def _user_args():
    """Run dnsmasq as ourselves: as root it would switch to "nobody", which
    may not write its log in workdir."""
    try:
        return ["--user=" + pwd.getpwuid(os.getuid()).pw_name,
                "--group=" + grp.getgrgid(os.getgid()).gr_name]
    except KeyError:
        return []


def start_dnsmasq(workdir, port, model):
    """Start dnsmasq on 127.0.0.1:port and wait until it answers; return its pid."""
    p = _paths(workdir)
    argv = [
        "dnsmasq", "--keep-in-foreground",
        "--conf-file=" + p["conf"],      # srv-host lines; no /etc/dnsmasq.conf
        "--listen-address=127.0.0.1", "--bind-interfaces", "--port=%d" % port,
        "--no-resolv", "--no-hosts", "--no-poll",
        "--local=/#/",                   # never forward: unknown names are NXDOMAIN
        "--addn-hosts=" + p["hosts"],
        "--local-ttl=%d" % model["ttl"], "--auth-ttl=%d" % model["ttl"],
        "--log-queries", "--log-facility=" + p["log"],
        "--pid-file=" + p["pid"],
    ] + _user_args()
    last = None
    # A restart on the same port can, rarely, race with the old socket's
    # teardown; dnsmasq then exits at once, and one more try settles it.
    for _ in range(3):
        proc = bedlib.spawn(argv, p["out"])
        try:
            bedlib.wait_until(lambda: _answers(port, model["zone"]), READY_TIMEOUT,
                              "dnsmasq on 127.0.0.1:%d" % port, proc=proc,
                              logfile=p["out"])
            return proc.pid
        except bedlib.BedError as e:
            last = e
            if proc.poll() is None:
                kill_dnsmasq(proc.pid)
                _reap(proc.pid)
                break
    raise last


def _state(workdir, port, model, pid):
    p = _paths(workdir)
    return {
        "env": {"BERTH_DNS_SERVER": "127.0.0.1:%d" % port,
                "BERTH_DNS_DOMAIN": model["zone"]},
        "pids": [pid] if pid else [],
        "info": {"port": port, "running": bool(pid), "records": p["model"],
                 "log": p["log"]},
    }


def start(workdir):
    model = save_model(workdir, default_model())
    port = bedlib.free_port(both=True)
    pid = start_dnsmasq(workdir, port, model)
    return _state(workdir, port, model, pid)


def stop(workdir, state):
    """Stop dnsmasq ourselves (see kill_dnsmasq) and tell the bed core that
    nothing is left for it to kill."""
    pids = state.get("pids", [])
    if all(kill_dnsmasq(pid) for pid in pids):
        state["pids"] = []


# --- ctl ---------------------------------------------------------------------

class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise bedlib.BedError("dns: %s\n%s" % (message, self.format_usage()))


def _parser():
    p = _Parser(prog="bed.py ctl dns", description="change the test bed's DNS")
    sub = p.add_subparsers(dest="verb", required=True)
    s = sub.add_parser("scale", help="set a StatefulSet's members to 0..N-1")
    s.add_argument("service")
    s.add_argument("replicas", type=int)
    s.add_argument("--ns", default="default")
    s.add_argument("--port", type=int)
    s = sub.add_parser("set-file", help="replace the whole record model")
    s.add_argument("file")
    sub.add_parser("down", help="stop dnsmasq, keep its port")
    sub.add_parser("up", help="start dnsmasq again on the same port")
    return p


def _scale(model, args):
    for svc in model["services"]:
        if svc["name"] == args.service and svc.get("namespace", "default") == args.ns:
            break
    else:
        svc = {"name": args.service, "namespace": args.ns,
               "ports": [{"name": "http", "protocol": "tcp", "port": 80}]}
        model["services"].append(svc)
    svc["replicas"] = args.replicas
    if args.port is not None:
        if svc.get("ports"):
            svc["ports"][0]["port"] = args.port
        else:
            svc["ports"] = [{"name": "http", "protocol": "tcp", "port": args.port}]
    return model


def ctl(workdir, state, args):
    a = _parser().parse_args(args)
    port = state["info"]["port"]
    pids = [p for p in state.get("pids", []) if _running(p)]
    if a.verb == "down":
        for pid in pids:
            if not kill_dnsmasq(pid):
                _fail("dnsmasq (pid %d) did not stop" % pid)
        return _state(workdir, port, load_model(workdir), None)
    if a.verb == "up":
        model = load_model(workdir)
        if pids:
            return None
        return _state(workdir, port, model, start_dnsmasq(workdir, port, model))
    if a.verb == "scale":
        model = _scale(load_model(workdir), a)
    else:
        try:
            with open(a.file) as f:
                model = json.load(f)
        except (OSError, ValueError) as e:
            _fail("cannot read %s: %s" % (a.file, e))
    model = save_model(workdir, model)
    if not pids:
        # Down: the new records take effect at the next "up".
        return _state(workdir, port, model, None)
    for pid in pids:
        if not kill_dnsmasq(pid):
            _fail("dnsmasq (pid %d) did not stop" % pid)
    return _state(workdir, port, model, start_dnsmasq(workdir, port, model))
