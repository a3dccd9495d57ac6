#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""The real attach/detach controller (kube-controller-manager), through
kubectl: an EBS claim provisioned by berth-provisioner, a pod using it
that the real scheduler places on a node -> a VolumeAttachment (attacher
ebs.csi.aws.com, that node, that PV) with kube's name
(csi-sha256(volumeHandle + driver + node)), which berth-provisioner's
attacher attaches (status.attached, devicePath, the disk in-use on the
node's instance in the emulator), and the controller then lists in the
node's status.volumesAttached; a second pod on the same node -> still one;
the pods gone -> detached (the disk available again), the
VolumeAttachment deleted and the node's volumesAttached empty.

    test_provisioner_ebs_attach.py BERTH-PROVISIONER (under bed.py run k8s nfs aws)
"""

import hashlib
import sys

from test_provisioner_ebs_lib import (DRIVER, aws_admin, check_disks, ebs_class,
                                      ebs_provisioner, node, pod, volumes)
from test_provisioner_lib import (API, check, claim, create, delete_pods, log,
                                  poll, run, wait_bound)


def vas(api):
    return api.get("/apis/storage.k8s.io/v1/volumeattachments")["items"]


def node_attached(api, name):
    st = api.get("/api/v1/nodes/" + name).get("status", {})
    return [v["name"] for v in st.get("volumesAttached") or []]


def main(binary, procs):
    api = API()
    # The node's EC2 instance, for the attacher's DescribeInstances.
    aws_admin("POST", "/instances", {"instance_id": "i-0aaaaaaaaaaaaaaa1",
                                     "zone": "us-east-1a"})
    node("node-a", "us-east-1a", "i-0aaaaaaaaaaaaaaa1")
    create(ebs_class("gp3", {"type": "gp3"}, binding="WaitForFirstConsumer"))
    p = ebs_provisioner(binary)
    procs.append(p)
    p.start()
    create(claim("data", "gp3", modes=("ReadWriteOnce",)))
    create(pod("one", "node-a", "data"))
    wait_bound(api, ["data"], 30)
    check(check_disks(api) == 1, "the class's parameters on the disk")
    pv = api.claim("data")["spec"]["volumeName"]
    handle = api.pv(pv)["spec"]["csi"]["volumeHandle"]
    want = "csi-" + hashlib.sha256((handle + DRIVER + "node-a").encode()).hexdigest()
    va = poll(lambda: [v for v in vas(api) if v["metadata"]["name"] == want], 20,
              "VolumeAttachment %s" % want)[0]
    check(va["spec"] == {"attacher": DRIVER, "nodeName": "node-a",
                         "source": {"persistentVolumeName": pv}}, "spec %s" % va["spec"])
    log("pod on node-a: VolumeAttachment %s" % want)

    def attached():
        v = [x for x in vas(api) if x["metadata"]["name"] == want]
        st = (v[0].get("status") or {}) if v else {}
        return v[0] if st.get("attached") else None
    va = poll(attached, 30, "status.attached on %s" % want)
    dev = va["status"].get("attachmentMetadata", {}).get("devicePath", "")
    check(dev.startswith("/dev/xvd"), "devicePath %r" % dev)
    vol_id = api.get("/api/v1/persistentvolumes/" + pv)["spec"]["csi"]["volumeHandle"]
    disk = [v for v in volumes() if v["VolumeId"] == vol_id][0]
    check(disk["State"] == "in-use" and
          [a["InstanceId"] for a in disk["Attachments"]] == ["i-0aaaaaaaaaaaaaaa1"],
          "disk %s: %s %s" % (vol_id, disk["State"], disk["Attachments"]))
    log("attached by berth-provisioner: %s at %s on i-0aaaaaaaaaaaaaaa1" % (vol_id, dev))
    unique = "kubernetes.io/csi/%s^%s" % (DRIVER, vol_id)
    poll(lambda: unique in node_attached(api, "node-a"), 30,
         "%s in node-a's status.volumesAttached" % unique)
    log("the attach/detach controller marked node-a's volumesAttached: %s" % unique)
    create(pod("two", "node-a", "data"))
    delete_pods("one")
    poll(lambda: not [x for x in api.get("/api/v1/namespaces/default/pods")["items"]
                      if x["metadata"]["name"] == "one"], 20, "pod one gone")
    check(len(vas(api)) == 1, "one VolumeAttachment while pod two uses it: %s" % vas(api))
    delete_pods("two")
    poll(lambda: not vas(api), 30, "the VolumeAttachment deleted")
    disk = poll(lambda: [v for v in volumes() if v["VolumeId"] == vol_id and
                         v["State"] == "available"], 30, "disk detached")[0]
    check(not disk["Attachments"], "attachments left: %s" % disk["Attachments"])
    poll(lambda: unique not in node_attached(api, "node-a"), 30,
         "%s gone from node-a's volumesAttached" % unique)
    log("pods gone: detached, VolumeAttachment deleted")


if __name__ == "__main__":
    sys.exit(run(main))
