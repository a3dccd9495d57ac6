/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests: berth-peers renderers and file updates
 * (peer-discovery/render.c, files.c) against the expected files in
 * tests/data/peers/expected/, which the integration tests also use. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "files.h"
#include "identity.h"
#include "members.h"
#include "render.h"

#define EXPECTED BERTH_TEST_DATA "/peers/expected/"

typedef struct fixture {
  peers_identity_t id;
  peers_set_t peers;
  peers_view_t view;
} fixture_t;

/* The test bed's StatefulSet "web" scaled to 12, seen from web-3:
 * web-N has 10.244.0.(10+N) and fd00:10:244::(10+N in hex), port 80. */
static int setup(void **state)
{
  fixture_t *f = calloc(1, sizeof(*f));
  peers_identity_opts_t o;
  peers_member_t *m;
  char name[128];
  char addr[64];
  int i;

  memset(&o, 0, sizeof(o));
  o.hostname = "web-3";
  o.service = "web";
  o.ns = "default";
  o.domain = "cluster.local";
  assert_int_equal(peers_identity_resolve(&o, &f->id, NULL), BERTH_OK);
  peers_set_init(&f->peers);
  for (i = 11; i >= 0; i--) {
    snprintf(name, sizeof(name), "web-%d.web.default.svc.cluster.local", i);
    assert_int_equal(peers_set_add(&f->peers, name, 80, &m, NULL), BERTH_OK);
    snprintf(addr, sizeof(addr), "fd00:10:244::%x", 10 + i);
    assert_int_equal(peers_member_add_addr(m, addr), BERTH_OK);
    snprintf(addr, sizeof(addr), "10.244.0.%d", 10 + i);
    assert_int_equal(peers_member_add_addr(m, addr), BERTH_OK);
  }
  peers_set_sort(&f->peers);
  f->view.self = &f->id;
  f->view.peers = &f->peers;
  f->view.first = true;
  *state = f;
  return 0;
}

static int teardown(void **state)
{
  fixture_t *f = *state;

  peers_set_cleanup(&f->peers);
  peers_identity_cleanup(&f->id);
  free(f);
  return 0;
}

static char *slurp(const char *path)
{
  FILE *fp = fopen(path, "rb");
  char *data;
  long n;

  assert_non_null(fp);
  fseek(fp, 0, SEEK_END);
  n = ftell(fp);
  fseek(fp, 0, SEEK_SET);
  data = calloc(1, (size_t)n + 1);
  assert_int_equal(fread(data, 1, (size_t)n, fp), (size_t)n);
  fclose(fp);
  return data;
}

/* Render arg and compare with the expected file(s). */
static void check(fixture_t *f, const char *arg, const char *file,
                  const char *extra_file)
{
  peers_render_spec_t spec;
  berth_buf_t out;
  berth_buf_t extra;
  char *want;

  berth_buf_init(&out);
  berth_buf_init(&extra);
  assert_int_equal(peers_render_spec_parse(arg, &spec, NULL), BERTH_OK);
  assert_int_equal(peers_render(&spec, &f->view, &out, &extra, NULL), BERTH_OK);
  want = slurp(file);
  assert_string_equal(berth_buf_str(&out), want);
  free(want);
  if (extra_file != NULL) {
    want = slurp(extra_file);
    assert_string_equal(berth_buf_str(&extra), want);
    free(want);
  } else {
    assert_int_equal(extra.len, 0);
  }
  peers_render_spec_cleanup(&spec);
  berth_buf_cleanup(&out);
  berth_buf_cleanup(&extra);
}

static void test_expected_files(void **state)
{
  fixture_t *f = *state;

  check(f, "zookeeper:/x/zoo.cfg.dynamic", EXPECTED "zookeeper.cfg",
        EXPECTED "zookeeper.myid");
  check(f, "etcd:/x", EXPECTED "etcd.yaml", NULL);
  check(f, "mongo:/x", EXPECTED "mongo.json", NULL);
  check(f, "cassandra:/x", EXPECTED "cassandra.yaml", NULL);
  check(f, "elasticsearch:/x", EXPECTED "elasticsearch.yml", NULL);
  check(f, "json:/x", EXPECTED "peers.json", NULL);
  check(f, "lines:/x", EXPECTED "lines.txt", NULL);
  f->view.addresses = true;
  check(f, "lines:/x", EXPECTED "addresses.txt", NULL);
  f->view.family = "IPv6"; /* -address-type IPv6 */
  {
    berth_buf_t out;
    berth_buf_init(&out);
    f->view.peers = &f->peers;
    assert_int_equal(peers_render_lines(&f->view, &out), BERTH_OK);
    assert_non_null(
        strstr(berth_buf_str(&out), "fd00:10:244::a\nfd00:10:244::b\n"));
    assert_null(strstr(berth_buf_str(&out), "10.244.0."));
    berth_buf_cleanup(&out);
  }
  f->view.family = NULL;
  f->view.addresses = false;
}

static void test_options(void **state)
{
  fixture_t *f = *state;
  peers_render_spec_t spec;
  berth_buf_t out;

  berth_buf_init(&out);
  assert_int_equal(
      peers_render_spec_parse("mongo,name=rs0,port=27018:/a:b", &spec, NULL),
      BERTH_OK);
  assert_string_equal(spec.path, "/a:b");
  assert_int_equal(peers_render(&spec, &f->view, &out, NULL, NULL), BERTH_OK);
  assert_non_null(strstr(berth_buf_str(&out), "\"_id\": \"rs0\""));
  assert_non_null(strstr(berth_buf_str(&out),
                         "web-11.web.default.svc.cluster.local:27018"));
  peers_render_spec_cleanup(&spec);

  berth_buf_reset(&out);
  f->view.first = false;
  assert_int_equal(peers_render_spec_parse("etcd,port=12380:/e", &spec, NULL),
                   BERTH_OK);
  assert_int_equal(peers_render(&spec, &f->view, &out, NULL, NULL), BERTH_OK);
  assert_non_null(strstr(berth_buf_str(&out), "initial-cluster-state: "
                                              "existing\n"));
  assert_non_null(strstr(berth_buf_str(&out),
                         "web-0=http://web-0.web.default.svc.cluster.local:"
                         "12380,web-1="));
  peers_render_spec_cleanup(&spec);

  berth_buf_reset(&out);
  assert_int_equal(
      peers_render_spec_parse("cassandra,count=1,port=7000:/c", &spec, NULL),
      BERTH_OK);
  assert_int_equal(peers_render(&spec, &f->view, &out, NULL, NULL), BERTH_OK);
  assert_non_null(strstr(berth_buf_str(&out),
                         "seeds: \"web-0.web.default.svc.cluster.local:7000\""
                         "\n"));
  peers_render_spec_cleanup(&spec);
  berth_buf_cleanup(&out);
}

static void test_spec_errors(void **state)
{
  static const char *const bad[] = {
      "zookeeper",
      "zookeeper:",
      "nosuch:/x",
      "mongo,port=0:/x",
      "mongo,port=70000:/x",
      "mongo,port=x:/x",
      "mongo,color=red:/x",
      "mongo,name:/x",
      "zookeeper,port=65000:/x",
      ":/x",
      "lines,count=-1:/x",
  };
  peers_render_spec_t spec;
  berth_error_t err;
  size_t i;

  (void)state;
  for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    berth_error_clear(&err);
    assert_int_equal(peers_render_spec_parse(bad[i], &spec, &err),
                     BERTH_EINVAL);
    assert_true(err.message[0] != '\0');
  }
  assert_string_equal(peers_render_kind_name(PEERS_RENDER_ELASTICSEARCH),
                      "elasticsearch");
  peers_render_spec_cleanup(NULL);
}

static void test_no_ordinal_members(void **state)
{
  fixture_t *f = *state;
  peers_set_t s;
  peers_view_t v = f->view;
  peers_render_spec_t spec;
  berth_buf_t out;
  berth_buf_t extra;

  peers_set_init(&s);
  berth_buf_init(&out);
  berth_buf_init(&extra);
  assert_int_equal(
      peers_set_add(&s, "web-1.web.default.svc.cluster.local", 0, NULL, NULL),
      BERTH_OK);
  assert_int_equal(
      peers_set_add(&s, "odd.web.default.svc.cluster.local", 0, NULL, NULL),
      BERTH_OK);
  v.peers = &s;
  assert_int_equal(peers_render_spec_parse("zookeeper:/z", &spec, NULL),
                   BERTH_OK);
  assert_int_equal(peers_render(&spec, &v, &out, &extra, NULL), BERTH_OK);
  assert_string_equal(berth_buf_str(&out),
                      "server.2=web-1.web.default.svc.cluster.local:2888:3888"
                      "\n");
  assert_string_equal(berth_buf_str(&extra), "4\n");
  peers_render_spec_cleanup(&spec);
  berth_buf_cleanup(&out);
  berth_buf_cleanup(&extra);
  peers_set_cleanup(&s);
}

static void test_file_update(void **state)
{
  char dir[] = "/tmp/test_peers_render.XXXXXX";
  char path[256];
  char *data;
  struct stat a;
  struct stat b;
  bool changed = false;
  berth_error_t err;
  char *d;

  (void)state;
  assert_non_null(mkdtemp(dir));
  snprintf(path, sizeof(path), "%s/out.cfg", dir);
  assert_int_equal(peers_file_update(path, "one\n", 4, &changed, NULL),
                   BERTH_OK);
  assert_true(changed);
  assert_int_equal(stat(path, &a), 0);
  /* The same content again: not written (same inode, no temp file). */
  assert_int_equal(peers_file_update(path, "one\n", 4, &changed, NULL),
                   BERTH_OK);
  assert_false(changed);
  assert_int_equal(stat(path, &b), 0);
  assert_int_equal(a.st_ino, b.st_ino);
  /* New content: a new inode (rename), never the old file rewritten. */
  assert_int_equal(peers_file_update(path, "two\n", 4, &changed, NULL),
                   BERTH_OK);
  assert_true(changed);
  assert_int_equal(stat(path, &b), 0);
  assert_int_not_equal(a.st_ino, b.st_ino);
  data = slurp(path);
  assert_string_equal(data, "two\n");
  free(data);
  /* Same length, other bytes. */
  assert_int_equal(peers_file_update(path, "twO\n", 4, &changed, NULL),
                   BERTH_OK);
  assert_true(changed);
  unlink(path);
  /* A directory that does not exist: an error, and nothing left behind. */
  snprintf(path, sizeof(path), "%s/missing/out.cfg", dir);
  berth_error_clear(&err);
  assert_int_equal(peers_file_update(path, "x", 1, &changed, &err), BERTH_EIO);
  assert_non_null(strstr(err.message, "missing"));
  assert_int_equal(rmdir(dir), 0);
  d = peers_path_dirname("/a/b/c");
  assert_string_equal(d, "/a/b");
  free(d);
  d = peers_path_dirname("c");
  assert_string_equal(d, ".");
  free(d);
  d = peers_path_dirname("/c");
  assert_string_equal(d, "/");
  free(d);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_expected_files, setup, teardown),
      cmocka_unit_test_setup_teardown(test_options, setup, teardown),
      cmocka_unit_test(test_spec_errors),
      cmocka_unit_test_setup_teardown(test_no_ordinal_members, setup, teardown),
      cmocka_unit_test(test_file_update),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
