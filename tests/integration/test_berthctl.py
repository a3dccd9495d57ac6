#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""berthctl against the test bed: berth-provisioner makes a few volumes on
two classes of one export (flat and nested pathPatterns) in two
namespaces; berthctl's claims, volumes and describe are compared with
expected files (volatile columns normalised); orphans are found both ways
and deleted after a confirmation; manual provision and delete; peers
against dnsmasq (ordering, render, errors); doctor, healthy and broken.

    test_berthctl.py BERTHCTL BERTH-PROVISIONER DATA-DIR
        (under bed.py run k8s nfs dns)

BERTHCTL_UPDATE=1 rewrites the expected files in DATA-DIR instead of
comparing (review the diff before committing it). The expected files are
berthctl's own output, so the listings are also checked against an
independent oracle: what kubectl says of the claims and volumes, and what
the export holds (walked on the server's side).
"""

import json
import os
import signal
import re
import stat
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_provisioner_lib import (API, PROVISIONER, Failure, Provisioner,  # noqa: E402
                                  apply, check, claim, events_for, export_dir,
                                  kubectl, log, poll, storage_class, wait_bound)

# python3-yaml checks -o yaml against -o json; scripts/setup installs it,
# so its absence fails the test (an ImportError here), never shrinks it.
import yaml  # noqa: E402

BERTHCTL = None
DATA = None
UPDATE = os.environ.get("BERTHCTL_UPDATE") == "1"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


# --- running berthctl ----------------------------------------------------------

def ctl(*args, stdin=None, rc=0, env=None, timeout=30):
    """Run berthctl; check its exit status; (stdout, stderr)."""
    e = dict(os.environ)
    e.update(env or {})
    t0 = time.monotonic()
    r = subprocess.run([BERTHCTL] + list(args), input=stdin, capture_output=True,
                       text=True, timeout=timeout, env=e,
                       stdin=None if stdin is not None else subprocess.DEVNULL)
    dt = time.monotonic() - t0
    if rc is not None and r.returncode != rc:
        raise Failure("berthctl %s: exit %d, want %d (%.2f s)\n--- stdout\n%s--- stderr\n%s"
                      % (" ".join(args), r.returncode, rc, dt, r.stdout, r.stderr))
    for line in r.stderr.splitlines():
        check("runtime error:" not in line and "Sanitizer" not in line,
              "berthctl %s: sanitizer report:\n%s" % (" ".join(args), r.stderr))
    return r.stdout, r.stderr


# --- normalising volatile output --------------------------------------------------

def norm_common(text):
    text = UUID.sub("xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", text)
    text = re.sub(r"nfsport=\d+&mountport=\d+", "nfsport=N&mountport=N", text)
    text = re.sub(r"nfsport=\d+", "nfsport=N", text)
    text = text.replace(export_dir(), "<EXPORT>")
    text = re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", "<TIME>", text)
    return text


AGE = r"(\d+[smhdy])+|<unknown>"


def norm_table(text, sort=False):
    """A table whose last column is AGE; sort: its rows too (for PVs,
    listed by their random names)."""
    out = []
    for i, line in enumerate(norm_common(text).splitlines()):
        if i > 0 or not line.endswith("AGE"):
            line = re.sub(r"(\s)(%s)$" % AGE, r"\1<AGE>", line)
        out.append(line)
    if sort:
        out = out[:1] + sorted(out[1:])
    return "\n".join(out) + "\n"


def norm_describe(text):
    out = []
    rows = []
    in_events = False
    for line in norm_common(text).splitlines():
        if line.startswith("Events:"):
            in_events = True
        elif in_events and line.startswith("  ") and not line.strip().startswith("Type") \
                and not line.strip().startswith("----"):
            # kubectl's event rows: Type Reason Age From Message, two
            # spaces apart; the Age width varies, so re-join the fields.
            f = re.split(r"\s{2,}", line.strip(), maxsplit=4)
            if len(f) == 5:
                f[2] = "<AGE>"
                line = "  " + " | ".join(f)
            # Compared as a set: the real PV controller re-sends its
            # ExternalProvisioning Event (count + 1, a new lastTimestamp)
            # whenever the claim changes, so its place among berth's
            # Events of the same second depends on timing.
            rows.append(line.rstrip())
            continue
        elif in_events and line.strip().startswith(("Type", "----")):
            line = "  " + " | ".join(re.split(r"\s{2,}", line.strip()))
        out.append(line.rstrip())
    return "\n".join(out + sorted(rows)) + "\n"


def norm_doctor(text):
    text = norm_common(text)
    text = re.sub(r"/tmp/\S*/kubeconfig", "<KUBECONFIG>", text)
    text = re.sub(r"https://127\.0\.0\.1:\d+", "https://127.0.0.1:PORT", text)
    text = re.sub(r"leader \S+ \(", "leader <ID> (", text)
    text = re.sub(r"renewed \S+ ago", "renewed <AGE> ago", text)
    return text


def expect(name, text):
    """Compare text with DATA/name (or write it with BERTHCTL_UPDATE=1)."""
    path = os.path.join(DATA, name)
    if UPDATE:
        with open(path, "w") as f:
            f.write(text)
        log("wrote %s" % path)
        return
    try:
        with open(path) as f:
            want = f.read()
    except FileNotFoundError:
        raise Failure("%s is missing: run with BERTHCTL_UPDATE=1 to make it" % path)
    if text != want:
        import difflib
        diff = "".join(difflib.unified_diff(want.splitlines(True), text.splitlines(True),
                                            "expected/" + name, "got/" + name))
        raise Failure("output differs from %s:\n%s" % (path, diff))


# --- the scenario -------------------------------------------------------------------

def setup(api, binary, procs):
    url = os.environ["BERTH_NFS_URL"]
    kubectl("create", "namespace", "team")
    apply(storage_class("berth-flat", {"url": url, "archiveOnDelete": "false"}),
          storage_class("berth-nested", {"pathPattern": "${.PVC.namespace}/${.PVC.name}",
                                         "directoryPerms": "0750"}),
          dict(storage_class("other", {}), provisioner="example.com/other"))
    p = Provisioner(binary, "provisioner", environ={"NFS_URL": url})
    procs.append(p)
    p.start()
    apply(claim("data-a", "berth-flat"),
          claim("data-b", "berth-nested", size="2Gi", labels={"app": "db"}),
          claim("data-c", "berth-nested", ns="team", size="500Mi", labels={"app": "db"},
                modes=("ReadWriteOnce",)),
          claim("foreign", "other"))
    wait_bound(api, ["data-a", "data-b"], 30)
    wait_bound(api, ["data-c"], 30, ns="team")
    # Events are sent after the PV is saved: wait for them, so that
    # describe shows them all.
    for name, ns in (("data-a", "default"), ("data-b", "default"), ("data-c", "team")):
        poll(lambda: [e for e in api.events(ns)
                      if e["involvedObject"]["name"] == name
                      and e["reason"] == "ProvisioningSucceeded"], 20,
             "ProvisioningSucceeded on %s" % name)
    # Content, written on the server side of the export.
    root = export_dir()
    b = os.path.join(root, "default", "data-b")
    with open(os.path.join(b, "small.txt"), "w") as f:
        f.write("hello\n")
    os.makedirs(os.path.join(b, "sub"))
    with open(os.path.join(b, "sub", "big.bin"), "wb") as f:
        f.write(b"\0" * 4096)
    return p


def test_listings(api):
    out, err = ctl("claims")
    expect("claims.txt", norm_table(out))
    check("foreign" not in out, "a claim of another provisioner is listed:\n" + out)
    out, _ = ctl("claims", "-A")
    expect("claims-all.txt", norm_table(out))
    out, _ = ctl("claims", "-A", "-l", "app=db", "--no-usage")
    expect("claims-selector.txt", norm_table(out))
    out, _ = ctl("volumes")
    expect("volumes.txt", norm_table(out, sort=True))
    out, _ = ctl("pvc", "-n", "team", "-o", "name")
    check(out == "persistentvolumeclaim/data-c\n", "claims -o name: %r" % out)
    out, _ = ctl("pvc", "-n", "team", "-o=name")
    check(out == "persistentvolumeclaim/data-c\n", "claims -o=name: %r" % out)
    # NAME arguments filter, as kubectl get's; a name not found is exit 1.
    out, _ = ctl("claims", "data-b", "-o", "name")
    check(out == "persistentvolumeclaim/data-b\n", "claims data-b: %r" % out)
    out, err = ctl("claims", "data-b", "nope", "-o", "name", rc=1)
    check(out == "persistentvolumeclaim/data-b\n" and
          'persistentvolumeclaims "nope" not found' in err, "claims data-b nope: %r %r" % (out, err))
    # The default table is no wider than kubectl get pvc's for the same
    # claims; -o wide has the rest.
    out, _ = ctl("claims", "--no-usage")
    kout = kubectl("get", "pvc", "data-a", "data-b").stdout
    width = max(len(l) for l in out.splitlines())
    kwidth = max(len(l) for l in kout.splitlines())
    check(width <= kwidth and "LOCATION" not in out,
          "claims: %d columns, kubectl get pvc %d:\n%s\n%s" % (width, kwidth, out, kout))
    out, _ = ctl("claims", "-o", "wide", "--no-usage")
    check(all(h in out.splitlines()[0] for h in ("ACCESS MODES", "BACKEND", "LOCATION", "FILES",
                                                 "SOURCE", "PROVISIONER")),
          "claims -o wide header: %s" % out.splitlines()[0])
    # --sort-by, -o jsonpath=, -o custom-columns= as kubectl's.
    out, _ = ctl("claims", "-A", "--sort-by", "{.spec.resources.requests.storage}",
                 "-o", "jsonpath={range .items[*]}{.metadata.name}={.spec.resources.requests.storage}{\"\\n\"}{end}")
    check(out.splitlines()[-1] == "data-b=2Gi" and len(out.splitlines()) == 3,
          "claims --sort-by storage -o jsonpath: %r" % out)
    out, _ = ctl("claims", "-A", "--sort-by", ".metadata.name", "-o",
                 "jsonpath={.items[*].metadata.name}")
    check(out == "data-a data-b data-c", "claims -o jsonpath names: %r" % out)
    out, _ = ctl("claims", "-A", "--sort-by", ".metadata.name", "-o",
                 "custom-columns=NAME:.metadata.name,STATE:.berth.state,USED:.berth.usage.bytes")
    rows = [l.split() for l in out.splitlines()]
    check(rows[0] == ["NAME", "STATE", "USED"] and rows[2] == ["data-b", "exists", "4102"],
          "claims -o custom-columns:\n" + out)
    out, _ = ctl("claims", "-A", "-o", "jsonpath={.items[?(@.metadata.namespace==\"team\")].metadata.name}")
    check(out == "data-c", "claims -o jsonpath filter: %r" % out)
    _, err = ctl("claims", "-o", "jsonpath={.items[", rc=2)
    check("jsonpath" in err, "a bad jsonpath: %r" % err)
    out, _ = ctl("volumes", "-o", "name")
    check(len(out.splitlines()) == 3 and all(l.startswith("persistentvolume/pvc-")
                                             for l in out.splitlines()),
          "volumes -o name: %r" % out)
    # -o json: a v1 List of the claims as the API gives them, each with
    # the backend's view under "berth".
    out, _ = ctl("claims", "-A", "-o", "json")
    doc = json.loads(out)
    check(doc["apiVersion"] == "v1" and doc["kind"] == "List" and len(doc["items"]) == 3,
          "claims -o json: %s" % out)
    items = {i["metadata"]["name"]: i for i in doc["items"]}
    b = items["data-b"]
    check(b["apiVersion"] == "v1" and b["kind"] == "PersistentVolumeClaim" and
          b["status"]["phase"] == "Bound" and b["spec"]["storageClassName"] == "berth-nested" and
          b["status"]["capacity"]["storage"] == "2Gi", "data-b: %s" % b)
    be = b["berth"]
    check(be["name"] == "nfs" and be["location"] == "default/data-b" and
          be["state"] == "exists" and be["usage"] == {"bytes": 4102, "files": 3,
                                                       "truncated": False},
          "data-b backend: %s" % be)
    check(be["details"]["mode"] == "0750" and be["details"]["onDelete"] == "archive",
          "data-b details: %s" % be["details"])
    check(items["data-a"]["berth"]["details"]["onDelete"] == "delete",
          "data-a details: %s" % items["data-a"]["berth"])
    # -o yaml is the same document.
    out, _ = ctl("claims", "-A", "-o", "yaml")
    check(yaml.safe_load(out) == doc, "claims -o yaml differs from -o json:\n" + out)
    check(out.startswith("apiVersion: v1\nitems:\n- apiVersion: v1\n") and
          "kind: List\n" in out and "    state: exists\n" in out and
          '      mode: "0750"\n' in out, "claims -o yaml:\n" + out)
    out, _ = ctl("volumes", "-o", "wide")
    check("SOURCE" in out.splitlines()[0] and "PROVISIONER" in out.splitlines()[0],
          "volumes -o wide header: %s" % out.splitlines()[0])
    check(out.count(os.environ["BERTH_NFS_URL"]) == 3, "volumes -o wide: exports\n" + out)
    # Nothing listed: a namespace without claims of berth's classes.
    kubectl("create", "namespace", "empty")
    out, err = ctl("claims", "-n", "empty")
    check(out == "" and "No claims of berth's classes found in empty namespace" in err,
          "claims -n empty: %r %r" % (out, err))


# --- the oracle: kubectl's view and the export's contents ---------------------------

ABBREV = {"ReadWriteOnce": "RWO", "ReadWriteMany": "RWX", "ReadOnlyMany": "ROX",
          "ReadWriteOncePod": "RWOP"}


def walk_usage(path):
    """(bytes in regular files, entries) below path, as the export holds
    them: the server's side, symlinks not followed."""
    size = entries = 0
    for d, dirs, files in os.walk(path):
        for n in dirs + files:
            entries += 1
            st = os.lstat(os.path.join(d, n))
            if stat.S_ISREG(st.st_mode):
                size += st.st_size
    return size, entries


def kubectl_json(*args):
    return json.loads(kubectl("get", *args, "-o", "json").stdout)["items"]


def berth_claims():
    """kubectl's claims of berth's classes: {(namespace, name): claim}."""
    ours = {c["metadata"]["name"] for c in kubectl_json("storageclass")
            if c["provisioner"] == PROVISIONER}
    return {(c["metadata"]["namespace"], c["metadata"]["name"]): c
            for c in kubectl_json("pvc", "-A") if c["spec"].get("storageClassName") in ours}


def test_oracle(api):
    root = export_dir()
    want = berth_claims()
    pvs = {p["metadata"]["name"]: p for p in kubectl_json("pv")}
    # -o wide: every column (the default table is kubectl's narrow one).
    out, _ = ctl("claims", "-A", "-o", "wide")
    rows = [l.split() for l in out.splitlines()[1:]]
    got = {(r[0], r[1]): r for r in rows}
    check(set(got) == set(want), "claims -A lists %s, kubectl %s" % (sorted(got), sorted(want)))
    for key, c in want.items():
        (ns, name, status, volume, capacity, modes, cls, backend, loc, state, _, files,
         *_) = got[key]
        pv = pvs[c["spec"]["volumeName"]]
        check(status == c["status"]["phase"] and volume == c["spec"]["volumeName"] and
              capacity == c["status"]["capacity"]["storage"] and
              cls == c["spec"]["storageClassName"] and
              modes == ",".join(ABBREV[m] for m in c["spec"]["accessModes"]),
              "claims -A row %s differs from kubectl: %s" % (key, got[key]))
        # The location is the PV's directory on the export, and it is there.
        check(pv["spec"]["nfs"]["path"] == "/export/" + loc and backend == "nfs",
              "%s: location %s, the PV says %s" % (key, loc, pv["spec"]["nfs"]["path"]))
        check(os.path.isdir(os.path.join(root, loc)) == (state == "exists"),
              "%s: state %s, but the export %s %s" % (key, state,
                                                     "has" if state != "exists" else "lacks",
                                                     loc))
        check(int(files) == walk_usage(os.path.join(root, loc))[1],
              "%s: %s files, the export holds %d entries" % (key, files,
                                                            walk_usage(os.path.join(root, loc))[1]))
    out, _ = ctl("claims", "-A", "-o", "json")
    for i in json.loads(out)["items"]:
        be = i["berth"]
        size, entries = walk_usage(os.path.join(root, be["location"]))
        check(be["usage"]["bytes"] == size and be["usage"]["files"] == entries,
              "%s/%s usage %s, the export holds %d bytes in %d entries"
              % (i["metadata"]["namespace"], i["metadata"]["name"], be["usage"], size,
                 entries))
    out, _ = ctl("volumes", "-o", "wide")
    rows = {l.split()[0]: l.split() for l in out.splitlines()[1:]}
    mine = {n: p for n, p in pvs.items() if (p["spec"].get("claimRef") or {}).get("name") and
            (p["spec"]["claimRef"]["namespace"], p["spec"]["claimRef"]["name"]) in want}
    check(set(rows) == set(mine), "volumes lists %s, kubectl %s" % (sorted(rows), sorted(mine)))
    for n, p in mine.items():
        r = rows[n]
        ref = p["spec"]["claimRef"]
        check(r[1] == p["spec"]["capacity"]["storage"] and
              r[3] == p["spec"]["persistentVolumeReclaimPolicy"] and
              r[4] == p["status"]["phase"] and r[5] == "%s/%s" % (ref["namespace"], ref["name"]) and
              r[6] == p["spec"]["storageClassName"],
              "volumes row %s differs from kubectl: %s" % (n, r))
    log("claims and volumes agree with kubectl and with the export (%d claims)" % len(want))


def event_rows(text):
    """The Events rows of a normalised describe, in order."""
    rows = text.split("Events:\n", 1)[1].splitlines() if "Events:\n" in text else []
    return [r for r in rows if r.startswith("  ") and not r.strip().startswith(("Type", "----"))]


def sorted_events(text):
    """text with its Events rows sorted: their order is checked apart."""
    rows = event_rows(text)
    head = text.split("Events:\n", 1)[0] if rows else text
    return head + "Events:\n" + "\n".join(
        [r for r in text.split("Events:\n", 1)[1].splitlines()
         if r not in rows] + sorted(rows)) + "\n" if rows else text


def claim_events(name):
    """The claim's Events as kubectl sees them: (reason, last time to the
    second, resourceVersion)."""
    evs = json.loads(kubectl("get", "events", "--field-selector",
                             "involvedObject.kind=PersistentVolumeClaim,"
                             "involvedObject.name=" + name, "-o", "json").stdout)["items"]
    return sorted((e["reason"], (e.get("lastTimestamp") or e.get("eventTime") or
                                 e.get("firstTimestamp") or "")[:19],
                   e["metadata"]["resourceVersion"]) for e in evs)


def test_describe(api):
    # The real PV controller repeats ExternalProvisioning while the claim
    # waits (and may do so again at any moment), so describe is compared
    # with kubectl's view read just before and just after it, when the two
    # agree: the same Events, in order of their last time (Events of the
    # same second in either order).
    for _ in range(10):
        before = claim_events("data-b")
        out, _ = ctl("describe", "claim", "data-b")
        if claim_events("data-b") == before:
            break
    else:
        raise Failure("the claim's Events kept changing around describe")
    got = norm_describe(out)
    have = [r.split(" | ")[1] for r in event_rows(got)]
    when = {reason: t for reason, t, _ in before}
    check(sorted(have) == sorted(when) and len(have) == len(before),
          "describe claim data-b: events %s, kubectl has %s" % (have, before))
    times = [when[r] for r in have]
    check(times == sorted(times),
          "describe claim data-b: events %s not in time order %s" % (have, times))
    expect("describe-claim.txt", sorted_events(got))
    pv = api.claim("data-a")["spec"]["volumeName"]
    out, _ = ctl("describe", "volume", pv)
    expect("describe-volume.txt", norm_describe(out))
    out, _ = ctl("describe", "pvc/data-c", "-n", "team")
    check("Namespace:     team" in out and "Directory:  team/data-c" in out,
          "describe pvc/data-c -n team:\n" + out)
    _, err = ctl("describe", "claim", "nope", rc=1)
    check('persistentvolumeclaims "nope" not found' in err, "describe nope: " + err)
    _, err = ctl("describe", "thing", "x", rc=2)
    check("unknown type" in err, "describe thing: " + err)


def test_orphans(api):
    root = export_dir()
    # A directory no PV uses, at the export's root (a file inside).
    os.makedirs(os.path.join(root, "stray-1"))
    with open(os.path.join(root, "stray-1", "left.txt"), "w") as f:
        f.write("x\n")
    # One below a level of the nested pattern ("team/" holds data-c).
    os.makedirs(os.path.join(root, "team", "ghost"))
    # An archive: kept on purpose, listed only with --archived.
    os.makedirs(os.path.join(root, "archived-old"))
    # A symbolic link is never a volume, and never followed.
    os.symlink("/etc", os.path.join(root, "link-to-etc"))
    # A volume made by hand whose directory then went: Available, so
    # --delete removes its PV.
    out, _ = ctl("provision", "--class", "berth-flat", "--size", "1Gi", "--name",
                 "manual-1", "--yes")
    check("persistentvolume/manual-1 created (nfs: default-manual-1-manual-1 on " in out,
          "provision manual-1: " + out)
    subprocess.run(["rm", "-rf", os.path.join(root, "default-manual-1-manual-1")], check=True)
    # A bound volume whose directory went: listed, never deleted.
    pv_a = api.claim("data-a")["spec"]["volumeName"]
    subprocess.run(["rm", "-rf", os.path.join(root, "default-data-a-" + pv_a)], check=True)

    out, _ = ctl("orphans")
    expect("orphans.txt", norm_table(out))
    out, _ = ctl("orphans", "--min-age", "0", "--no-usage", "-o", "json")
    doc = json.loads(out)
    check(doc["kind"] == "List" and all(o["kind"] == "Orphan" for o in doc["items"]),
          "orphans -o json: %s" % out)
    found = {(o["spec"]["type"], o["metadata"]["name"]): o["status"] for o in doc["items"]}
    check(set(found) == {("directory", "stray-1"), ("directory", "team/ghost"),
                         ("volume", "manual-1"), ("volume", pv_a)},
          "orphans -o json: %s" % sorted(found))
    check(found[("volume", pv_a)]["claim"] == "default/data-a" and
          not found[("volume", pv_a)]["deletable"] and found[("volume", "manual-1")]["deletable"],
          "orphans -o json: %s" % found)
    out, _ = ctl("orphans", "--min-age", "0", "--no-usage", "-o",
                 "custom-columns=TYPE:.spec.type,NAME:.metadata.name,DELETABLE:.status.deletable",
                 "--no-headers")
    check(sorted(l.split()[1] for l in out.splitlines()) ==
          sorted(["stray-1", "team/ghost", "manual-1", pv_a]), "orphans custom-columns:\n" + out)
    # --delete needs an answer: closed stdin is "no".
    out, err = ctl("orphans", "--delete", "--min-age", "0", rc=1)
    check("nothing done; pass --yes" in err, "orphans --delete without an answer: " + err)
    out, _ = ctl("orphans", "--delete", "--min-age", "0", "--dry-run")
    check("Delete 2 backend objects and 1 PersistentVolume listed above? (dry run: nothing done)"
          in out, "orphans --dry-run: " + out)
    check(os.path.isdir(os.path.join(root, "stray-1")), "--dry-run deleted stray-1")
    out, err = ctl("orphans", "--delete", "--min-age", "0", stdin="n\n", rc=1)
    check("nothing done" in err and os.path.isdir(os.path.join(root, "stray-1")),
          "orphans --delete answered n: " + err)
    out, err = ctl("orphans", "--delete", "--min-age", "0", stdin="y\n")
    deleted = [l for l in out.splitlines() if l.endswith((" deleted", "gone"))]
    check(deleted == ['directory "stray-1" deleted', 'directory "team/ghost" deleted',
                      'persistentvolume "manual-1" deleted'],
          "orphans --delete: %s\n%s" % (deleted, err))
    check("1 of them will be left alone" in err, "orphans --delete: " + err)
    check(not os.path.exists(os.path.join(root, "stray-1")) and
          not os.path.exists(os.path.join(root, "team", "ghost")) and
          os.path.isdir(os.path.join(root, "team", "data-c")) and
          os.path.isdir(os.path.join(root, "archived-old")) and
          os.path.islink(os.path.join(root, "link-to-etc")) and
          os.path.isdir("/etc"), "export after orphans --delete: %s" % os.listdir(root))
    # The DELETE is accepted; the PV goes once its finalizers are lifted
    # (the PV protection controller's kubernetes.io/pv-protection, set on
    # every PV by admission, and berth's own).
    poll(lambda: api.pv("manual-1") is None, 30, "PV manual-1 to go")
    check(api.pv(pv_a) is not None, "the bound PV %s was deleted" % pv_a)
    out, _ = ctl("orphans", "--archived")
    names = sorted(l.split()[1] for l in out.splitlines()[1:])
    check(names == sorted(["archived-old", pv_a]), "orphans --archived: %s\n%s" % (names, out))


def test_provision_delete(api):
    root = export_dir()
    # Pre-bound to a claim that does not exist yet.
    out, _ = ctl("provision", "--class", "berth-nested", "--claim", "restore", "-n", "team",
                 "--size", "1Gi", "--yes")
    m = re.match(r"persistentvolume/(pvc-[0-9a-f-]{36}) created \(nfs: team/restore on ", out)
    check(m is not None, "provision --claim: " + out)
    pv = m.group(1)
    check(os.path.isdir(os.path.join(root, "team", "restore")), "team/restore not made")
    obj = api.pv(pv)
    check(obj["spec"]["claimRef"]["name"] == "restore" and
          obj["spec"]["claimRef"]["namespace"] == "team" and
          obj["spec"]["accessModes"] == ["ReadWriteOnce"] and
          obj["metadata"]["annotations"]["pv.kubernetes.io/provisioned-by"] == PROVISIONER and
          obj["metadata"]["annotations"]["nfs.berth.io/directory"] == "team/restore" and
          "external-provisioner.volume.kubernetes.io/finalizer" in obj["metadata"]["finalizers"],
          "provisioned PV: %s" % obj)
    apply(claim("restore", "berth-nested", ns="team", size="1Gi", modes=("ReadWriteOnce",)))
    wait_bound(api, ["restore"], 20, ns="team")
    check(api.claim("restore", "team")["spec"]["volumeName"] == pv, "restore bound elsewhere")
    _, err = ctl("delete", pv, rc=1)
    check("is bound to claim team/restore" in err, "delete of a bound PV: " + err)
    # Errors that say what to do.
    _, err = ctl("provision", "--class", "other", "--size", "1Gi", "--yes", rc=1)
    check("is not one of berth's" in err and "--provisioner" in err, "provision other: " + err)
    _, err = ctl("provision", "--size", "1Gi", rc=2)
    check("needs --class" in err, "provision without --class: " + err)
    _, err = ctl("provision", "--class", "berth-flat", "--size", "lots", rc=2)
    check("is not a size" in err, "provision --size lots: " + err)
    _, err = ctl("provision", "--class", "berth-flat", "--size", "1Gi", "--name", "../x",
                 "--yes", rc=2)
    check("is not a valid PersistentVolume name" in err, "provision --name ../x: " + err)
    # The claim's shape is checked as the provisioner checks it: a Block
    # claim gets no directory (and no Filesystem PV that only looks right).
    blocky = claim("blocky", "other", size="1Gi", modes=("ReadWriteOnce",))
    blocky["spec"]["volumeMode"] = "Block"
    apply(blocky)
    _, err = ctl("provision", "--class", "berth-flat", "--claim", "blocky", "--yes", rc=1)
    check("volumeMode Block is not supported" in err, "provision for a Block claim: " + err)
    check(not os.path.exists(os.path.join(root, "default-blocky")) and
          not any(n.startswith("default-blocky") for n in os.listdir(root)),
          "a Block claim got a directory: %s" % os.listdir(root))
    # A volume by hand, then deleted by hand: the flat class deletes data.
    ctl("provision", "--class", "berth-flat", "--size", "1Gi", "--name", "manual-2",
        "--access-mode", "ReadWriteMany", "--yes")
    d = os.path.join(root, "default-manual-2-manual-2")
    check(os.path.isdir(d), "manual-2's directory")
    out, _ = ctl("delete", "manual-2", "--dry-run")
    check("which will be deleted with all its data)? (dry run" in out, "delete --dry-run: " + out)
    _, err = ctl("delete", "manual-2", rc=1)
    check("nothing done" in err and os.path.isdir(d), "delete without an answer: " + err)
    out, _ = ctl("delete", "manual-2", "--yes")
    check(out == 'nfs default-manual-2-manual-2: deleted\npersistentvolume "manual-2" deleted\n',
          "delete manual-2: %r" % out)
    check(not os.path.exists(d) and api.pv("manual-2") is None, "manual-2 left behind")


def test_peers():
    out, _ = ctl("peers", "web")
    expect("peers.txt", out)
    out, _ = ctl("peers", "web", "--render", "zookeeper")
    expect("peers-zookeeper.txt", out)
    out, _ = ctl("peers", "web", "--member", "web-1", "-o", "json")
    doc = json.loads(out)
    check(doc["count"] == 3 and doc["primary"] == "web-0.web.default.svc.cluster.local" and
          doc["self"] == "web-1.web.default.svc.cluster.local" and doc["selfSeen"] and
          doc["lowerOrdinalsPresent"] and
          [p["addresses"][0] for p in doc["peers"]] == ["10.244.0.10", "10.244.0.11",
                                                        "10.244.0.12"],
          "peers -o json: %s" % doc)
    # Twelve members: ordinals sort as numbers, not strings.
    subprocess.run([sys.executable, os.environ["BERTH_BED"], "ctl", "dns", "scale", "web", "12"],
                   check=True, capture_output=True, timeout=30)
    out, _ = ctl("peers", "web", "-o", "name")
    check(out.split() == ["web-%d.web.default.svc.cluster.local" % i for i in range(12)],
          "peers -o name after scaling: %s" % out)
    _, err = ctl("peers", "nosuch", rc=1)
    check("has no SRV records" in err and "headless Service" in err, "peers nosuch: " + err)
    _, err = ctl("peers", "web", "--dns-server", "127.0.0.1:1", "--request-timeout", "1s",
                 rc=1)
    check("DNS look-up" in err and "--dns-server" in err, "peers, dead DNS: " + err)
    _, err = ctl("peers", rc=2)
    check("needs one SERVICE" in err, "peers without a service: " + err)


def test_doctor(prov):
    env = {"NFS_URL": os.environ["BERTH_NFS_URL"]}
    out, _ = ctl("doctor", env=env)
    expect("doctor.txt", norm_doctor(out))
    # Not told the default export, berthctl finds it where claims does:
    # the PVs berth made for the nested class (which names none) record it.
    out, _ = ctl("doctor", env={"NFS_URL": ""})
    check("ok    StorageClass berth-nested: nfs: export " + os.environ["BERTH_NFS_URL"]
          in out, "doctor without NFS_URL:\n" + out)
    told, _ = ctl("orphans", "--no-usage", "--archived")
    out, err = ctl("orphans", "--no-usage", "--archived", env={"NFS_URL": ""})
    check(norm_table(out) == norm_table(told) and "archived-" in out and "no export" not in err,
          "orphans without NFS_URL:\n%s\nwith it:\n%s\n%s" % (out, told, err))
    out, _ = ctl("provision", "--class", "berth-nested", "--size", "1Mi", "--name",
                 "found-export", "--dry-run", env={"NFS_URL": ""})
    check("found-export" in out and "no export" not in out,
          "provision --dry-run without NFS_URL:\n" + out)
    # A dead export fails, with the fix.
    out, _ = ctl("doctor", "--nfs-url", "nfs://127.0.0.1/nope?nfsport=1&mountport=1",
                 "--request-timeout", "2s", rc=1)
    check("fail  StorageClass berth-nested" in out and "fail  nfs default export" in out and
          "nfs-ls" in out and "problems found: 2 failed" in out, "doctor, dead export:\n" + out)
    # -o json: the same checks as a document.
    out, _ = ctl("doctor", "-o", "json", env=env)
    rep = json.loads(out)
    check(rep["kind"] == "DoctorReport" and rep["failed"] == 0 and
          any(c["check"] == "provisioner %s: Lease" % PROVISIONER and c["status"] == "ok"
              for c in rep["checks"]), "doctor -o json: %s" % out)
    # The Lease as berth-provisioner names it: a Deployment that serves
    # berth.io/nfs after another provisioner keeps its Lease under that
    # one's name, in its namespace; none there is a failure with the fix.
    dep = {"apiVersion": "apps/v1", "kind": "Deployment",
           "metadata": {"name": "berth-provisioner", "namespace": "team"},
           "spec": {"selector": {"matchLabels": {"app": "b"}},
                    "template": {"metadata": {"labels": {"app": "b"}},
                                 "spec": {"containers": [{
                                     "name": "provisioner", "image": "berth:0.1.0",
                                     "command": ["berth-provisioner"],
                                     "args": ["--provisioner=example.com/first=nfs",
                                              "--provisioner=" + PROVISIONER + "=nfs",
                                              "--leader-election-namespace=$(POD_NAMESPACE)"]}]}}}}
    kubectl("apply", "-f", "-", stdin=json.dumps(dep))
    out, _ = ctl("doctor", env=env, rc=1)
    check("fail  provisioner %s: Lease" % PROVISIONER in out and
          "no Lease team/example.com-first (named after Deployment team/berth-provisioner)" in out
          and "fix: start berth-provisioner" in out, "doctor, Lease of a Deployment:\n" + out)
    kubectl("delete", "deployment", "-n", "team", "berth-provisioner")
    check("see above" not in out and "the error above" not in out, "doctor: " + out)
    # The provisioner stopped: its Lease has no live holder, a failure.
    rc = prov.stop()
    check(rc == 0, "berth-provisioner: exit status %s on SIGTERM, want 0" % rc)
    out, _ = ctl("doctor", env=env, rc=1)
    check("fail  provisioner %s: Lease" % PROVISIONER in out and "no live holder" in out and
          "fix: no berth-provisioner replica renews the Lease" in out,
          "doctor, provisioner stopped:\n" + out)
    # No API server at all.
    bad = os.path.join(os.environ["BERTH_BED_DIR"], "bad-kubeconfig")
    with open(os.environ["KUBECONFIG"]) as f:
        text = re.sub(r"server: \S+", "server: https://127.0.0.1:1", f.read())
    with open(bad, "w") as f:
        f.write(text)
    out, _ = ctl("doctor", "--kubeconfig", bad, rc=1)
    check("fail  API server" in out and "fix: is the API server https://127.0.0.1:1" in out,
          "doctor, no API server:\n" + out)
    _, err = ctl("claims", "--kubeconfig", bad, rc=1)
    check("fix: is the API server" in err, "claims, no API server: " + err)
    _, err = ctl("claims", "--kubeconfig", "/nonexistent", rc=1)
    check("fix: point berthctl at a cluster" in err, "claims, no kubeconfig: " + err)


def test_nfs_down():
    """The NFS server gone: claims still lists, warns, and exits 1."""
    os.kill(int(os.environ["BERTH_NFS_PID"]), signal.SIGKILL)
    out, err = ctl("claims", "-A", "--request-timeout", "2s", rc=1, timeout=60)
    check("data-b" in out and "error" in out and "a backend could not be asked" in err,
          "claims -A, NFS down: %r %r" % (out, err))


def main(argv):
    global BERTHCTL, DATA
    if len(argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    BERTHCTL, binary, DATA = argv[1], argv[2], argv[3]
    # berthctl is told the nfs backend's default export as the
    # provisioner is (the nested class names none).
    os.environ["NFS_URL"] = os.environ["BERTH_NFS_URL"]
    procs = []
    timings = []
    try:
        api = API()
        t = time.monotonic()
        prov = setup(api, binary, procs)
        timings.append(("setup", time.monotonic() - t))
        for name, fn in (("listings", lambda: test_listings(api)),
                         ("oracle", lambda: test_oracle(api)),
                         ("describe", lambda: test_describe(api)),
                         ("orphans", lambda: test_orphans(api)),
                         ("provision/delete", lambda: test_provision_delete(api)),
                         ("peers", test_peers),
                         ("doctor", lambda: test_doctor(prov)),
                         ("nfs down", test_nfs_down)):
            t = time.monotonic()
            fn()
            timings.append((name, time.monotonic() - t))
            log("ok: %s (%.1f s)" % (name, timings[-1][1]))
        for p in procs:
            if p.alive():
                rc = p.stop()
                check(rc == 0, "%s: exit status %s on SIGTERM, want 0" % (p.name, rc))
            errs = p.sanitizer_errors()
            check(not errs, "%s: sanitizer reports:\n%s" % (p.name, "\n".join(errs[:10])))
        log("PASS (%s)" % ", ".join("%s %.1f s" % x for x in timings))
        return 0
    except Exception as e:  # noqa: BLE001 - report everything the same way
        log("FAIL: %s: %s" % (type(e).__name__, e))
        for p in procs:
            print("---- %s log (last lines) ----\n%s" % (p.name, p.tail(40)), flush=True)
        return 1
    finally:
        for p in procs:
            if p.alive():
                p.kill()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
