/* SPDX-License-Identifier: Apache-2.0 */
/* http-get: fetch a URL with libberth's HTTP client and print the status
 * and the body.
 *
 *   http-get [--ca FILE] [--token-file FILE] [--timeout MS] URL
 *
 * For example, against the Kubernetes API from inside a pod:
 *
 *   http-get --ca /var/run/secrets/kubernetes.io/serviceaccount/ca.crt \
 *     --token-file /var/run/secrets/kubernetes.io/serviceaccount/token \
 *     https://kubernetes.default.svc/version
 *
 * The status line goes to standard error, the body to standard output.
 * Exit status: 0 for a 2xx answer, 1 for another answer or a failure, 2
 * for a usage error. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "berth/buf.h"
#include "berth/http.h"
#include "berth/version.h"

static void usage(FILE *out)
{
  fprintf(
      out,
      "Usage: http-get [OPTION]... URL\n"
      "Fetch URL with libberth's HTTP client; print the status to standard\n"
      "error and the body to standard output.\n"
      "\n"
      "Options:\n"
      "  --ca FILE          trust only the CA certificates in FILE (PEM)\n"
      "  --token-file FILE  send the token in FILE as a bearer token\n"
      "  --timeout MS       give up after MS milliseconds (default 30000)\n"
      "  -h, --help         show this help and exit\n"
      "  -V, --version      show the version and exit\n");
}

/* Read a token file into a new string with surrounding white space
 * removed, as kubelet-mounted token files may end in a newline. */
static berth_status_t read_token(const char *path, char **out)
{
  FILE *f = NULL;
  berth_buf_t buf;
  char chunk[1024];
  size_t n;
  berth_status_t st = BERTH_OK;

  berth_buf_init(&buf);
  berth_buf_set_limit(&buf, 64 * 1024);
  f = fopen(path, "rb");
  if (f == NULL) {
    st = BERTH_ENOTFOUND;
    goto done;
  }
  while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
    st = berth_buf_append(&buf, chunk, n);
    if (st != BERTH_OK)
      goto done;
  }
  if (ferror(f)) {
    st = BERTH_EIO;
    goto done;
  }
  *out = berth_buf_detach(&buf);
  if (*out == NULL)
    st = BERTH_ENOMEM;
  else
    berth_str_trim(*out);

done:
  berth_memzero(chunk, sizeof(chunk));
  if (buf.data != NULL)
    berth_memzero(buf.data, buf.len);
  berth_buf_cleanup(&buf);
  if (f != NULL)
    fclose(f);
  return st;
}

int main(int argc, char **argv)
{
  static const struct option longopts[] = {
      {"ca", required_argument, NULL, 'c'},
      {"token-file", required_argument, NULL, 't'},
      {"timeout", required_argument, NULL, 'T'},
      {"help", no_argument, NULL, 'h'},
      {"version", no_argument, NULL, 'V'},
      {NULL, 0, NULL, 0},
  };
  berth_http_options_t opts;
  berth_http_client_t *client = NULL;
  berth_http_request_t req = {0};
  berth_http_response_t resp;
  berth_error_t err;
  const char *token_file = NULL;
  char *token = NULL;
  long long timeout;
  berth_status_t st;
  int rc = 1;
  int c;

  berth_http_options_init(&opts);
  berth_http_response_init(&resp);
  while ((c = getopt_long(argc, argv, "hV", longopts, NULL)) != -1) {
    switch (c) {
    case 'c':
      opts.ca_file = optarg;
      break;
    case 't':
      token_file = optarg;
      break;
    case 'T':
      if (berth_str_to_ll(optarg, 1, 24LL * 3600 * 1000, &timeout) !=
          BERTH_OK) {
        fprintf(stderr, "http-get: invalid --timeout '%s'\n", optarg);
        rc = 2;
        goto done;
      }
      opts.timeout_ms = (long)timeout;
      break;
    case 'h':
      usage(stdout);
      rc = 0;
      goto done;
    case 'V':
      printf("http-get %s (commit %s)\n", BERTH_VERSION, berth_build_commit());
      rc = 0;
      goto done;
    default:
      usage(stderr);
      rc = 2;
      goto done;
    }
  }
  if (optind != argc - 1) {
    usage(stderr);
    rc = 2;
    goto done;
  }
  if (token_file != NULL) {
    st = read_token(token_file, &token);
    if (st != BERTH_OK) {
      fprintf(stderr, "http-get: cannot read token file %s: %s\n", token_file,
              berth_strerror(st));
      goto done;
    }
    opts.bearer_token = token;
  }

  st = berth_http_client_create(&opts, &client, &err);
  if (st != BERTH_OK) {
    fprintf(stderr, "http-get: %s\n", err.message);
    goto done;
  }
  req.url = argv[optind];
  st = berth_http_do(client, &req, &resp, &err);
  if (st != BERTH_OK) {
    fprintf(stderr, "http-get: %s (%s)\n", err.message, berth_strerror(st));
    goto done;
  }
  fprintf(stderr, "HTTP %ld%s%s\n", resp.status,
          resp.content_type != NULL ? " " : "",
          resp.content_type != NULL ? resp.content_type : "");
  fwrite(resp.body.data != NULL ? resp.body.data : "", 1, resp.body.len,
         stdout);
  if (fflush(stdout) != 0) {
    perror("http-get: standard output");
    goto done;
  }
  rc = berth_http_status_to_berth(resp.status) == BERTH_OK ? 0 : 1;

done:
  berth_http_response_cleanup(&resp);
  berth_http_client_destroy(client);
  if (token != NULL) {
    berth_memzero(token, strlen(token));
    free(token);
  }
  return rc;
}
