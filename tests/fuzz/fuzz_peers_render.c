/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: berth-peers' renderers (peer-discovery/render.c) with
 * hostile peer names. The input is lines: a --render argument, then one
 * peer per line ("name [address...]"), added as the resolver would
 * (peers_set_add checks names; most hostile ones are refused there). Every
 * kind renders the set. Invariants: no output holds a control byte other
 * than newline (no line a name could inject), the json kind and mongo's
 * document parse as JSON, the lines kind has one line per member. */
#include <string.h>

#include <jansson.h>

#include "berth/buf.h"
#include "fuzz.h"
#include <arpa/inet.h>
#include <stdbool.h>

#include "identity.h"
#include "members.h"
#include "render.h"

static bool addr_text(const char *s)
{
  unsigned char a[16];

  return inet_pton(AF_INET, s, a) == 1 || inet_pton(AF_INET6, s, a) == 1;
}

static void check_text(const char *kind, const berth_buf_t *b)
{
  size_t i;

  for (i = 0; i < b->len; i++) {
    unsigned char c = (unsigned char)b->data[i];

    FUZZ_CHECK(c == '\n' || (c >= 0x20 && c != 0x7f),
               "%s output has byte 0x%02x:\n%s", kind, c, b->data);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char *text = fuzz_strndup(data, size);
  char *spec_arg;
  char *p;
  peers_set_t set;
  peers_identity_t self;
  peers_view_t view;
  peers_render_spec_t spec;
  berth_error_t err;
  int kind;

  fuzz_quiet_logs();
  if (text == NULL)
    return 0;
  spec_arg = text;
  p = strchr(text, '\n');
  if (p != NULL)
    *p++ = '\0';
  peers_set_init(&set);
  while (p != NULL && *p != '\0') {
    char *nl = strchr(p, '\n');
    char *sp;
    peers_member_t *m = NULL;

    if (nl != NULL)
      *nl = '\0';
    sp = strchr(p, ' ');
    if (sp != NULL)
      *sp++ = '\0';
    if (peers_set_add(&set, p, 2888, &m, NULL) == BERTH_OK && m != NULL) {
      while (sp != NULL && *sp != '\0') {
        char *next = strchr(sp, ' ');

        if (next != NULL)
          *next++ = '\0';
        /* Addresses come from c-ares as canonical text; names are what
         * a hostile DNS answer controls. */
        if (addr_text(sp))
          peers_member_add_addr(m, sp);
        sp = next;
      }
    }
    p = nl != NULL ? nl + 1 : NULL;
  }
  peers_set_sort(&set);
  memset(&self, 0, sizeof(self));
  self.host = "web-1";
  self.base = "web";
  self.ordinal = 1;
  self.service = "web";
  self.ns = "default";
  self.domain = "cluster.local";
  self.service_fqdn = "web.default.svc.cluster.local";
  self.fqdn = "web-1.web.default.svc.cluster.local";
  view.self = &self;
  view.peers = &set;
  view.first = (size & 1) != 0;
  view.addresses = (size & 2) != 0;
  view.family = (size & 4) != 0 ? ((size & 8) != 0 ? "IPv6" : "IPv4") : NULL;

  /* The fuzzed spec, then every kind with defaults. */
  if (peers_render_spec_parse(spec_arg, &spec, &err) == BERTH_OK) {
    berth_buf_t out;
    berth_buf_t extra;

    berth_buf_init(&out);
    berth_buf_init(&extra);
    if (peers_render(&spec, &view, &out, &extra, &err) == BERTH_OK) {
      check_text(peers_render_kind_name(spec.kind), &out);
      check_text("myid", &extra);
    }
    berth_buf_cleanup(&out);
    berth_buf_cleanup(&extra);
    peers_render_spec_cleanup(&spec);
  }
  for (kind = PEERS_RENDER_ZOOKEEPER; kind <= PEERS_RENDER_LINES; kind++) {
    char arg[64];
    berth_buf_t out;
    berth_buf_t extra;

    snprintf(arg, sizeof(arg), "%s:/tmp/x",
             peers_render_kind_name((peers_render_kind_t)kind));
    if (peers_render_spec_parse(arg, &spec, &err) != BERTH_OK)
      continue;
    berth_buf_init(&out);
    berth_buf_init(&extra);
    if (peers_render(&spec, &view, &out, &extra, &err) == BERTH_OK) {
      check_text(arg, &out);
      check_text("myid", &extra);
      if (kind == PEERS_RENDER_JSON || kind == PEERS_RENDER_MONGO) {
        json_t *j =
            json_loadb(out.data != NULL ? out.data : "", out.len, 0, NULL);

        FUZZ_CHECK(j != NULL, "%s output is not JSON:\n%s", arg,
                   out.data != NULL ? out.data : "");
        json_decref(j);
      }
      if (kind == PEERS_RENDER_LINES && !view.addresses) {
        size_t lines = 0;
        size_t i;

        for (i = 0; i < out.len; i++)
          lines += out.data[i] == '\n';
        FUZZ_CHECK(lines == set.count, "%zu lines for %zu members", lines,
                   set.count);
      }
    }
    berth_buf_cleanup(&out);
    berth_buf_cleanup(&extra);
    peers_render_spec_cleanup(&spec);
  }
  peers_set_cleanup(&set);
  free(text);
  return 0;
}
