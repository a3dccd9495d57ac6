#!/usr/bin/python3
"""The test API server's attach/detach controller
(tests/apiserver/attach_controller.py), through kubectl: an EBS claim
provisioned by berth-provisioner, a pod using it on a node -> a
VolumeAttachment (attacher ebs.csi.aws.com, that node, that PV) with
kube's name; a second pod on the same node -> still one; the pods gone ->
the VolumeAttachment deleted; an nfs PV never gets one.

    test_provisioner_ebs_attach.py BERTH-PROVISIONER (under bed.py run k8s nfs aws)
"""

import hashlib
import sys

from test_provisioner_ebs_lib import (DRIVER, ebs_class, ebs_provisioner, node,
                                      pod)
from test_provisioner_lib import (API, check, claim, create, kubectl, log,
                                  poll, run, wait_bound)


def vas(api):
    return api.get("/apis/storage.k8s.io/v1/volumeattachments")["items"]


def main(binary, procs):
    api = API()
    create(node("node-a", "us-east-1a", "i-0aaaaaaaaaaaaaaa1"),
           ebs_class("gp3", {"type": "gp3"}, binding="WaitForFirstConsumer"))
    p = ebs_provisioner(binary)
    procs.append(p)
    p.start()
    create(claim("data", "gp3", modes=("ReadWriteOnce",)))
    create(pod("one", "node-a", "data"))
    wait_bound(api, ["data"], 30)
    pv = api.claim("data")["spec"]["volumeName"]
    want = "csi-" + hashlib.sha256((pv + DRIVER + "node-a").encode()).hexdigest()
    va = poll(lambda: [v for v in vas(api) if v["metadata"]["name"] == want], 20,
              "VolumeAttachment %s" % want)[0]
    check(va["spec"] == {"attacher": DRIVER, "nodeName": "node-a",
                         "source": {"persistentVolumeName": pv}}, "spec %s" % va["spec"])
    log("pod on node-a: VolumeAttachment %s" % want)
    create(pod("two", "node-a", "data"))
    kubectl("delete", "pod", "one", "--wait=false")
    poll(lambda: not [x for x in api.get("/api/v1/namespaces/default/pods")["items"]
                      if x["metadata"]["name"] == "one"], 20, "pod one gone")
    check(len(vas(api)) == 1, "one VolumeAttachment while pod two uses it: %s" % vas(api))
    kubectl("delete", "pod", "two", "--wait=false")
    poll(lambda: not vas(api), 20, "the VolumeAttachment deleted")
    log("pods gone: VolumeAttachment deleted")


if __name__ == "__main__":
    sys.exit(run(main))
