#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""berth-provisioner: NFS claims cloned from another claim (dataSource /
dataSourceRef of kind PersistentVolumeClaim), checked at the export with an
independent walk (os.lstat on the directory ganesha exports), never with
berth's own report:

  tree       every kind of entry: files (empty, small, several READs'
             worth), nested and empty directories, modes (set-id, sticky,
             read-only directories), owners, times, symbolic links (inside,
             absolute, and one that points out of the source: copied as a
             link, never followed), a hard link (copied as a separate file)
             and a FIFO (not copied, counted in the final CloneProgress
             Event); the PV says where it came from
             (berth.io/cloned-from, -uid); the copy counters grew
  refused    cross-namespace source, unbound source, smaller claim,
             source of another class, data source of another kind:
             ProvisioningFailed with Kubernetes' words, Pending, no
             directory
  delete     the claim deleted during the copy: the copy stops, its
             partial tree is removed, nothing left in the export
  kill       SIGKILL of the provisioner during the copy: not Bound while
             it is down; after a restart the copy is made again and the
             claim Bound with the whole tree
  nfs4       a clone in an NFSv4 class is refused (libnfs 4.0 cannot
             write files over NFSv4), nothing made
  berthctl   describe shows the clone's data source and where it came from

    test_provisioner_clone.py BERTH-PROVISIONER BERTHCTL
                                                  (under bed.py run k8s nfs)
"""

import hashlib
import os
import stat
import subprocess
import sys

from test_provisioner_lib import (API, Created, Provisioner, apply, check, claim, create,
                                  events_for, export_dir, journal, kubectl, log, phase,
                                  poll, run, storage_class, v3_url, v4_url, volume_dirs,
                                  wait_bound)

CLASSES = [
    storage_class("nfs", {"url": v3_url(), "archiveOnDelete": "false"}),
    storage_class("nfs-other", {"url": v3_url(), "archiveOnDelete": "false"}),
    storage_class("nfs-later", {"url": v3_url(), "archiveOnDelete": "false"},
                  binding="WaitForFirstConsumer"),
    storage_class("nfs4", {"url": v4_url(), "archiveOnDelete": "false"}),
]

T0 = 1500000000  # times set on the source, far from "now"


def clone_of(name, source, cls="nfs", size="1Gi", field="dataSource", ns="default",
             source_ns=None):
    c = claim(name, cls, ns=ns, size=size)
    ds = {"kind": "PersistentVolumeClaim", "name": source}
    if field == "dataSourceRef":
        ds["apiGroup"] = ""
        if source_ns:
            ds["namespace"] = source_ns
    c["spec"][field] = ds
    return c


def volume_dir(api, name, ns="default"):
    pv = api.pv(api.claim(name, ns)["spec"]["volumeName"])
    return os.path.join(export_dir(), pv["metadata"]["annotations"]["nfs.berth.io/directory"]), pv


def set_times(path, i):
    os.utime(path, ns=(T0 * 10**9 + i * 1000 + 7000, (T0 - 100) * 10**9 + i * 3000 + 11000),
             follow_symlinks=False)


def fill_tree(root):
    """Every kind of entry, with owners, modes and times of its own."""
    entries = []

    def add(rel, kind, mode=None, owner=None, data=None, target=None):
        p = os.path.join(root, rel)
        if kind == "dir":
            os.mkdir(p)
        elif kind == "file":
            with open(p, "wb") as f:
                f.write(data)
        elif kind == "link":
            os.symlink(target, p)
        elif kind == "fifo":
            os.mkfifo(p)
        if owner:
            os.lchown(p, *owner)
        if mode is not None:
            os.chmod(p, mode)
        entries.append(rel)

    add("empty", "file", 0o644, (1001, 2001), b"")
    add("small.txt", "file", 0o640, (1002, 2002), b"hello clone\n")
    add("big.bin", "file", 0o600, (0, 0), os.urandom(700 * 1024 + 13))
    add("suid", "file", 0o4755, (1003, 2003), b"#!/bin/sh\n")
    add("a", "dir", 0o755, (1004, 2004))
    add("a/b", "dir", 0o750, (1005, 2005))
    add("a/b/c", "dir", 0o700, (1006, 2006))
    add("a/b/c/deep.txt", "file", 0o444, (1007, 2007), b"deep" * 1000)
    add("a/emptydir", "dir", 0o1777, (0, 0))
    add("ro", "dir", 0o755)
    add("ro/inside", "file", 0o644, None, b"read-only dir\n")
    add("rel-link", "link", None, (1008, 2008), target="a/b/c/deep.txt")
    add("abs-link", "link", None, None, target="/etc/passwd")
    add("escape", "link", None, None, target="../outside")
    add("a/b/dangling", "link", None, None, target="no/such/file")
    add("hard1", "file", 0o644, (1009, 2009), b"linked twice\n")
    os.link(os.path.join(root, "hard1"), os.path.join(root, "hard2"))
    entries.append("hard2")
    add("fifo", "fifo", 0o644)
    os.chmod(os.path.join(root, "ro"), 0o555)
    # Times last, deepest first: making entries changes their directory's.
    for i, rel in enumerate(sorted(entries, key=lambda r: -r.count("/"))):
        set_times(os.path.join(root, rel), i)
    return entries


def walk(root, ns=False):
    """{relative path: description} by an independent walk (lstat, never
    following a link); times to the microsecond (NFSv3 through libnfs) or
    with ns to the nanosecond."""
    out = {}
    for d, dirs, files in os.walk(root):
        for n in dirs + files:
            p = os.path.join(d, n)
            rel = os.path.relpath(p, root)
            st = os.lstat(p)
            desc = {"type": stat.S_IFMT(st.st_mode), "mode": stat.S_IMODE(st.st_mode),
                    "uid": st.st_uid, "gid": st.st_gid,
                    "mtime_us": st.st_mtime_ns if ns else st.st_mtime_ns // 1000}
            if stat.S_ISREG(st.st_mode):
                with open(p, "rb") as f:
                    desc["sha"] = hashlib.sha256(f.read()).hexdigest()
                desc["size"] = st.st_size
            elif stat.S_ISLNK(st.st_mode):
                desc["target"] = os.readlink(p)
                del desc["mode"]  # a link's mode means nothing
                # berth sets a link's times (SETATTR on the link itself);
                # nfs-ganesha's VFS FSAL answers OK and keeps its own.
                del desc["mtime_us"]
            out[rel] = desc
    return out


def compare(src, dst, skipped=(), ns=False):
    a, b = walk(src, ns), walk(dst, ns)
    for s in skipped:
        a.pop(s, None)
    check(sorted(a) == sorted(b), "entries differ: only in source %s, only in clone %s"
          % (sorted(set(a) - set(b))[:10], sorted(set(b) - set(a))[:10]))
    diff = ["%s: source %s, clone %s" % (rel, a[rel], b[rel]) for rel in sorted(a)
            if a[rel] != b[rel]]
    check(not diff, "%d entries differ:\n  %s" % (len(diff), "\n  ".join(diff[:10])))
    return len(a)


def failed_with(api, name, *words, ns="default"):
    return [e for e in events_for(api, name, "ProvisioningFailed", ns)
            if all(w in e.get("message", "") for w in words)]


def export_names():
    """The export's top-level entries but berth's journal of volumes in
    flight (.berth), which comes and goes with every provision; the
    journal is checked on its own (journal())."""
    return volume_dirs()


def check_tree(api, p):
    create(claim("src", "nfs", size="2Gi"))
    wait_bound(api, ["src"], 60)
    src, _ = volume_dir(api, "src")
    entries = fill_tree(src)
    before = p.metrics()
    create(clone_of("dst", "src", size="2Gi"))
    wait_bound(api, ["dst"], 60)
    dst, pv = volume_dir(api, "dst")
    n = compare(src, dst, skipped=("fifo",))
    check(n == len(entries) - 1, "compared %d entries, want %d" % (n, len(entries) - 1))
    check(not os.path.exists(os.path.join(dst, "fifo")), "the FIFO was not to be copied")
    # The link that points out of the source is a link in the clone.
    check(os.path.islink(os.path.join(dst, "escape")) and
          os.readlink(os.path.join(dst, "escape")) == "../outside",
          "escape: not copied as the same link")
    check(not os.path.exists(os.path.join(dst, "outside")), "followed a link out")
    with open(os.path.join(export_dir(), "outside", "precious")) as f:
        check(f.read() == "keep me", "the target of the escaping link changed")
    # Hard links: separate files, same contents.
    check(os.lstat(os.path.join(dst, "hard1")).st_ino !=
          os.lstat(os.path.join(dst, "hard2")).st_ino, "hard links: separate files")
    # The clone's root is a new volume of its class (directoryPerms 0777).
    check(stat.S_IMODE(os.stat(dst).st_mode) == 0o777,
          "clone root mode %o" % stat.S_IMODE(os.stat(dst).st_mode))
    ann = pv["metadata"]["annotations"]
    check(ann.get("berth.io/cloned-from") == "default/src" and
          ann.get("berth.io/cloned-from-uid") == api.claim("src")["metadata"]["uid"],
          "PV annotations: %s" % ann)
    check(not [x for x in export_names() if x.startswith(".berth-clone-")],
          "staging directory left: %s" % export_names())
    ev = poll(lambda: [e for e in events_for(api, "dst", "CloneProgress")
                       if "1 special files" in e.get("message", "")], 20,
              "the final CloneProgress Event")
    log("final event: %s" % ev[0]["message"])
    after = p.metrics()
    nbytes = sum(os.lstat(os.path.join(src, e)).st_size for e in entries
                 if os.path.isfile(os.path.join(src, e)) and not os.path.islink(os.path.join(src, e)))
    grew = after["berth_provisioner_clone_bytes_total"] - \
        before.get("berth_provisioner_clone_bytes_total", 0)
    check(grew == nbytes, "clone bytes counter grew by %d, want %d" % (grew, nbytes))
    check(after["berth_provisioner_clone_files_total"] -
          before.get("berth_provisioner_clone_files_total", 0) == len(entries) - 1,
          "clone files counter")
    log("tree: %d entries cloned and equal at the export; link not followed" % n)


def check_refusals(api):
    kubectl("create", "namespace", "other")
    create(claim("src-other", "nfs-other"), claim("src-later", "nfs-later"))
    wait_bound(api, ["src-other"], 60)
    before = export_names()
    create(clone_of("x-small", "src", size="1Gi"),
           clone_of("x-class", "src-other"),
           clone_of("x-unbound", "src-later"),
           clone_of("x-ns", "src", ns="other", field="dataSourceRef", source_ns="default",
                    size="2Gi"))
    poll(lambda: failed_with(api, "x-small", "greater than or equal in size",
                             "requested 1Gi but source is 2Gi"), 30, "x-small refused")
    poll(lambda: failed_with(api, "x-class", "same storage class",
                             "Source is in nfs-other, but new PVC is in nfs"), 30,
         "x-class refused")
    poll(lambda: failed_with(api, "x-unbound", "must have a status of Bound"), 30,
         "x-unbound refused")
    # The API server keeps dataSourceRef.namespace only with the
    # CrossNamespaceVolumeDataSource gate (then berth refuses: the unit test
    # test_provisioner_clone_rules); without it, it drops the claim's data
    # source, and the claim is an ordinary, empty one: never a clone.
    spec = api.claim("x-ns", "other")["spec"]
    ref = spec.get("dataSourceRef") or {}
    if ref.get("namespace"):
        poll(lambda: failed_with(api, "x-ns", "CrossNamespaceVolumeDataSource", ns="other"),
             30, "x-ns refused")
        check(phase(api.claim("x-ns", "other")) == "Pending", "x-ns not Pending")
    else:
        check("dataSource" not in spec, "x-ns: data source kept without a namespace: %s" % spec)
        wait_bound(api, ["x-ns"], 60, ns="other")
        d, pv = volume_dir(api, "x-ns", "other")
        check(os.listdir(d) == [] and "berth.io/cloned-from" not in pv["metadata"]["annotations"],
              "x-ns: an empty volume, not a clone")
        before.add(os.path.basename(d))
    for n, ns in (("x-small", "default"), ("x-class", "default"),
                  ("x-unbound", "default")):
        check(phase(api.claim(n, ns)) == "Pending", "%s not Pending" % n)
    check(export_names() == before, "refused clones made something: %s" %
          (export_names() ^ before))
    log("refusals: size, class, unbound, cross-namespace (%s)" %
        ("namespace kept" if ref.get("namespace") else "namespace dropped by the API server"))


def big_tree(root, dirs=40, files=60, size=8192):
    for d in range(dirs):
        p = os.path.join(root, "d%02d" % d)
        os.mkdir(p)
        for f in range(files):
            with open(os.path.join(p, "f%03d" % f), "wb") as fh:
                fh.write(os.urandom(size))


def staging():
    return [x for x in export_names() if x.startswith(".berth-clone-")]


def staging_entries():
    s = staging()
    if not s:
        return 0
    n = 0
    for _, ds, fs in os.walk(os.path.join(export_dir(), s[0])):
        n += len(ds) + len(fs)
    return n


def check_delete_during_copy(api):
    create(claim("big", "nfs"))
    wait_bound(api, ["big"], 60)
    src, _ = volume_dir(api, "big")
    big_tree(src)
    before = export_names()
    pvs = Created(api)
    create(clone_of("cancelled", "big"))
    uid = api.claim("cancelled")["metadata"]["uid"]
    poll(lambda: staging_entries() >= 20, 30, "the copy under way")
    check(phase(api.claim("cancelled")) == "Pending", "copy finished too early: grow the tree")
    kubectl("delete", "pvc", "cancelled", "--wait=false")
    poll(lambda: api.claim("cancelled") is None, 60, "the deleted clone's claim gone")
    # No finalizer holds the claim: it is gone at once, and the worker that
    # held it in flight stops the copy and removes it (within the hooks'
    # poll), after which nothing more is written.
    poll(lambda: not staging(), 30, "the partial copy removed")
    # The copy stopped: it never finished, so no PV was ever saved.
    check(pvs.error is None and "pvc-" + uid not in pvs.first,
          "a PV was saved for the deleted clone (the copy went on): %s" % pvs.error)
    check(export_names() == before, "left in the export: %s" % (export_names() ^ before))
    # Then the volume's journal record (.berth/inflight) is dropped too.
    poll(lambda: "pvc-" + uid not in journal(), 30,
         "the cancelled clone's journal record dropped")
    log("delete during the copy: partial copy removed, nothing left")


def check_kill_during_copy(api, p):
    create(clone_of("survivor", "big"))
    poll(lambda: staging_entries() >= 20, 30, "the copy under way")
    check(phase(api.claim("survivor")) == "Pending", "copy finished too early: grow the tree")
    p.kill()
    n = staging_entries()
    check(n > 0 and phase(api.claim("survivor")) == "Pending" and
          not api.claim("survivor")["spec"].get("volumeName"),
          "after SIGKILL: a half copy of %d entries, claim Pending with no volume" % n)
    log("SIGKILL with %d entries copied; claim Pending" % n)
    p.start()
    wait_bound(api, ["survivor"], 90)
    src, _ = volume_dir(api, "big")
    dst, _ = volume_dir(api, "survivor")
    n = compare(src, dst)
    check(not staging(), "staging left after the restart: %s" % staging())
    log("restarted: copy made again, Bound with all %d entries" % n)


def check_nfs4(api):
    """libnfs 4.0 cannot write files over NFSv4: a clone in an NFSv4 class
    is refused before anything is made."""
    create(claim("src4", "nfs4"))
    wait_bound(api, ["src4"], 60)
    before = export_names()
    create(clone_of("dst4", "src4", cls="nfs4"))
    poll(lambda: failed_with(api, "dst4", "NFSv3 only"), 30, "dst4 refused")
    check(phase(api.claim("dst4")) == "Pending", "dst4 not Pending")
    check(export_names() == before, "the refused NFSv4 clone made %s" %
          (export_names() ^ before))
    log("NFSv4 class: clone refused, nothing made")


def check_berthctl(berthctl):
    r = subprocess.run([berthctl, "describe", "claim", "dst"], capture_output=True,
                       text=True, timeout=60)
    check(r.returncode == 0, "berthctl describe claim dst: exit %d: %s%s" % (r.returncode, r.stdout, r.stderr))
    out = r.stdout
    for want in ("DataSource:", "Kind:", "PersistentVolumeClaim", "Cloned From:",
                 "default/src (uid "):
        check(want in out, "berthctl describe claim dst: no %r in:\n%s" % (want, out))
    pv = [l for l in out.splitlines() if l.startswith("Volume:")][0].split()[-1]
    r = subprocess.run([berthctl, "describe", "volume", pv], capture_output=True,
                       text=True, timeout=60)
    check(r.returncode == 0 and "Cloned From:" in r.stdout and "default/src" in r.stdout,
          "berthctl describe volume %s:\n%s%s" % (pv, r.stdout, r.stderr))
    log("berthctl describe: the clone's source on the claim and the volume")


def main(binary, procs):
    api = API()
    root = export_dir()
    os.makedirs(os.path.join(root, "outside"))
    with open(os.path.join(root, "outside", "precious"), "w") as f:
        f.write("keep me")
    apply(*CLASSES)
    p = Provisioner(binary, "p", Provisioner.FAST_LEASE)
    procs.append(p)
    p.start()
    check_tree(api, p)
    check_berthctl(sys.argv[2])
    check_nfs4(api)
    check_refusals(api)
    check_delete_during_copy(api)
    check_kill_during_copy(api, p)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print("usage: %s BERTH-PROVISIONER BERTHCTL" % sys.argv[0], file=sys.stderr)
        sys.exit(2)
    sys.exit(run(main))
