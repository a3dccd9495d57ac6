#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""What berth-peers accepts from DNS.

1. Through the bed's dnsmasq: a dual-stack member, an AAAA-only member and
   an A-only member, with their addresses in the json render and (with
   -addresses) on the lines render.
2. Through a hostile DNS server written here (dnsmasq will not serve such
   names, nor will the bed's model): SRV targets with shell and path
   characters, '_', control characters, names outside the Service,
   upper-case duplicates, an over-long name and a malformed over-long
   label. None may reach a hook or a file; each is logged once; berth-peers
   keeps running and keeps the good members."""

import json
import os
import select
import socket
import struct
import tempfile
import threading

from test_peers_lib import (ZONE, Peers, Recorder, check, main, member, poll,
                            quiet_for, read, set_records)


def test_dual_stack_and_aaaa_only(binary, running):
    records = []
    addrs = {0: ["10.244.0.10", "fd00:10:244::a"], 1: ["fd00:10:244::b"],
             2: ["10.244.0.12"]}
    for i, lst in addrs.items():
        records.append({"type": "SRV", "name": ZONE, "target": member(i),
                        "port": 8080})
        for a in lst:
            records.append({"type": "AAAA" if ":" in a else "A",
                            "name": member(i), "address": a})
    set_records({"zone": "cluster.local", "services": [],
                 "records": records})
    out = tempfile.mkdtemp(prefix="berth-peers-answers-")
    p = Peers(binary, ["-service", "web", "-ns", "default", "-domain",
                       "cluster.local", "--hostname", "web-1", "--once",
                       "--interval", "100ms", "-addresses",
                       "--render", "json:%s/peers.json" % out,
                       "--render", "lines:%s/lines.txt" % out])
    running.append(p)
    check(p.wait_exit(10) == 0, "exit status")
    doc = json.loads(read(os.path.join(out, "peers.json")))
    got = {m["host"]: m["addresses"] for m in doc["peers"]}
    check(got == {"web-%d" % i: lst for i, lst in addrs.items()},
          "addresses %r" % got)
    check(all(m["port"] == 8080 for m in doc["peers"]), "SRV ports")
    check(read(os.path.join(out, "lines.txt")) ==
          "10.244.0.10\nfd00:10:244::b\n10.244.0.12\n", "lines with "
          "-addresses: %r" % read(os.path.join(out, "lines.txt")))


# --- a hostile DNS server ----------------------------------------------------

def wire_name(labels):
    return b"".join(bytes([len(l)]) + l for l in labels) + b"\0"


class HostileDNS(threading.Thread):
    """UDP DNS on 127.0.0.1 that serves SRV records of ZONE whose targets
    are raw label lists (bytes, sent as they are), A records 10.9.0.N for
    the good members, NXDOMAIN for the rest."""

    def __init__(self):
        super().__init__(daemon=True)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        # Answers over 512 bytes go over TCP (RFC 1035 4.2.2), on the
        # same port, as a real server does after setting TC.
        self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.tcp.bind(("127.0.0.1", self.port))
        self.tcp.listen(8)
        self.lock = threading.Lock()
        self.targets = []
        self.srv_queries = 0
        self.stop = False

    def serve(self, targets):
        with self.lock:
            self.targets = list(targets)
            self.srv_queries = 0

    def queries(self):
        with self.lock:
            return self.srv_queries

    def run(self):
        while not self.stop:
            ready, _, _ = select.select([self.sock, self.tcp], [], [], 0.05)
            if self.tcp in ready:
                self.serve_tcp()
            if self.sock in ready:
                self.serve_udp()
        self.sock.close()
        self.tcp.close()

    def serve_udp(self):
        data, peer = self.sock.recvfrom(4096)
        reply = self.answer(data)
        if reply and len(reply) > 512:
            # Truncated: header (with TC) and question only.
            qend = 12 + len(self.question(data))
            flags = struct.unpack("!H", reply[2:4])[0] | 0x0200
            reply = (reply[:2] + struct.pack("!HHHHH", flags, 1, 0, 0, 0) +
                     reply[12:qend])
        if reply:
            self.sock.sendto(reply, peer)

    def serve_tcp(self):
        conn, _ = self.tcp.accept()
        with conn:
            conn.settimeout(1)
            try:
                n = struct.unpack("!H", self.recv_all(conn, 2))[0]
                reply = self.answer(self.recv_all(conn, n))
                conn.sendall(struct.pack("!H", len(reply)) + reply)
            except (OSError, struct.error):
                pass

    @staticmethod
    def recv_all(conn, n):
        data = b""
        while len(data) < n:
            chunk = conn.recv(n - len(data))
            if not chunk:
                raise OSError("short read")
            data += chunk
        return data

    @staticmethod
    def question(q):
        end = 12
        while q[end] != 0:
            end += 1 + q[end]
        return q[12:end + 5]

    def answer(self, q):
        if len(q) < 17:
            return None
        qid = q[:2]
        end = 12
        labels = []
        while q[end] != 0:
            labels.append(q[end + 1:end + 1 + q[end]])
            end += 1 + q[end]
        qtype = struct.unpack("!H", q[end + 1:end + 3])[0]
        question = q[12:end + 5]
        name = b".".join(labels).decode("latin-1").lower()
        answers = []
        rcode = 3
        if name == ZONE and qtype == 33:
            rcode = 0
            with self.lock:
                self.srv_queries += 1
                targets = list(self.targets)
            for t in targets:
                rdata = struct.pack("!HHH", 0, 10, 80) + t
                answers.append(b"\xc0\x0c" + struct.pack("!HHIH", 33, 1, 5,
                                                         len(rdata)) + rdata)
        elif name.startswith("web-") and name.endswith("." + ZONE):
            rcode = 0
            n = int(name.split(".")[0][4:])
            if qtype == 1:
                answers.append(b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 5, 4)
                               + bytes([10, 9, 0, n]))
        flags = 0x8180 | rcode
        return (qid + struct.pack("!HHHHH", flags, 1, len(answers), 0, 0) +
                question + b"".join(answers))


SUFFIX = [b"web", b"default", b"svc", b"cluster", b"local"]


def target(label):
    return wire_name([label] + SUFFIX)


GOOD = [target(b"web-0"), target(b"web-1")]
HOSTILE = [target(b"$(touch PWNED)"), target(b"`id`"),
           target(b"../../etc/passwd"), target(b"web_2"),
           target(b"a;reboot"), target(b"web-9\nx"), target(b"-web-3"),
           target(b"caf\xc3\xa9"), wire_name([b"evil", b"example", b"com"]),
           wire_name([b"x", b"web-0"] + SUFFIX), target(b"WEB-0")]
# 4 labels of 63 + the suffix: over 253 characters in all.
OVERLONG = wire_name([b"a" * 63] * 4 + SUFFIX)
# A label length of 64 is not a label (RFC 1035 4.1.4): a malformed reply.
MALFORMED = b"\x40" + b"b" * 64 + wire_name(SUFFIX)


def test_hostile_answers(binary, running):
    dns = HostileDNS()
    dns.start()
    try:
        hostile_phases(binary, running, dns)
    finally:
        dns.stop = True
        dns.join()


def hostile_phases(binary, running, dns):
    rec = Recorder()
    out = tempfile.mkdtemp(prefix="berth-peers-hostile-")
    dns.serve(GOOD + HOSTILE)
    p = Peers(binary, ["-service", "web", "-ns", "default", "-domain",
                       "cluster.local", "--hostname", "web-1", "--interval",
                       "50ms", "--dns-server", "127.0.0.1:%d" % dns.port,
                       "-on-start", rec.argv(), "-on-change", rec.argv(),
                       "--render", "lines:%s/lines.txt" % out,
                       "--render", "json:%s/peers.json" % out],
              env={"BERTH_DNS_SERVER": ""})
    running.append(p)
    run = rec.wait_runs(1, 10)
    check(run["stdin"] == [member(0), member(1)], "stdin %r" % run["stdin"])
    check(run["env"]["BERTH_PEERS"] == member(0) + "," + member(1),
          "BERTH_PEERS %r" % run["env"]["BERTH_PEERS"])
    poll(lambda: dns.queries() >= 5, 5, "five SRV queries")
    rejected = p.matching(r'msg="ignoring a DNS answer that is not a member"')
    # Every hostile name but the upper-case duplicate, each logged once
    # however often it was served.
    check(len(rejected) == len(HOSTILE) - 1, "rejections logged: %d\n%s" %
          (len(rejected), "\n".join(rejected)))
    check(read(os.path.join(out, "lines.txt")) ==
          member(0) + "\n" + member(1) + "\n", "lines render")
    check(json.loads(read(os.path.join(out, "peers.json")))["count"] == 2,
          "json render")
    check(not os.path.exists("PWNED"), "a name was run as a command")

    # Over-long names and malformed labels: never a member, never a crash.
    # (lib/dns may refuse the whole answer; then the last membership holds.)
    for bad in (OVERLONG, MALFORMED):
        dns.serve(GOOD + [target(b"web-2"), bad])
        poll(lambda: dns.queries() >= 5, 5, "five SRV queries")
        check(p.proc.poll() is None, "berth-peers died")
    dns.serve(GOOD + [target(b"web-2")])
    poll(lambda: dns.queries() >= 5, 5, "five SRV queries")
    run = rec.wait_runs(2, 5)
    check(run["env"]["BERTH_ADDED"] == member(2), "added %r" %
          run["env"]["BERTH_ADDED"])
    quiet_for(lambda: rec.count() > 2, 0.3, "a third hook run")
    for f in ("lines.txt", "peers.json"):
        text = read(os.path.join(out, f))
        check("aaaa" not in text and "bbbb" not in text, "%s: %s" % (f, text))
    p.terminate(within=1.0)


if __name__ == "__main__":
    main([test_dual_stack_and_aaaa_only, test_hostile_answers])
