/* SPDX-License-Identifier: Apache-2.0 */
/* berth_prog: the --http-endpoint address, see include/berth/prog_http.h.
 * The forms are Go's net.Listen addresses ("[::1]:8080", ":8080"), which
 * the sig-storage provisioner's --http-endpoint takes, and a bare port. */
#include "berth/prog_http.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

/* host (numeric, or "" for every IPv4 address) and port into *ss. */
static berth_status_t fill_address(const char *host, long long port,
                                   struct sockaddr_storage *ss, socklen_t *len,
                                   berth_error_t *err)
{
  struct sockaddr_in *sin = (struct sockaddr_in *)ss;
  struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

  if (host[0] == '\0' || inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
    sin->sin_family = AF_INET;
    sin->sin_port = htons((uint16_t)port);
    if (host[0] == '\0')
      sin->sin_addr.s_addr = htonl(INADDR_ANY);
    *len = sizeof(*sin);
    return BERTH_OK;
  }
  if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons((uint16_t)port);
    *len = sizeof(*sin6);
    return BERTH_OK;
  }
  return berth_error_set(err, BERTH_EINVAL,
                         "--http-endpoint: '%s' is not a numeric address",
                         host);
}

berth_status_t berth_prog_endpoint_parse(const char *s,
                                         struct sockaddr_storage *ss,
                                         socklen_t *len, berth_error_t *err)
{
  const char *colon = strrchr(s, ':');
  const char *port = colon != NULL ? colon + 1 : s;
  char host[64] = "";
  long long p;

  memset(ss, 0, sizeof(*ss));
  if (berth_str_to_ll(port, 0, 65535, &p) != BERTH_OK)
    return berth_error_set(err, BERTH_EINVAL,
                           "--http-endpoint wants [HOST]:PORT, got '%s'", s);
  if (colon != NULL) {
    size_t hl = (size_t)(colon - s);

    /* "[::1]:80": the brackets are not part of the address. */
    if (hl >= 2 && s[0] == '[' && s[hl - 1] == ']') {
      s++;
      hl -= 2;
    }
    if (hl >= sizeof(host))
      return berth_error_set(err, BERTH_EINVAL, "--http-endpoint: bad host");
    memcpy(host, s, hl);
    host[hl] = '\0';
  }
  return fill_address(host, p, ss, len, err);
}
