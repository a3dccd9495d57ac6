#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""bench/sigv4: botocore's SigV4 signatures per second on one thread, for
the same request as sigv4-bench.c (POST / to EC2 with a form body, a
session token). Each iteration calls SigV4Auth.add_auth() on the request
after removing the headers the previous one added, as botocore's own
retries do. Prints key=value lines.

    botocore_bench.py [SECONDS]
"""

import sys
import time

import botocore
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

BODY = (b"Action=DescribeVolumes&Version=2016-11-15&Filter.1.Name=tag%3A"
        b"CSIVolumeName&Filter.1.Value.1=pvc-0f1e2d3c-4b5a-6978-8796-"
        b"a5b4c3d2e1f0&Filter.2.Name=availability-zone&Filter.2.Value.1="
        b"us-east-1a&MaxResults=500")


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 2.0
    creds = Credentials(
        "ASIAEXAMPLEEXAMPLE00", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        "FwoGZXIvYXdzEBYaDExampleSessionTokenThatIsQuiteLongAsTheyAre"
        "IQoJb3JpZ2luX2VjEXAMPLEEXAMPLEEXAMPLEEXAMPLEEXAMPLEEXAMPLE==")
    auth = SigV4Auth(creds, "ec2", "us-east-1")
    req = AWSRequest(method="POST", url="https://ec2.us-east-1.amazonaws.com/",
                     data=BODY, headers={
                         "Content-Type": "application/x-www-form-urlencoded; "
                                         "charset=utf-8"})
    n = 0
    start = time.perf_counter()
    while True:
        for _ in range(64):
            for h in ("Authorization", "X-Amz-Date", "X-Amz-Security-Token"):
                if h in req.headers:
                    del req.headers[h]
            auth.add_auth(req)
            n += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            break
    print("botocore_version=%s" % botocore.__version__)
    print("botocore_signatures_per_s=%.0f" % (n / elapsed))


if __name__ == "__main__":
    main()
