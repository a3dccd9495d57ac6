# SPDX-License-Identifier: Apache-2.0
"""berth's AWS emulator for tests: EC2 (Query, 2016-11-15), EFS (REST-JSON,
2015-02-01), STS (AssumeRoleWithWebIdentity, AssumeRole,
GetCallerIdentity), IMDSv2 and the container-credentials endpoint, on
127.0.0.1, each on a port picked at run time.

Every signed request is verified with botocore's own SigV4 implementation
(recompute and compare), so a test that passes proves that berth signs the
way the AWS SDKs do. See README.md for the admin API and fault switches.

Python 3 standard library plus Debian's python3-botocore only.
"""
