/* SPDX-License-Identifier: Apache-2.0 */
/* berth: AWS Signature Version 4, as a pure function.
 *
 * berth_sigv4_sign() takes one HTTP request (method, path, query, headers,
 * body or its hash), the signing region and service, credentials and a
 * time, and returns the canonical request, the string to sign, the
 * signature and what to add to the request: headers (Authorization,
 * X-Amz-Date, ...) or, for a presigned URL, query parameters. It does no
 * I/O, reads no clock and no environment, and holds no state, so that the
 * official test suite (aws-c-auth's tests/aws-signing-test-suite/v4) can
 * check it byte for byte. libcurl is not involved; SHA-256 and HMAC come
 * from OpenSSL, and the key material derived from the secret is wiped
 * before returning.
 *
 * The algorithm is the one in the AWS General Reference, "Create a signed
 * AWS API request" (Signature Version 4):
 *
 *   canonical request = method \n canonical path \n canonical query \n
 *                       canonical headers \n \n signed headers \n
 *                       payload hash
 *   string to sign    = "AWS4-HMAC-SHA256" \n amz-date \n scope \n
 *                       hex(SHA-256(canonical request))
 *   signing key       = HMAC chain "AWS4"+secret -> date -> region ->
 *                       service -> "aws4_request"
 *   signature         = hex(HMAC(signing key, string to sign))
 *
 * Rules applied (the ones the suite checks): the path is normalised
 * (dot segments removed, repeated slashes merged; a trailing slash kept)
 * unless no_normalize_path, then URI-encoded once more ("double
 * encoding", every service but S3) unless no_double_encode; query
 * parameters are percent-decoded, re-encoded with RFC 3986 unreserved
 * characters only and sorted by name, then value; header names are
 * lower-cased, values trimmed with inner runs of white space (including
 * folded lines) collapsed to one space, repeated headers joined with ","
 * in their order, and the list sorted by name. */
#ifndef BERTH_SIGV4_H
#define BERTH_SIGV4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "berth/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The hex SHA-256 of an empty payload. */
#define BERTH_SIGV4_EMPTY_SHA256                                               \
  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* The payload hash that says "not signed" (S3 and presigned URLs). */
#define BERTH_SIGV4_UNSIGNED_PAYLOAD "UNSIGNED-PAYLOAD"

/* The most headers berth_sigv4_sign() adds: X-Amz-Security-Token,
 * X-Amz-Date, x-amz-content-sha256, Authorization. */
#define BERTH_SIGV4_MAX_ADDED_HEADERS 4

/* A derived signing key (HMAC-SHA-256 output). */
#define BERTH_SIGV4_KEY_LEN 32

/* One request header. Both strings are borrowed. */
typedef struct berth_sigv4_header {
  const char *name;
  const char *value;
} berth_sigv4_header_t;

/* Credentials, borrowed for the duration of a call. */
typedef struct berth_sigv4_credentials {
  const char *access_key_id;
  const char *secret_access_key;
  const char *session_token; /* NULL or "" for none */
} berth_sigv4_credentials_t;

/* Where the signature goes. */
typedef enum berth_sigv4_mode {
  BERTH_SIGV4_HEADER = 0, /* an Authorization header (API calls) */
  BERTH_SIGV4_QUERY       /* X-Amz-* query parameters (presigned URLs) */
} berth_sigv4_mode_t;

/* The request to sign. Every pointer is borrowed for the call. */
typedef struct berth_sigv4_request {
  /* "GET", "POST", ... as sent. */
  const char *method;
  /* The path as it appears on the request line, without the query
   * ("/", "/2015-02-01/access-points"). NULL or "" means "/". */
  const char *path;
  /* The query string without the '?', as sent; NULL or "" for none. */
  const char *query;
  /* The headers that will be sent, in order. A Host header is required.
   * Headers named Authorization, X-Amz-Date, X-Amz-Security-Token and
   * X-Amz-Content-Sha256 are ignored (the signer supplies them), and so
   * are User-Agent, Expect and X-Amzn-Trace-Id, which the SDKs never sign
   * because proxies may change them. */
  const berth_sigv4_header_t *headers;
  size_t header_count;
  /* The body, body_len bytes (NULL for none), hashed unless payload_hash
   * is given. */
  const void *body;
  size_t body_len;
  /* The payload's hex SHA-256 when the caller has it already (a streamed
   * body), or BERTH_SIGV4_UNSIGNED_PAYLOAD; NULL to hash body. */
  const char *payload_hash;
} berth_sigv4_request_t;

/* How to sign. Zero-initialise and set region, service, credentials and
 * time_ms; the flags' zero values are what the SDKs do for EC2, EFS and
 * STS. */
typedef struct berth_sigv4_params {
  const char *region;  /* "us-east-1" */
  const char *service; /* the signing name: "ec2", "elasticfilesystem" */
  const berth_sigv4_credentials_t *credentials;
  /* The signing time, in ms since the Unix epoch (whole seconds are
   * used). Callers take it from a berth_clock_t. */
  int64_t time_ms;
  berth_sigv4_mode_t mode;
  /* Query mode: X-Amz-Expires in seconds (1..604800); 0 gives 3600. */
  int64_t expires_s;
  /* Sign the path as given, keeping "." and ".." segments and repeated
   * slashes (S3 object keys). */
  bool no_normalize_path;
  /* Do not URI-encode the path again: use it as given (S3). */
  bool no_double_encode;
  /* Use UNSIGNED-PAYLOAD as the payload hash (overrides payload_hash). */
  bool unsigned_payload;
  /* Header mode: add and sign an x-amz-content-sha256 header with the
   * payload hash (S3 requires it; aws-c-auth's "sign_body"). */
  bool content_sha256_header;
  /* Send the session token without signing it: it is added after the
   * signature is computed, so it is in neither the canonical request nor
   * SignedHeaders (some services, e.g. IoT, want it so). */
  bool omit_session_token;
  /* Optional: the signing key for exactly this secret, date (the first 8
   * characters of the amz-date), region and service, from
   * berth_sigv4_derive_key(), to save four HMACs per request. NULL to
   * derive it from the secret. */
  const unsigned char *signing_key;
} berth_sigv4_params_t;

/* A header to add to the request. name is static; value is owned by the
 * result. */
typedef struct berth_sigv4_added_header {
  const char *name;
  char *value;
} berth_sigv4_added_header_t;

/* What berth_sigv4_sign() produces. Owned strings are freed (and wiped)
 * by berth_sigv4_result_cleanup(). */
typedef struct berth_sigv4_result {
  char amz_date[17];       /* "20150830T123600Z" */
  char signature[65];      /* lower-case hex */
  char *canonical_request; /* owned */
  char *string_to_sign;    /* owned */
  char *credential_scope;  /* "20150830/us-east-1/service/aws4_request" */
  char *signed_headers;    /* "host;x-amz-date", owned */
  /* Header mode: the Authorization header's value (also the last entry
   * of headers); NULL in query mode. Borrowed from headers[]. */
  const char *authorization;
  /* Header mode: the headers to append to the request, in this order:
   * X-Amz-Security-Token (when there is a token), X-Amz-Date,
   * x-amz-content-sha256 (when asked), Authorization. Query mode: none. */
  berth_sigv4_added_header_t headers[BERTH_SIGV4_MAX_ADDED_HEADERS];
  size_t header_count;
  /* Query mode: the parameters to append to the request's query (after a
   * '&' when it has one), encoded, in this order: X-Amz-Algorithm,
   * X-Amz-Credential, X-Amz-Date, X-Amz-SignedHeaders, X-Amz-Expires,
   * X-Amz-Security-Token, X-Amz-Signature. NULL in header mode. Owned. */
  char *query;
} berth_sigv4_result_t;

/* Sign req with params into *out, which is zeroed first and filled only
 * on success (a failed call leaves it zeroed; cleaning it up is still
 * allowed). Fails with BERTH_EINVAL (missing Host header, region, service
 * or credentials, an empty header name, a time out of range), BERTH_ENOMEM,
 * or BERTH_EINTERNAL (OpenSSL failed). err (may be NULL)
 * gets a message that never contains the secret, the token or a
 * signature. */
berth_status_t berth_sigv4_sign(const berth_sigv4_request_t *req,
                                const berth_sigv4_params_t *params,
                                berth_sigv4_result_t *out, berth_error_t *err);

/* Free and wipe what a result owns, leaving it zeroed. Accepts NULL and a
 * zeroed result. */
void berth_sigv4_result_cleanup(berth_sigv4_result_t *res);

/* Derive the signing key for secret, date ("20150830"), region and
 * service into key. Wipe it with berth_memzero() when done. */
berth_status_t berth_sigv4_derive_key(const char *secret, const char *date,
                                      const char *region, const char *service,
                                      unsigned char key[BERTH_SIGV4_KEY_LEN]);

/* Format ms since the epoch as an amz-date ("20150830T123600Z") into out
 * (at least 17 bytes). Fails with BERTH_EINVAL for a time before 1970 or
 * after 9999. */
berth_status_t berth_sigv4_format_date(int64_t time_ms, char out[17]);

/* Parse an amz-date ("20150830T123600Z") into ms since the epoch. *out_ms
 * is set only on success; otherwise BERTH_EPARSE. */
berth_status_t berth_sigv4_parse_date(const char *amz_date, int64_t *out_ms);

/* Append len bytes of s to out URI-encoded as SigV4 wants: every byte but
 * A-Z a-z 0-9 - _ . ~ (and '/' when keep_slash) as %XX, upper-case hex.
 * out is a berth_buf_t (declared in berth/buf.h). */
struct berth_buf;
berth_status_t berth_sigv4_uri_encode(struct berth_buf *out, const char *s,
                                      size_t len, bool keep_slash);

/* Write the lower-case hex SHA-256 of len bytes at data into hex (65
 * bytes with the NUL). */
berth_status_t berth_sigv4_sha256_hex(const void *data, size_t len,
                                      char hex[65]);

#ifdef __cplusplus
}
#endif

#endif /* BERTH_SIGV4_H */
