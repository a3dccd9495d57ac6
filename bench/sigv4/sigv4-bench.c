/* SPDX-License-Identifier: Apache-2.0 */
/* bench/sigv4: SigV4 signatures per second on one thread, for a typical
 * EC2 request (POST /, form body, Host and Content-Type signed, temporary
 * credentials with a session token).
 *
 *   sigv4-bench [SECONDS]
 *
 * Prints key=value lines: signatures per second deriving the signing key
 * every time (what a stateless caller pays), and with the key derived
 * once per day/region/service (what berth_aws_send() does: it caches it).
 * Each signature is checked against the first one computed at the same
 * time, so the compiler cannot drop the work. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "berth/buf.h"
#include "berth/sigv4.h"

static double now_s(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char body[] =
    "Action=DescribeVolumes&Version=2016-11-15&Filter.1.Name=tag%"
    "3ACSIVolumeName"
    "&Filter.1.Value.1=pvc-0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
    "&Filter.2.Name=availability-zone&Filter.2.Value.1=us-east-1a"
    "&MaxResults=500";

static double run(double seconds, bool cached_key)
{
  const berth_sigv4_header_t headers[] = {
      {"Host", "ec2.us-east-1.amazonaws.com"},
      {"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"},
  };
  berth_sigv4_credentials_t cred = {
      "ASIAEXAMPLEEXAMPLE00", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
      "FwoGZXIvYXdzEBYaDExampleSessionTokenThatIsQuiteLongAsTheyAre"
      "IQoJb3JpZ2luX2VjEXAMPLEEXAMPLEEXAMPLEEXAMPLEEXAMPLEEXAMPLE=="};
  berth_sigv4_request_t req;
  berth_sigv4_params_t p;
  berth_sigv4_result_t res;
  unsigned char key[BERTH_SIGV4_KEY_LEN];
  char first[65] = "";
  double start, elapsed;
  long n = 0;

  memset(&req, 0, sizeof(req));
  req.method = "POST";
  req.path = "/";
  req.headers = headers;
  req.header_count = 2;
  req.body = body;
  req.body_len = strlen(body);
  memset(&p, 0, sizeof(p));
  p.region = "us-east-1";
  p.service = "ec2";
  p.credentials = &cred;
  p.time_ms = 1440938160000LL;
  if (cached_key) {
    if (berth_sigv4_derive_key(cred.secret_access_key, "20150830", "us-east-1",
                               "ec2", key) != BERTH_OK)
      return -1;
    p.signing_key = key;
  }
  start = now_s();
  do {
    int i;
    for (i = 0; i < 256; i++) {
      if (berth_sigv4_sign(&req, &p, &res, NULL) != BERTH_OK)
        return -1;
      if (first[0] == '\0')
        memcpy(first, res.signature, sizeof(first));
      else if (strcmp(first, res.signature) != 0)
        return -1;
      berth_sigv4_result_cleanup(&res);
      n++;
    }
    elapsed = now_s() - start;
  } while (elapsed < seconds);
  berth_memzero(key, sizeof(key));
  return (double)n / elapsed;
}

int main(int argc, char **argv)
{
  double seconds = argc > 1 ? atof(argv[1]) : 2.0;
  double full, cached;

  if (seconds <= 0)
    seconds = 2.0;
  full = run(seconds, false);
  cached = run(seconds, true);
  if (full < 0 || cached < 0) {
    fprintf(stderr, "sigv4-bench: signing failed\n");
    return 1;
  }
  printf("berth_signatures_per_s=%.0f\n", full);
  printf("berth_cached_key_signatures_per_s=%.0f\n", cached);
  return 0;
}
