#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""berth-provisioner's metrics and deploy/monitoring's alerts, on a real run.

A leader and a standby berth-provisioner serve NFS and EBS on the bed; a
claim fills its NFS directory past its request, a claim of a class with an
unknown parameter fails, an EBS claim meets AWS errors and then binds, a
claim is deleted and its directory archived. Then:

  - every exposition (leader and standby) passes Prometheus's own parser,
    `promtool check metrics`, and has # HELP and # TYPE for every family;
  - the families operators expect are there: berth_build_info (with this
    build's commit), process_*, workqueue_*, rest_client_*,
    leader_election_master_status (1 on the leader, 0 on the standby);
  - EBS cannot measure usage: it says so once in the log, and counts no
    usage error;
  - the startup line names every provisioner, the archive line says where
    the directory went (and it is there);
  - deploy/monitoring/rules.yaml passes `promtool check rules`, and
    `promtool test rules` evaluates each alert's expression against the
    scraped samples (before the events, after them): each fires where the
    run says it must and nowhere else.

    test_monitoring.py PROMTOOL RULES BERTH-PROVISIONER   (under bed.py run k8s nfs aws)
"""

import os
import re
import subprocess
import sys
import tempfile
import time

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_provisioner_ebs_lib import EBS, aws_faults, node  # noqa: E402
from test_provisioner_lib import (API, PROVISIONER, Failure, Provisioner, check,  # noqa: E402
                                  claim, create, export_dir, log, poll, storage_class,
                                  wait_bound)

EXPECTED = ["berth_build_info", "process_cpu_seconds_total", "process_resident_memory_bytes",
            "process_open_fds", "process_max_fds", "process_start_time_seconds",
            "process_virtual_memory_bytes",
            "workqueue_depth", "workqueue_adds_total", "workqueue_retries_total",
            "workqueue_queue_duration_seconds", "workqueue_work_duration_seconds",
            "workqueue_unfinished_work_seconds", "workqueue_longest_running_processor_seconds",
            "rest_client_requests_total", "rest_client_request_duration_seconds",
            "leader_election_master_status", "berth_provisioner_claims_pending",
            "berth_provisioner_claim_pending_oldest_seconds",
            "berth_provisioner_volume_usage_bytes", "berth_provisioner_volume_capacity_bytes",
            "controller_persistentvolumeclaim_provision_failed_total",
            "berth_provisioner_backend_errors_total"]


def samples(text):
    """{'name{labels}': value} of an exposition (its own labels kept)."""
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            k, _, v = line.rpartition(" ")
            out[k] = float(v)
    return out


def families(text):
    helps = set(re.findall(r"^# HELP (\S+) ", text, re.M))
    types = dict(re.findall(r"^# TYPE (\S+) (\S+)$", text, re.M))
    return helps, types


# A standby has no work queue and no informers yet: what it exports.
STANDBY = ["berth_build_info", "process_cpu_seconds_total", "process_resident_memory_bytes",
           "process_open_fds", "process_start_time_seconds", "rest_client_requests_total",
           "rest_client_request_duration_seconds", "leader_election_master_status"]


def check_exposition(promtool, name, text, expected=EXPECTED):
    r = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True,
                       text=True, timeout=60)
    check(r.returncode == 0, "%s: promtool check metrics: exit %d\n%s%s" %
          (name, r.returncode, r.stdout, r.stderr))
    helps, types = families(text)
    check(set(types) == helps, "%s: families without HELP %s, without TYPE %s" %
          (name, set(types) - helps, helps - set(types)))
    for s in samples(text):
        base = s.split("{")[0]
        fam = re.sub(r"_(bucket|sum|count)$", "", base) if base not in types else base
        check(fam in types, "%s: sample %s has no # TYPE" % (name, s))
    missing = [f for f in expected if f not in types]
    check(not missing, "%s: families missing: %s" % (name, missing))
    log("%s: promtool check metrics ok, %d families, each with HELP and TYPE"
        % (name, len(types)))


def series_line(key, job, instance):
    """A scraped sample's series in promtool's notation, with the labels a
    Prometheus scrape adds."""
    name, _, labels = key.partition("{")
    labels = labels.rstrip("}")
    extra = 'instance="%s",job="%s"' % (instance, job)
    return "%s{%s}" % (name, labels + "," + extra if labels else extra)


def rules_test(promtool, rules, before, after, standby, pending_age, tmp):
    """promtool test rules: each alert's expression over the scraped
    samples (before the events at 0m, after them at 1m; the standby's
    alone; nothing at all), counting the series it returns."""
    groups = yaml.safe_load(open(rules))["groups"]
    exprs = {r["alert"]: r["expr"] for g in groups for r in g["rules"]}
    check(set(exprs) == {"BerthProvisioningFailing", "BerthClaimPendingTooLong",
                         "BerthLeaderMissing", "BerthBackendErrors",
                         "BerthNFSVolumeOverRequest"}, "alerts: %s" % sorted(exprs))

    def input_series(points, instance):
        out = []
        keys = sorted(set().union(*[p.keys() for p in points]))
        for k in keys:
            vals = " ".join(("%r" % p[k]) if k in p else "_" for p in points)
            out.append({"series": series_line(k, "berth", instance), "values": vals})
        return out

    # The failed classes and backend errors the run made: counters that
    # grew between the scrapes.
    def grew(prefix):
        return sorted(k for k in after if k.startswith(prefix) and
                      after[k] > before.get(k, 0))
    failed = grew("controller_persistentvolumeclaim_provision_failed_total{")
    errors = grew("berth_provisioner_backend_errors_total{")
    over = [k for k, v in after.items() if k.startswith("berth_provisioner_volume_usage_bytes{")
            and v > after[k.replace("usage_bytes", "capacity_bytes")]]
    check(any('class="mon-bad"' in k for k in failed), "no failed class: %s" % failed)
    check(any('backend="ebs",operation="provision"' in k for k in errors),
          "no EBS provision error: %s" % errors)
    check(len(over) == 1, "volumes over their request: %s" % over)

    def count(alert, n, at="1m"):
        return {"expr": "count(%s)" % exprs[alert], "eval_time": at,
                "exp_samples": [{"labels": "{}", "value": n}] if n else []}

    pend_key = [k for k in after if k.startswith("berth_provisioner_claim_pending_oldest_seconds{")
                and 'class="mon-bad"' in k]
    check(pend_key, "no pending age for mon-bad: %s" % [k for k in after if "pending" in k])
    tests = [
        {"interval": "1m", "input_series": input_series([before, after], "leader"),
         "promql_expr_test": [
             count("BerthProvisioningFailing", len(failed)),
             count("BerthBackendErrors", len(errors)),
             count("BerthNFSVolumeOverRequest", 1),
             count("BerthLeaderMissing", 0),
             count("BerthClaimPendingTooLong", 0)]},
        # The standby alone: no replica leads.
        {"interval": "1m", "input_series": input_series([standby, standby], "standby"),
         "promql_expr_test": [count("BerthLeaderMissing", 1)]},
        # Nothing scraped at all.
        {"interval": "1m", "input_series": [{"series": 'up{job="berth"}', "values": "0 0"}],
         "promql_expr_test": [count("BerthLeaderMissing", 1)]},
        # The failed claim still Pending 16 minutes on: its age grows with
        # the clock (60 s a minute) from the age scraped.
        {"interval": "1m",
         "input_series": [{"series": series_line(pend_key[0], "berth", "leader"),
                           "values": "%d+60x20" % pending_age}],
         "promql_expr_test": [count("BerthClaimPendingTooLong", 0, "1m"),
                              count("BerthClaimPendingTooLong", 1, "16m")]},
    ]
    path = os.path.join(tmp, "rules_test.yaml")
    with open(path, "w") as f:
        yaml.safe_dump({"rule_files": [os.path.abspath(rules)], "evaluation_interval": "1m",
                        "tests": tests}, f, sort_keys=False)
    r = subprocess.run([promtool, "test", "rules", path], capture_output=True, text=True,
                       timeout=120)
    check(r.returncode == 0, "promtool test rules: exit %d\n%s%s" %
          (r.returncode, r.stdout, r.stderr))
    log("promtool test rules: %d alert expressions over the scraped samples: ok"
        % len(exprs))


def main(argv):
    if len(argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    promtool, rules, binary = argv[1:4]
    procs = []
    tmp = tempfile.mkdtemp(prefix="berth-mon-")
    try:
        check(os.access(promtool, os.X_OK), "no promtool at %s: run scripts/setup" % promtool)
        r = subprocess.run([promtool, "check", "rules", rules], capture_output=True, text=True)
        check(r.returncode == 0, "promtool check rules: %s%s" % (r.stdout, r.stderr))
        api = API()
        node("node-a", "us-east-1a")  # registered through the bed
        create(storage_class("mon-nfs", {}), storage_class("mon-bad", {"noSuchParameter": "1"}),
               storage_class("mon-ebs", {"type": "gp3"}, provisioner=EBS))
        args = ["--provisioner", PROVISIONER + "=nfs", "--provisioner", EBS + "=ebs",
                "--usage-interval", "2s"] + Provisioner.FAST_LEASE
        env = {"NFS_URL": os.environ["BERTH_NFS_URL"], "BERTH_CLUSTER_ID": "bed"}
        leader = Provisioner(binary, "leader", args, environ=env)
        procs.append(leader.start())
        poll(lambda: "berth_provisioner_leader 1" in leader.http("/metrics"), 30, "a leader")
        standby = Provisioner(binary, "standby", args, environ=env)
        procs.append(standby.start())
        poll(lambda: 'leader_election_master_status{name="berth.io-nfs"} 0' in
             standby.http("/metrics"), 30, "the standby's metrics")
        # The classes' counters exist at 0 once the leader has seen them.
        before = poll(lambda: (lambda m: m if all(
            'controller_persistentvolumeclaim_provision_failed_total{class="%s"}' % c in m
            for c in ("mon-nfs", "mon-bad", "mon-ebs")) else None)(
                samples(leader.http("/metrics"))), 30, "the classes' zero counters")
        t0 = time.monotonic()

        started = [ln for ln in leader.log_text().splitlines() if "berth-provisioner started" in ln]
        check(started and 'provisioners="berth.io/nfs=nfs,berth.io/ebs=ebs"' in started[0],
              "startup line: %s" % started)

        create(claim("big", "mon-nfs", size="1Ki"), claim("bad", "mon-bad"))
        aws_faults(error_rate=1.0, seed=1)
        create(claim("disk", "mon-ebs", modes=("ReadWriteOnce",)))
        poll(lambda: leader.metrics().get(
            'berth_provisioner_backend_errors_total{backend="ebs",operation="provision"}', 0) > 0,
             30, "an EBS provision error")
        aws_faults(error_rate=0)
        wait_bound(api, ["big", "disk"], 60)
        pv = api.claim("big")["spec"]["volumeName"]
        with open(os.path.join(export_dir(), "default-big-" + pv, "data.bin"), "wb") as f:
            f.write(b"\0" * 65536)
        poll(lambda: leader.metrics().get(
            'berth_provisioner_volume_usage_bytes{persistentvolume="%s",class="mon-nfs"}' % pv,
            0) >= 65536, 30, "the usage of big")
        poll(lambda: leader.metrics().get(
            'controller_persistentvolumeclaim_provision_failed_total{class="mon-bad"}', 0) > 0,
             30, "the failed class")
        # Two usage rounds at least: EBS's volume was passed over each time.
        poll(lambda: leader.log_text().count("usage not measured") >= 1, 20, "the EBS usage line")
        after_text = leader.http("/metrics")
        after = samples(after_text)
        pending_age = int(after['berth_provisioner_claim_pending_oldest_seconds{class="mon-bad"}'])
        standby_text = standby.http("/metrics")
        check_exposition(promtool, "leader", after_text)
        check_exposition(promtool, "standby", standby_text, STANDBY)
        st = samples(standby_text)
        check(after['leader_election_master_status{name="berth.io-nfs"}'] == 1 and
              st['leader_election_master_status{name="berth.io-nfs"}'] == 0,
              "leader_election_master_status: %s / %s" % (
                  after.get('leader_election_master_status{name="berth.io-nfs"}'),
                  st.get('leader_election_master_status{name="berth.io-nfs"}')))
        head = subprocess.run(["git", "-C", os.path.dirname(os.path.abspath(__file__)),
                               "rev-parse", "--short=12", "HEAD"], capture_output=True,
                              text=True).stdout.strip()
        info = [k for k in after if k.startswith("berth_build_info{")]
        check(len(info) == 1 and 'program="berth-provisioner"' in info[0] and
              (not head or 'revision="%s' % head in info[0]), "build_info: %s" % info)
        check(after['workqueue_adds_total{name="berth-provisioner"}'] > 0 and
              after['workqueue_work_duration_seconds_count{name="berth-provisioner"}'] > 0 and
              any(k.startswith('rest_client_requests_total{code="201",method="POST"') for k in after)
              and after["process_resident_memory_bytes"] > 1e6 and after["process_open_fds"] > 3,
              "workqueue/rest_client/process values: %s" %
              {k: v for k, v in after.items() if k.startswith(("workqueue_", "process_"))})
        # EBS usage: said once, never counted.
        check(not any('backend="ebs",operation="usage"' in k for k in after),
              "EBS usage counted: %s" % [k for k in after if "usage" in k])
        lines = [ln for ln in leader.log_text().splitlines() if "usage not measured" in ln]
        check(len(lines) == 1 and "backend=ebs" in lines[0], "EBS usage lines: %s" % lines)
        # The archive line says where the directory went.
        api.request("DELETE", "/api/v1/namespaces/default/persistentvolumeclaims/big")
        line = poll(lambda: [ln for ln in leader.log_text().splitlines()
                             if "volume storage reclaimed" in ln and "archived_to=" in ln],
                    30, "the archive line")[0]
        where = re.search(r"archived_to=(\S+)", line).group(1)
        check(where.endswith("/archived-default-big-" + pv) and
              os.path.isdir(os.path.join(export_dir(), "archived-default-big-" + pv)),
              "archive line: %s" % line)
        log("archive line: " + line)
        rules_test(promtool, rules, before, after, st, pending_age, tmp)
        log("run: %.1f s" % (time.monotonic() - t0))
        for p in procs:
            p.stop()
            errs = p.sanitizer_errors()
            check(not errs, "%s: sanitizer reports:\n%s" % (p.name, "\n".join(errs[:10])))
        log("PASS")
        return 0
    except Exception as e:  # noqa: BLE001
        log("FAIL: %s: %s" % (type(e).__name__, e))
        for p in procs:
            log("%s log:\n%s" % (p.name, p.tail(30)))
        return 1
    finally:
        for p in procs:
            if p.alive():
                p.kill()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
