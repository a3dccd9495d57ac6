/* SPDX-License-Identifier: Apache-2.0 */
/* berth-peers: the settle/hook state machine, see control.h. */
#include "control.h"

#include <stdint.h>
#include <string.h>

void peers_control_init(peers_control_t *ctl, const peers_control_cfg_t *cfg,
                        const peers_identity_t *self)
{
  memset(ctl, 0, sizeof(*ctl));
  ctl->cfg = *cfg;
  ctl->self = self;
  peers_set_init(&ctl->observed);
  peers_set_init(&ctl->settled);
  peers_set_init(&ctl->hooked);
}

void peers_control_cleanup(peers_control_t *ctl)
{
  if (ctl == NULL)
    return;
  peers_set_cleanup(&ctl->observed);
  peers_set_cleanup(&ctl->settled);
  peers_set_cleanup(&ctl->hooked);
}

void peers_control_observe(peers_control_t *ctl, int64_t now, peers_set_t *set)
{
  peers_set_sort(set);
  if (ctl->have_observed &&
      peers_set_equal(&ctl->observed, set, ctl->cfg.with_addrs)) {
    /* Keep observed_at, but take the new copy (the same membership). */
    peers_set_move(&ctl->observed, set);
    return;
  }
  peers_set_move(&ctl->observed, set);
  ctl->have_observed = true;
  ctl->observed_at = now;
}

bool peers_control_gate(const peers_control_t *ctl, const peers_set_t *set,
                        berth_buf_t *why)
{
  const peers_identity_t *id = ctl->self;
  long missing = 0;
  bool ok = true;

  if (ctl->cfg.wait_self && peers_set_find(set, id->fqdn) == NULL) {
    ok = false;
    if (why != NULL)
      berth_buf_appendf(why, "this member %s is not in DNS yet", id->fqdn);
  } else if (ctl->have_settled) {
    ok = true;
  } else if ((long)set->count < ctl->cfg.min_peers) {
    ok = false;
    if (why != NULL)
      berth_buf_appendf(why, "%zu of the %ld peers wanted (--min-peers)",
                        set->count, ctl->cfg.min_peers);
  } else if (ctl->cfg.wait_lower && id->ordinal > 0 &&
             !peers_set_has_lower(set, id->base, id->ordinal, id->service_fqdn,
                                  &missing)) {
    ok = false;
    if (why != NULL)
      berth_buf_appendf(why,
                        "lower ordinal %s-%ld.%s is not in DNS yet "
                        "(--wait-for-lower-ordinals)",
                        id->base, missing, id->service_fqdn);
  }
  return ok;
}

/* true when observed differs from settled (or nothing settled yet). */
static bool change_pending(const peers_control_t *ctl)
{
  if (!ctl->have_observed)
    return false;
  return !ctl->have_settled ||
         !peers_set_equal(&ctl->observed, &ctl->settled, ctl->cfg.with_addrs);
}

bool peers_control_settle(peers_control_t *ctl, int64_t now)
{
  if (!change_pending(ctl) || now - ctl->observed_at < ctl->cfg.debounce_ms ||
      !peers_control_gate(ctl, &ctl->observed, NULL))
    return false;
  if (peers_set_copy(&ctl->settled, &ctl->observed) != BERTH_OK)
    return false;
  ctl->have_settled = true;
  ctl->settle_count++;
  return true;
}

/* Take settled as hooked without running anything. */
static void mark_hooked(peers_control_t *ctl)
{
  if (peers_set_copy(&ctl->hooked, &ctl->settled) == BERTH_OK)
    ctl->started = true;
}

peers_hook_kind_t peers_control_hook_due(peers_control_t *ctl, int64_t now)
{
  if (!ctl->have_settled)
    return PEERS_HOOK_NONE;
  if (!ctl->started) {
    if (!ctl->cfg.start_hook) {
      mark_hooked(ctl);
      return PEERS_HOOK_NONE;
    }
    return now >= ctl->retry_at ? PEERS_HOOK_START : PEERS_HOOK_NONE;
  }
  if (peers_set_equal(&ctl->settled, &ctl->hooked, ctl->cfg.with_addrs)) {
    /* A change that went back before its hook succeeded: nothing to do. */
    ctl->attempt = 0;
    ctl->retry_at = 0;
    return PEERS_HOOK_NONE;
  }
  if (!ctl->cfg.change_hook) {
    mark_hooked(ctl);
    return PEERS_HOOK_NONE;
  }
  return now >= ctl->retry_at ? PEERS_HOOK_CHANGE : PEERS_HOOK_NONE;
}

/* Equal jitter: half of min(cap, base * 2^attempt), plus up to as much
 * again at random, so that a retry never comes at once. */
static int64_t retry_delay(const peers_control_t *ctl)
{
  int64_t cap = ctl->cfg.backoff_max_ms;
  int64_t d = ctl->cfg.backoff_ms;
  unsigned i;

  for (i = 0; i < ctl->attempt && d < cap; i++)
    d *= 2;
  if (d > cap)
    d = cap;
  return d / 2 +
         (int64_t)berth_rand_below(ctl->cfg.rand, (uint64_t)(d - d / 2) + 1);
}

int64_t peers_control_hook_done(peers_control_t *ctl, int64_t now, bool ok)
{
  int64_t delay = 0;

  if (ok) {
    mark_hooked(ctl);
    ctl->attempt = 0;
    ctl->retry_at = 0;
  } else {
    delay = retry_delay(ctl);
    ctl->attempt++;
    ctl->retry_at = now + delay;
  }
  return delay;
}

bool peers_control_ready(const peers_control_t *ctl)
{
  return ctl->started && ctl->have_settled &&
         peers_set_find(&ctl->settled, ctl->self->fqdn) != NULL &&
         (long)ctl->settled.count >= ctl->cfg.min_peers;
}

int64_t peers_control_next(const peers_control_t *ctl, int64_t now)
{
  int64_t next = INT64_MAX;

  if (change_pending(ctl) && peers_control_gate(ctl, &ctl->observed, NULL))
    next = ctl->observed_at + ctl->cfg.debounce_ms;
  if (ctl->have_settled && ctl->retry_at > now && ctl->retry_at < next &&
      (!ctl->started ||
       !peers_set_equal(&ctl->settled, &ctl->hooked, ctl->cfg.with_addrs)))
    next = ctl->retry_at;
  return next < now ? now : next;
}
