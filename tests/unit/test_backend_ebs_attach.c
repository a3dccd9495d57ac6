/* SPDX-License-Identifier: Apache-2.0 */
/* The EBS attacher (provisioner/attach.c) against the bed's API server and
 * the AWS emulator (run under tests/bed/bed.py run k8s nfs aws):
 *
 *   - two VolumeAttachments for two disks on one node: both get the
 *     finalizer, status.attached and distinct device paths, and the
 *     emulator shows both disks attached to the node's instance there;
 *   - a VolumeAttachment of another attacher is left alone;
 *   - a node without spec.providerID: status.attachError;
 *   - a VolumeAttachment deleted: the disk is detached, the finalizer goes
 *     and the object with it.
 *
 * Every wait polls with a deadline. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "berth/aws.h"
#include "berth/aws_ec2.h"
#include "berth/clock.h"
#include "berth/k8s.h"

#include "attach.h"
#include "test_k8s_common.h"

#define CHECK(cond, ...)                                                       \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                     \
      fprintf(stderr, __VA_ARGS__);                                            \
      fputc('\n', stderr);                                                     \
      exit(1);                                                                 \
    }                                                                          \
  } while (0)

static berth_k8s_client_t *k8s;
static berth_aws_t *aws;

static void create(const berth_k8s_resource_t *res, json_t *obj)
{
  berth_error_t err;
  berth_status_t st = berth_k8s_create(k8s, res, NULL, obj, NULL, &err);

  CHECK(st == BERTH_OK, "create: %s", err.message);
  json_decref(obj);
}

static void make_volume(const char *zone, char *id)
{
  berth_ec2_create_volume_params_t p;
  berth_ec2_volume_t v;
  berth_error_t err;
  int64_t deadline = berth_clock_monotonic_ms(NULL) + 20000;

  memset(&p, 0, sizeof(p));
  memset(&v, 0, sizeof(v));
  p.availability_zone = zone;
  p.size_gib = 1;
  p.volume_type = "gp3";
  CHECK(berth_ec2_create_volume(aws, &p, &v, &err) == BERTH_OK, "create: %s",
        err.message);
  snprintf(id, 64, "%s", v.volume_id);
  while (strcmp(v.state, "available") != 0) {
    CHECK(berth_clock_monotonic_ms(NULL) < deadline, "%s not available", id);
    berth_clock_sleep_ms(NULL, 50);
    berth_ec2_volume_cleanup(&v);
    CHECK(berth_ec2_describe_volume(aws, id, &v, &err) == BERTH_OK, "%s",
          err.message);
  }
  berth_ec2_volume_cleanup(&v);
}

static json_t *va(const char *name, const char *attacher, const char *node,
                  const char *pv)
{
  return json_pack("{s:s,s:s,s:{s:s},s:{s:s,s:s,s:{s:s}}}", "apiVersion",
                   "storage.k8s.io/v1", "kind", "VolumeAttachment", "metadata",
                   "name", name, "spec", "attacher", attacher, "nodeName", node,
                   "source", "persistentVolumeName", pv);
}

static json_t *pv(const char *name, const char *handle)
{
  return json_pack("{s:s,s:s,s:{s:s},s:{s:{s:s},s:[s],s:{s:s,s:s}}}",
                   "apiVersion", "v1", "kind", "PersistentVolume", "metadata",
                   "name", name, "spec", "capacity", "storage", "1Gi",
                   "accessModes", "ReadWriteOnce", "csi", "driver",
                   "ebs.csi.aws.com", "volumeHandle", handle);
}

static json_t *get_va(const char *name)
{
  json_t *o = NULL;
  berth_error_t err;
  berth_status_t st = berth_k8s_get(k8s, &berth_k8s_res_volumeattachments, NULL,
                                    name, &o, &err);

  CHECK(st == BERTH_OK || st == BERTH_ENOTFOUND, "get %s: %s", name,
        err.message);
  return o;
}

/* Wait until VolumeAttachment name is attached; its device path. */
static const char *wait_attached(const char *name, char *dev)
{
  int64_t deadline = berth_clock_monotonic_ms(NULL) + 30000;

  for (;;) {
    json_t *o = get_va(name);
    json_t *st = json_object_get(o, "status");
    const char *d = json_string_value(json_object_get(
        json_object_get(st, "attachmentMetadata"), "devicePath"));
    if (json_is_true(json_object_get(st, "attached")) && d != NULL) {
      snprintf(dev, 16, "%s", d);
      json_decref(o);
      return dev;
    }
    if (berth_clock_monotonic_ms(NULL) >= deadline) {
      char *j = json_dumps(o, 0);
      fprintf(stderr, "%s\n", j != NULL ? j : "(none)");
      free(j);
    }
    json_decref(o);
    CHECK(berth_clock_monotonic_ms(NULL) < deadline, "%s not attached", name);
    berth_clock_sleep_ms(NULL, 50);
  }
}

/* The device of volume on instance in the emulator, or "" */
static void ec2_device(const char *vol, const char *inst, char *out)
{
  berth_ec2_volume_t v;
  berth_error_t err;
  size_t i;

  memset(&v, 0, sizeof(v));
  out[0] = '\0';
  CHECK(berth_ec2_describe_volume(aws, vol, &v, &err) == BERTH_OK, "%s",
        err.message);
  for (i = 0; i < v.attachment_count; i++)
    if (strcmp(v.attachments[i].instance_id, inst) == 0 &&
        strcmp(v.attachments[i].state, "attached") == 0)
      snprintf(out, 16, "%s", v.attachments[i].device);
  berth_ec2_volume_cleanup(&v);
}

int main(void)
{
  berth_aws_options_t ao;
  berth_error_t err;
  berth_ec2_instance_list_t l;
  prov_attacher_t *att = NULL;
  char inst[64] = "", pid[128], v1[64], v2[64], d1[16], d2[16], e1[16];
  const char *zone = NULL;
  int64_t deadline;
  size_t i;
  json_t *o;

  k8s = tk_client(NULL);
  berth_aws_options_init(&ao);
  CHECK(berth_aws_create(&ao, &aws, &err) == BERTH_OK, "aws: %s", err.message);
  memset(&l, 0, sizeof(l));
  CHECK(berth_ec2_describe_instances(aws, NULL, &l, &err) == BERTH_OK, "%s",
        err.message);
  for (i = 0; i < l.count && inst[0] == '\0'; i++)
    if (l.items[i].availability_zone != NULL) {
      snprintf(inst, sizeof(inst), "%s", l.items[i].instance_id);
      zone = l.items[i].availability_zone;
      snprintf(pid, sizeof(pid), "aws:///%s/%s", zone, inst);
      make_volume(zone, v1);
      make_volume(zone, v2);
    }
  berth_ec2_instance_list_cleanup(&l);
  CHECK(inst[0] != '\0', "no instance in the emulator");

  create(&berth_k8s_res_nodes,
         json_pack("{s:s,s:s,s:{s:s},s:{s:s}}", "apiVersion", "v1", "kind",
                   "Node", "metadata", "name", "n1", "spec", "providerID",
                   pid));
  create(&berth_k8s_res_nodes,
         json_pack("{s:s,s:s,s:{s:s}}", "apiVersion", "v1", "kind", "Node",
                   "metadata", "name", "n2"));
  create(&berth_k8s_res_persistentvolumes, pv("pv1", v1));
  create(&berth_k8s_res_persistentvolumes, pv("pv2", v2));
  create(&berth_k8s_res_volumeattachments,
         va("va1", "ebs.csi.aws.com", "n1", "pv1"));
  create(&berth_k8s_res_volumeattachments,
         va("va2", "ebs.csi.aws.com", "n1", "pv2"));
  create(&berth_k8s_res_volumeattachments,
         va("other", "other.csi.example.com", "n1", "pv1"));
  create(&berth_k8s_res_volumeattachments,
         va("nopid", "ebs.csi.aws.com", "n2", "pv1"));

  CHECK(prov_attacher_create(k8s, aws, NULL, &att, &err) == BERTH_OK, "%s",
        err.message);
  CHECK(prov_attacher_start(att, &err) == BERTH_OK, "start: %s", err.message);

  wait_attached("va1", d1);
  wait_attached("va2", d2);
  CHECK(strcmp(d1, d2) != 0, "same device %s for both", d1);
  ec2_device(v1, inst, e1);
  CHECK(strcmp(e1, d1) == 0, "emulator: %s at '%s', VA says %s", v1, e1, d1);
  ec2_device(v2, inst, e1);
  CHECK(strcmp(e1, d2) == 0, "emulator: %s at '%s', VA says %s", v2, e1, d2);
  o = get_va("va1");
  {
    json_t *fs = json_object_get(json_object_get(o, "metadata"), "finalizers");
    CHECK(json_array_size(fs) == 1 &&
              strcmp(json_string_value(json_array_get(fs, 0)),
                     "external-attacher/ebs-csi-aws-com") == 0,
          "the attacher finalizer on va1");
  }
  json_decref(o);
  printf("attached: %s at %s, %s at %s on %s\n", v1, d1, v2, d2, inst);

  deadline = berth_clock_monotonic_ms(NULL) + 30000;
  for (;;) {
    json_t *n = get_va("nopid");
    const char *msg = json_string_value(json_object_get(
        json_object_get(json_object_get(n, "status"), "attachError"),
        "message"));
    bool ok = msg != NULL && strstr(msg, "providerID") != NULL;
    json_decref(n);
    if (ok)
      break;
    CHECK(berth_clock_monotonic_ms(NULL) < deadline, "no attachError on nopid");
    berth_clock_sleep_ms(NULL, 50);
  }
  o = get_va("other");
  {
    /* The real API server always serialises status.attached (a required
     * bool), false until an attacher says otherwise. */
    json_t *st = json_object_get(o, "status");
    CHECK(json_object_get(json_object_get(o, "metadata"), "finalizers") ==
                  NULL &&
              (st == NULL || (json_is_false(json_object_get(st, "attached")) &&
                              json_object_size(st) == 1)),
          "another attacher's VolumeAttachment was touched");
  }
  json_decref(o);
  printf(
      "attachError for a node without providerID; other attachers ignored\n");

  CHECK(berth_k8s_delete(k8s, &berth_k8s_res_volumeattachments, NULL, "va1",
                         NULL, NULL, &err) == BERTH_OK,
        "delete: %s", err.message);
  deadline = berth_clock_monotonic_ms(NULL) + 30000;
  for (;;) {
    json_t *g = get_va("va1");
    bool gone = g == NULL;
    json_decref(g);
    ec2_device(v1, inst, e1);
    if (gone && e1[0] == '\0')
      break;
    CHECK(berth_clock_monotonic_ms(NULL) < deadline,
          "va1 not gone / %s still attached", v1);
    berth_clock_sleep_ms(NULL, 50);
  }
  ec2_device(v2, inst, e1);
  CHECK(strcmp(e1, d2) == 0, "%s must stay attached", v2);
  printf("va1 deleted: %s detached, finalizer removed\n", v1);

  prov_attacher_destroy(att);
  berth_aws_destroy(aws);
  berth_k8s_client_destroy(k8s);
  printf("PASS\n");
  return 0;
}
