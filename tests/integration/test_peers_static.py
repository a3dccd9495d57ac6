#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""berth-peers-static, the copy the install init container makes, runs in
root filesystems that have none of berth's libraries (as root: chroot):

- bare: nothing but the binary and /etc/resolv.conf. The dynamic
  berth-peers cannot even start there (the control that shows the root is
  bare); the static one resolves the bed's headless Service, renders the
  peers and runs a hook (itself, `--version`: there is nothing else to run).
- Debian: a bookworm minbase made by debootstrap, cached per machine
  outside the build tree ($BERTH_ROOTFS_CACHE, default
  /var/cache/berth/rootfs); `berth-peers install` copies the binary into
  /work-dir as the install init container does, and its hook is a shell
  script of that root (/bin/sh) that records its input.
- musl: Alpine's layout made from Debian's musl package: musl's libc as
  /lib/ld-musl-x86_64.so.1 (the loader), /etc/resolv.conf, and a hook
  built with musl-gcc and linked dynamically against musl, and no glibc
  at all. (Alpine's minirootfs cannot be downloaded here.)

The bed's dnsmasq listens on a port chosen at run time, which resolv.conf
cannot name (c-ares reads no port there), so the server comes from
--dns-server (BERTH_DNS_SERVER); resolv.conf's search list gives the zone
(the start line says domain_from=resolv.conf, which is checked).

    test_peers_static.py BERTH-PEERS-STATIC BERTH-PEERS HOOK.c
"""

import fcntl
import filecmp
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import time

from test_peers_lib import RECORDER, bed_ctl, check, members

CACHE = os.environ.get("BERTH_ROOTFS_CACHE", "/var/cache/berth/rootfs")
DEBIAN = os.path.join(CACHE, "debian-bookworm-minbase")
MIRROR = os.environ.get("BERTH_DEBIAN_MIRROR", "http://deb.debian.org/debian")
MUSL_LIBC = "/usr/lib/x86_64-linux-musl/libc.so"
RESOLV = ("search default.svc.cluster.local svc.cluster.local cluster.local\n"
          "nameserver 127.0.0.1\noptions ndots:5\n")
CHROOT = shutil.which("chroot") or "/usr/sbin/chroot"
ARGS = ["-service=web", "-ns=default", "--hostname", "web-1", "--once",
        "--timeout", "20s", "--interval", "100ms"]


def run(argv, timeout=30, **kw):
    return subprocess.run(argv, stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          timeout=timeout, text=True, **kw)


def peers_in(root, binary, extra):
    """Run `binary` (a path inside root) chrooted, with the bed's DNS."""
    env = {"PATH": "/usr/bin:/bin", "BERTH_DNS_SERVER":
           os.environ["BERTH_DNS_SERVER"]}
    return run([CHROOT, root, binary] + ARGS + extra, env=env)


def check_ran(p, what):
    check(p.returncode == 0, "%s: exit %d:\n%s" % (what, p.returncode,
                                                   p.stdout))
    check("domain_from=resolv.conf" in p.stdout,
          "%s: the zone did not come from resolv.conf:\n%s" % (what, p.stdout))
    check('msg="hook succeeded" hook=on-start' in p.stdout,
          "%s: no hook run:\n%s" % (what, p.stdout))


def base_root(tmp, name):
    root = os.path.join(tmp, name)
    os.makedirs(os.path.join(root, "etc"))
    with open(os.path.join(root, "etc", "resolv.conf"), "w") as f:
        f.write(RESOLV)
    return root


def test_install(static, dynamic, tmp):
    """Both builds' `install DIR` copy the static binary, mode 0755."""
    for prog in (static, dynamic):
        d = tempfile.mkdtemp(dir=tmp)
        os.chmod(d, 0o777)
        p = run([prog, "install", d])
        check(p.returncode == 0, "%s install: %s" % (prog, p.stdout))
        out = os.path.join(d, "berth-peers")
        check(filecmp.cmp(out, static, shallow=False),
              "%s install did not copy berth-peers-static" % prog)
        mode = stat.S_IMODE(os.stat(out).st_mode)
        check(mode == 0o755, "mode %o" % mode)
        check(os.listdir(d) == ["berth-peers"], "leftovers: %s" % os.listdir(d))
    p = run([static, "install", os.path.join(tmp, "nosuch")])
    check(p.returncode == 1 and "nosuch: No such file or directory" in p.stdout,
          "install into a missing directory: %d %s" % (p.returncode, p.stdout))
    p = run([static, "install"])
    check(p.returncode == 2 and "Usage: berth-peers install DIR" in p.stdout,
          "install without DIR: %d %s" % (p.returncode, p.stdout))
    # The dynamic build alone (no berth-peers-static beside it) says why.
    lone = os.path.join(tmp, "lone")
    os.makedirs(lone)
    shutil.copy(dynamic, os.path.join(lone, "berth-peers"))
    p = run([os.path.join(lone, "berth-peers"), "install", tmp])
    check(p.returncode == 1 and "linked dynamically" in p.stdout,
          "dynamic install without the static one: %s" % p.stdout)


def test_bare_root(static, dynamic, tmp):
    bed_ctl("scale", "web", "3")
    root = base_root(tmp, "bare")
    shutil.copy(static, os.path.join(root, "berth-peers"))
    shutil.copy(dynamic, os.path.join(root, "berth-peers-dynamic"))
    found = sorted(os.path.relpath(os.path.join(d, f), root)
                   for d, _, fs in os.walk(root) for f in fs)
    check(found == ["berth-peers", "berth-peers-dynamic", "etc/resolv.conf"],
          "the bare root holds %s" % found)
    p = peers_in(root, "/berth-peers-dynamic", ["--render", "lines:/peers"])
    check(p.returncode != 0 and not os.path.exists(os.path.join(root, "peers")),
          "the dynamic berth-peers started in the bare root: %s" % p.stdout)
    os.unlink(os.path.join(root, "berth-peers-dynamic"))
    p = peers_in(root, "/berth-peers", ["--render", "lines:/peers",
                                        "-on-start=/berth-peers --version"])
    check_ran(p, "bare root")
    check('stream=stdout line="berth-peers ' in p.stdout,
          "hook output: %s" % p.stdout)
    with open(os.path.join(root, "peers")) as f:
        check(f.read().splitlines() == members(range(3)), "rendered peers")
    p = peers_in(root, "/berth-peers", ["--http-endpoint", ":9102"])
    check(p.returncode == 2 and "--http-endpoint is not available in the "
          "static build" in p.stdout, "--http-endpoint: %s" % p.stdout)
    # No libcurl or OpenSSL in it: the EndpointSlice watch is refused too.
    p = peers_in(root, "/berth-peers", ["--source", "endpoints"])
    check(p.returncode == 2 and "--source endpoints is not available in the "
          "static build" in p.stdout, "--source endpoints: %s" % p.stdout)


def debian_cache():
    """The cached minbase root, made by debootstrap on first use."""
    os.makedirs(CACHE, exist_ok=True)
    with open(os.path.join(CACHE, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not os.path.exists(os.path.join(DEBIAN, "etc", "debian_version")):
            work = DEBIAN + ".tmp"
            shutil.rmtree(work, ignore_errors=True)
            t0 = time.monotonic()
            p = run(["debootstrap", "--variant=minbase", "bookworm", work,
                     MIRROR], timeout=1500)
            check(p.returncode == 0, "debootstrap: %s" % p.stdout[-2000:])
            os.rename(work, DEBIAN)
            print("debootstrap: %s in %.0f s" % (DEBIAN, time.monotonic() - t0))
    return DEBIAN


def test_debian_root(static, dynamic, tmp):
    bed_ctl("scale", "web", "3")
    root = os.path.join(tmp, "debian")
    p = run(["cp", "-a", debian_cache(), root], timeout=300)
    check(p.returncode == 0, "copy of the cached root: %s" % p.stdout)
    with open(os.path.join(root, "etc", "resolv.conf"), "w") as f:
        f.write(RESOLV)
    work = os.path.join(root, "work-dir")
    os.makedirs(os.path.join(work, "rec"))
    # The install init container, then the bootstrap one in this image.
    p = run([static, "install", work])
    check(p.returncode == 0, "install: %s" % p.stdout)
    shutil.copy(RECORDER, os.path.join(work, "recorder.sh"))
    p = peers_in(root, "/work-dir/berth-peers", [
        "-on-start=/bin/sh /work-dir/recorder.sh /work-dir/rec ok"])
    check_ran(p, "Debian root")
    check("line=\"recorder run 1\"" in p.stdout, "hook output: %s" % p.stdout)
    with open(os.path.join(work, "rec", "run.1.stdin")) as f:
        check(f.read().splitlines() == members(range(3)), "hook stdin")
    with open(os.path.join(work, "rec", "run.1.env")) as f:
        env = f.read()
    check("BERTH_ORDINAL=1\n" in env and "BERTH_PEER_COUNT=3\n" in env,
          "hook env: %s" % env)


def test_musl_root(static, dynamic, tmp, hook_src):
    bed_ctl("scale", "web", "2")
    root = base_root(tmp, "musl")
    os.makedirs(os.path.join(root, "lib"))
    os.makedirs(os.path.join(root, "bin"))
    shutil.copy(MUSL_LIBC, os.path.join(root, "lib", "ld-musl-x86_64.so.1"))
    os.symlink("ld-musl-x86_64.so.1",
               os.path.join(root, "lib", "libc.musl-x86_64.so.1"))
    hook = os.path.join(root, "bin", "hook")
    p = run(["musl-gcc", "-O2", "-o", hook, hook_src])
    check(p.returncode == 0, "musl-gcc: %s" % p.stdout)
    interp = run(["readelf", "-l", hook]).stdout
    check("/lib/ld-musl-x86_64.so.1" in interp, "hook is not musl-linked")
    # No glibc anywhere in this root: the dynamic berth-peers fails.
    check(not [f for d, _, fs in os.walk(root) for f in fs
               if f.startswith(("libc.so.6", "ld-linux"))], "glibc in root")
    shutil.copy(dynamic, os.path.join(root, "bin", "berth-peers-dynamic"))
    p = run([CHROOT, root, "/bin/berth-peers-dynamic", "--version"])
    check(p.returncode != 0, "the dynamic berth-peers ran on musl")
    os.unlink(os.path.join(root, "bin", "berth-peers-dynamic"))
    work = os.path.join(root, "work-dir")
    os.makedirs(os.path.join(work, "rec"))
    p = run([static, "install", work])
    check(p.returncode == 0, "install: %s" % p.stdout)
    p = peers_in(root, "/work-dir/berth-peers",
                 ["-on-start=/bin/hook /work-dir/rec"])
    check_ran(p, "musl root")
    check("line=\"musl hook ran\"" in p.stdout, "hook output: %s" % p.stdout)
    with open(os.path.join(work, "rec", "stdin")) as f:
        check(f.read().splitlines() == members(range(2)), "hook stdin")
    with open(os.path.join(work, "rec", "env")) as f:
        env = f.read()
    check("BERTH_ORDINAL=1\n" in env and "BERTH_PEER_COUNT=2\n" in env,
          "hook env: %s" % env)


def main():
    if sys.argv[1:] == ["--prepare"]:
        # scripts/setup: make the cached Debian root once per machine, so
        # that the test run itself never waits for debootstrap.
        print(debian_cache())
        return
    if len(sys.argv) != 4:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        sys.exit(2)
    static, dynamic, hook_src = sys.argv[1:]
    check(os.geteuid() == 0, "needs root (chroot)")
    tests = [lambda t: test_install(static, dynamic, t),
             lambda t: test_bare_root(static, dynamic, t),
             lambda t: test_debian_root(static, dynamic, t),
             lambda t: test_musl_root(static, dynamic, t, hook_src)]
    names = ["install", "bare_root", "debian_root", "musl_root"]
    failed = 0
    for name, t in zip(names, tests):
        tmp = tempfile.mkdtemp(prefix="berth-peers-static-")
        t0 = time.monotonic()
        try:
            t(tmp)
            print("ok - %s (%.1f s)" % (name, time.monotonic() - t0))
        except Exception as e:  # report every test, then fail
            failed += 1
            print("FAIL - %s: %s: %s" % (name, type(e).__name__, e))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        sys.stdout.flush()
    print("%d of %d failed" % (failed, len(tests)))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
