/* SPDX-License-Identifier: Apache-2.0 */
/* sigv4-sign: read a raw HTTP request on standard input and print it
 * signed with AWS Signature Version 4 (include/berth/sigv4.h).
 *
 *   printf 'GET / HTTP/1.1\nHost:example.amazonaws.com\n' |
 *     sigv4-sign --region us-east-1 --service service \
 *       --access-key AKIDEXAMPLE --secret-key-file key.txt \
 *       --time 20150830T123600Z
 *
 * The input is a request line ("METHOD TARGET HTTP/1.1"; the target may
 * contain spaces), header lines ("Name:value"; a line that starts with
 * white space continues the previous header), then an optional blank line
 * and the body. Lines may end in LF or CRLF. The output is the same
 * request with the signing headers (X-Amz-Security-Token, X-Amz-Date,
 * x-amz-content-sha256, Authorization) appended to the headers, or with
 * the X-Amz-* parameters appended to the target for --presign, then a
 * blank line and the body; header lines are written back exactly as read.
 *
 * Secrets: prefer --secret-key-file and --session-token-file, or the
 * environment (AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), since command
 * lines are visible to other users of the machine. Exit status: 0 when
 * signed, 1 for a bad request or a signing failure, 2 for a usage error. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "berth/buf.h"
#include "berth/sigv4.h"
#include "berth/version.h"

#define MAX_HEADERS 256
#define MAX_INPUT (64 * 1024 * 1024)

static void usage(FILE *out)
{
  fprintf(
      out,
      "Usage: sigv4-sign [OPTION]... < REQUEST\n"
      "Read a raw HTTP request on standard input and print it signed with AWS\n"
      "Signature Version 4.\n"
      "\n"
      "Options:\n"
      "  --region REGION          signing region, e.g. us-east-1 (default:\n"
      "                           $AWS_REGION, then $AWS_DEFAULT_REGION)\n"
      "  --service NAME           signing name of the service, e.g. ec2,\n"
      "                           elasticfilesystem, sts (required)\n"
      "  --access-key ID          access key id (default: $AWS_ACCESS_KEY_ID)\n"
      "  --secret-key KEY         secret access key (default:\n"
      "                           $AWS_SECRET_ACCESS_KEY); visible in ps(1),\n"
      "                           prefer --secret-key-file\n"
      "  --secret-key-file FILE   read the secret access key from FILE\n"
      "  --session-token TOKEN    session token of temporary credentials\n"
      "                           (default: $AWS_SESSION_TOKEN)\n"
      "  --session-token-file FILE  read the session token from FILE\n"
      "  --time YYYYMMDDTHHMMSSZ  sign as of this UTC time (default: now)\n"
      "  --no-normalize-path      sign the path as given, keeping . and ..\n"
      "                           segments and repeated slashes (S3)\n"
      "  --no-double-encode       do not URI-encode the path again (S3)\n"
      "  --unsigned-payload       use UNSIGNED-PAYLOAD as the payload hash\n"
      "  --content-sha256         add and sign x-amz-content-sha256 with the\n"
      "                           payload hash (S3; the suite's sign_body)\n"
      "  --omit-session-token     add X-Amz-Security-Token after signing, so\n"
      "                           that it is not signed\n"
      "  --presign                sign with query parameters (a presigned\n"
      "                           URL) instead of an Authorization header\n"
      "  --expires SECONDS        X-Amz-Expires for --presign (default 3600)\n"
      "  --print WHAT             print WHAT instead of the signed request:\n"
      "                           canonical-request, string-to-sign,\n"
      "                           signature or authorization\n"
      "  -h, --help               show this help and exit\n"
      "  -V, --version            show the version and exit\n");
}

/* Read all of f into buf. */
static int read_all(FILE *f, berth_buf_t *buf)
{
  char chunk[65536];
  size_t n;

  berth_buf_set_limit(buf, MAX_INPUT);
  while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
    if (berth_buf_append(buf, chunk, n) != BERTH_OK)
      return -1;
  return ferror(f) ? -1 : 0;
}

/* Read a secret from a file, trailing white space removed; NULL on
 * failure. */
static char *read_secret(const char *path)
{
  FILE *f = fopen(path, "rb");
  berth_buf_t buf;
  char *s;

  if (f == NULL) {
    fprintf(stderr, "sigv4-sign: %s: %s\n", path, strerror(errno));
    return NULL;
  }
  berth_buf_init(&buf);
  if (read_all(f, &buf) != 0) {
    fprintf(stderr, "sigv4-sign: %s: read error\n", path);
    fclose(f);
    if (buf.data != NULL)
      berth_memzero(buf.data, buf.len);
    berth_buf_cleanup(&buf);
    return NULL;
  }
  fclose(f);
  s = berth_buf_detach(&buf);
  if (s != NULL)
    berth_str_trim(s);
  return s;
}

static void free_secret(char *s)
{
  if (s != NULL) {
    berth_memzero(s, strlen(s));
    free(s);
  }
}

typedef struct request {
  char *method;
  char *target;
  char *version;
  char *lines[MAX_HEADERS]; /* raw header lines, folds included; owned */
  size_t count;
  berth_sigv4_header_t headers[MAX_HEADERS];
  char *names[MAX_HEADERS];
  const char *body;
  size_t body_len;
  const char *eol; /* "\n" or "\r\n", as the input used */
} request_t;

/* Parse text (len bytes, NUL-terminated, modified in place). */
static int parse_request(char *text, size_t len, request_t *r)
{
  char *p = text;
  char *end = text + len;
  char *nl, *sp1, *sp2;
  size_t i;

  memset(r, 0, sizeof(*r));
  r->eol = "\n";
  nl = memchr(p, '\n', len);
  if (nl == NULL) {
    fprintf(stderr, "sigv4-sign: no request line\n");
    return -1;
  }
  if (nl > p && nl[-1] == '\r') {
    r->eol = "\r\n";
    nl[-1] = '\0';
  }
  *nl = '\0';
  sp1 = strchr(p, ' ');
  sp2 = strrchr(p, ' ');
  if (sp1 == NULL || sp1 == sp2) {
    fprintf(stderr, "sigv4-sign: the request line must be "
                    "\"METHOD TARGET HTTP/x.y\"\n");
    return -1;
  }
  *sp1 = '\0';
  *sp2 = '\0';
  r->method = p;
  r->target = sp1 + 1;
  r->version = sp2 + 1;
  p = nl + 1;
  while (p < end && *p != '\n' &&
         !(*p == '\r' && p + 1 < end && p[1] == '\n')) {
    char *e = memchr(p, '\n', (size_t)(end - p));
    char *stop = e != NULL ? e : end;

    if (stop > p && stop[-1] == '\r')
      stop[-1] = '\0';
    *stop = '\0';
    if ((*p == ' ' || *p == '\t') && r->count > 0) {
      /* A folded line: join it to the previous header with LF, which
       * the signer treats as white space and which is written back as
       * the input's line end. */
      char *joined = berth_strdup_printf("%s\n%s", r->lines[r->count - 1], p);
      if (joined == NULL)
        return -1;
      free(r->lines[r->count - 1]);
      r->lines[r->count - 1] = joined;
    } else {
      if (r->count == MAX_HEADERS) {
        fprintf(stderr, "sigv4-sign: more than %d headers\n", MAX_HEADERS);
        return -1;
      }
      if (strchr(p, ':') == NULL) {
        fprintf(stderr, "sigv4-sign: header line without ':'\n");
        return -1;
      }
      r->lines[r->count] = strdup(p);
      if (r->lines[r->count] == NULL)
        return -1;
      r->count++;
    }
    p = e != NULL ? e + 1 : end;
  }
  if (p < end) {
    p += (*p == '\r') ? 2 : 1;
    r->body = p;
    r->body_len = (size_t)(end - p);
  }
  for (i = 0; i < r->count; i++) {
    char *colon;

    r->names[i] = strdup(r->lines[i]);
    if (r->names[i] == NULL)
      return -1;
    colon = strchr(r->names[i], ':');
    *colon = '\0';
    r->headers[i].name = r->names[i];
    r->headers[i].value = colon + 1;
  }
  return 0;
}

/* Write a header line, folds with the input's line end. */
static void print_line(const char *line, const char *eol)
{
  const char *p;

  for (p = line; *p != '\0'; p++) {
    if (*p == '\n')
      fputs(eol, stdout);
    else
      putchar(*p);
  }
  fputs(eol, stdout);
}

enum {
  OPT_REGION = 256,
  OPT_SERVICE,
  OPT_ACCESS_KEY,
  OPT_SECRET_KEY,
  OPT_SECRET_KEY_FILE,
  OPT_TOKEN,
  OPT_TOKEN_FILE,
  OPT_TIME,
  OPT_NO_NORMALIZE,
  OPT_NO_DOUBLE,
  OPT_UNSIGNED,
  OPT_SHA256,
  OPT_OMIT,
  OPT_PRESIGN,
  OPT_EXPIRES,
  OPT_PRINT
};

int main(int argc, char **argv)
{
  static const struct option longopts[] = {
      {"region", required_argument, NULL, OPT_REGION},
      {"service", required_argument, NULL, OPT_SERVICE},
      {"access-key", required_argument, NULL, OPT_ACCESS_KEY},
      {"secret-key", required_argument, NULL, OPT_SECRET_KEY},
      {"secret-key-file", required_argument, NULL, OPT_SECRET_KEY_FILE},
      {"session-token", required_argument, NULL, OPT_TOKEN},
      {"session-token-file", required_argument, NULL, OPT_TOKEN_FILE},
      {"time", required_argument, NULL, OPT_TIME},
      {"no-normalize-path", no_argument, NULL, OPT_NO_NORMALIZE},
      {"no-double-encode", no_argument, NULL, OPT_NO_DOUBLE},
      {"unsigned-payload", no_argument, NULL, OPT_UNSIGNED},
      {"content-sha256", no_argument, NULL, OPT_SHA256},
      {"omit-session-token", no_argument, NULL, OPT_OMIT},
      {"presign", no_argument, NULL, OPT_PRESIGN},
      {"expires", required_argument, NULL, OPT_EXPIRES},
      {"print", required_argument, NULL, OPT_PRINT},
      {"help", no_argument, NULL, 'h'},
      {"version", no_argument, NULL, 'V'},
      {NULL, 0, NULL, 0}};
  berth_sigv4_params_t params;
  berth_sigv4_credentials_t cred;
  berth_sigv4_request_t sreq;
  berth_sigv4_result_t res;
  berth_error_t err;
  berth_buf_t input;
  request_t req;
  char *secret = NULL;
  char *token = NULL;
  char *path = NULL;
  const char *print = NULL;
  const char *time_arg = NULL;
  const char *query;
  long long expires;
  int c;
  int rc = 1;
  size_t i;

  memset(&params, 0, sizeof(params));
  memset(&cred, 0, sizeof(cred));
  memset(&res, 0, sizeof(res));
  memset(&req, 0, sizeof(req));
  berth_buf_init(&input);
  params.region = getenv("AWS_REGION");
  if (params.region == NULL || *params.region == '\0')
    params.region = getenv("AWS_DEFAULT_REGION");
  cred.access_key_id = getenv("AWS_ACCESS_KEY_ID");
  if (getenv("AWS_SECRET_ACCESS_KEY") != NULL)
    secret = strdup(getenv("AWS_SECRET_ACCESS_KEY"));
  if (getenv("AWS_SESSION_TOKEN") != NULL &&
      *getenv("AWS_SESSION_TOKEN") != '\0')
    token = strdup(getenv("AWS_SESSION_TOKEN"));

  while ((c = getopt_long(argc, argv, "hV", longopts, NULL)) != -1) {
    switch (c) {
    case OPT_REGION:
      params.region = optarg;
      break;
    case OPT_SERVICE:
      params.service = optarg;
      break;
    case OPT_ACCESS_KEY:
      cred.access_key_id = optarg;
      break;
    case OPT_SECRET_KEY:
      free_secret(secret);
      secret = strdup(optarg);
      break;
    case OPT_SECRET_KEY_FILE:
      free_secret(secret);
      secret = read_secret(optarg);
      if (secret == NULL)
        goto done;
      break;
    case OPT_TOKEN:
      free_secret(token);
      token = strdup(optarg);
      break;
    case OPT_TOKEN_FILE:
      free_secret(token);
      token = read_secret(optarg);
      if (token == NULL)
        goto done;
      break;
    case OPT_TIME:
      time_arg = optarg;
      break;
    case OPT_NO_NORMALIZE:
      params.no_normalize_path = true;
      break;
    case OPT_NO_DOUBLE:
      params.no_double_encode = true;
      break;
    case OPT_UNSIGNED:
      params.unsigned_payload = true;
      break;
    case OPT_SHA256:
      params.content_sha256_header = true;
      break;
    case OPT_OMIT:
      params.omit_session_token = true;
      break;
    case OPT_PRESIGN:
      params.mode = BERTH_SIGV4_QUERY;
      break;
    case OPT_EXPIRES:
      if (berth_str_to_ll(optarg, 1, 604800, &expires) != BERTH_OK) {
        fprintf(stderr, "sigv4-sign: --expires wants 1..604800 seconds\n");
        rc = 2;
        goto done;
      }
      params.expires_s = expires;
      break;
    case OPT_PRINT:
      print = optarg;
      break;
    case 'h':
      usage(stdout);
      rc = 0;
      goto done;
    case 'V':
      printf("sigv4-sign (berth) %s (commit %s)\n", BERTH_VERSION,
             berth_build_commit());
      rc = 0;
      goto done;
    default:
      usage(stderr);
      rc = 2;
      goto done;
    }
  }
  if (optind != argc || params.service == NULL || params.region == NULL ||
      cred.access_key_id == NULL || secret == NULL) {
    fprintf(stderr, "sigv4-sign: --service, --region, --access-key and a "
                    "secret key are required\n");
    usage(stderr);
    rc = 2;
    goto done;
  }
  if (print != NULL && strcmp(print, "canonical-request") != 0 &&
      strcmp(print, "string-to-sign") != 0 && strcmp(print, "signature") != 0 &&
      strcmp(print, "authorization") != 0) {
    fprintf(stderr, "sigv4-sign: unknown --print %s\n", print);
    rc = 2;
    goto done;
  }
  if (time_arg != NULL) {
    if (berth_sigv4_parse_date(time_arg, &params.time_ms) != BERTH_OK) {
      fprintf(stderr, "sigv4-sign: --time wants YYYYMMDDTHHMMSSZ\n");
      rc = 2;
      goto done;
    }
  } else {
    params.time_ms = (int64_t)time(NULL) * 1000;
  }
  cred.secret_access_key = secret;
  cred.session_token = token;
  params.credentials = &cred;

  if (read_all(stdin, &input) != 0 || input.len == 0) {
    fprintf(stderr, "sigv4-sign: cannot read a request on standard "
                    "input\n");
    goto done;
  }
  if (parse_request(input.data, input.len, &req) != 0)
    goto done;
  path = strdup(req.target);
  if (path == NULL)
    goto done;
  query = strchr(req.target, '?');
  if (query != NULL)
    path[query - req.target] = '\0';
  memset(&sreq, 0, sizeof(sreq));
  sreq.method = req.method;
  sreq.path = path;
  sreq.query = query != NULL ? query + 1 : NULL;
  sreq.headers = req.headers;
  sreq.header_count = req.count;
  sreq.body = req.body;
  sreq.body_len = req.body_len;
  berth_error_clear(&err);
  if (berth_sigv4_sign(&sreq, &params, &res, &err) != BERTH_OK) {
    fprintf(stderr, "sigv4-sign: %s\n", err.message);
    goto done;
  }

  if (print != NULL) {
    if (strcmp(print, "canonical-request") == 0)
      fputs(res.canonical_request, stdout);
    else if (strcmp(print, "string-to-sign") == 0)
      fputs(res.string_to_sign, stdout);
    else if (strcmp(print, "signature") == 0)
      fputs(res.signature, stdout);
    else
      fputs(res.authorization != NULL ? res.authorization : "", stdout);
    putchar('\n');
  } else {
    if (params.mode == BERTH_SIGV4_QUERY)
      printf("%s %s%c%s %s%s", req.method, req.target,
             query != NULL ? '&' : '?', res.query, req.version, req.eol);
    else
      printf("%s %s %s%s", req.method, req.target, req.version, req.eol);
    for (i = 0; i < req.count; i++)
      print_line(req.lines[i], req.eol);
    for (i = 0; i < res.header_count; i++)
      printf("%s:%s%s", res.headers[i].name, res.headers[i].value, req.eol);
    fputs(req.eol, stdout);
    if (req.body != NULL)
      fwrite(req.body, 1, req.body_len, stdout);
  }
  if (fflush(stdout) != 0)
    goto done;
  rc = 0;

done:
  for (i = 0; i < req.count; i++) {
    free(req.names[i]);
    free(req.lines[i]);
  }
  free(path);
  berth_sigv4_result_cleanup(&res);
  free_secret(secret);
  free_secret(token);
  if (input.data != NULL)
    berth_memzero(input.data, input.len);
  berth_buf_cleanup(&input);
  return rc;
}
