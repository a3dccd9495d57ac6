/* SPDX-License-Identifier: Apache-2.0 */
/* The informer's cache: objects by "namespace/name", plus a label index and
 * custom indexes. See lib/k8s/informer_int.h.
 *
 * The store maps key -> object: a jansson object holding the objects
 * themselves (shared, reference counted, never modified) or, in a compact
 * cache, informer_store.c holding each object's compact JSON text: a
 * jansson tree takes about seven times the memory of its text (a hash
 * table with eight buckets per object, a node per value), so a cache of
 * thousands of objects is kept as text and decoded on read. Each index
 * maps value -> { key -> true } (jansson); reads find the objects in the
 * store. */
#include <stdlib.h>
#include <string.h>

#include "berth/buf.h"
#include "informer_int.h"

#define MAX_INDEXES 16

struct berth_k8s_index_values {
  char **v;
  size_t n;
  size_t cap;
};

typedef struct {
  char *name;
  berth_k8s_index_fn fn;
  void *ctx;
  json_t *map; /* value -> { key -> true } */
} index_t;

struct berth__k8s_cache {
  json_t *store;             /* key -> object, unless compact */
  berth__k8s_store_t *texts; /* key -> text, when compact */
  bool index_labels;
  bool compact;
  json_t *labels; /* "k=v" -> { key -> true } */
  index_t idx[MAX_INDEXES];
  size_t nidx;
};

berth_status_t berth_k8s_index_values_add(berth_k8s_index_values_t *values,
                                          const char *value)
{
  size_t i;
  char **grown;

  if (value == NULL)
    return BERTH_EINVAL;
  for (i = 0; i < values->n; i++)
    if (strcmp(values->v[i], value) == 0)
      return BERTH_OK;
  if (values->n == values->cap) {
    grown = realloc(values->v,
                    (values->cap ? values->cap * 2 : 4) * sizeof(char *));
    if (grown == NULL)
      return BERTH_ENOMEM;
    values->v = grown;
    values->cap = values->cap ? values->cap * 2 : 4;
  }
  values->v[values->n] = strdup(value);
  if (values->v[values->n] == NULL)
    return BERTH_ENOMEM;
  values->n++;
  return BERTH_OK;
}

static void values_cleanup(berth_k8s_index_values_t *values)
{
  size_t i;

  for (i = 0; i < values->n; i++)
    free(values->v[i]);
  free(values->v);
  memset(values, 0, sizeof(*values));
}

berth_status_t berth__k8s_cache_create(bool index_labels, bool compact,
                                       berth__k8s_cache_t **out)
{
  berth__k8s_cache_t *c = calloc(1, sizeof(*c));

  if (c == NULL)
    return BERTH_ENOMEM;
  c->store = json_object();
  c->labels = json_object();
  c->index_labels = index_labels;
  c->compact = compact;
  if (c->store == NULL || c->labels == NULL ||
      (compact && berth__k8s_store_create(&c->texts) != BERTH_OK)) {
    berth__k8s_cache_destroy(c);
    return BERTH_ENOMEM;
  }
  *out = c;
  return BERTH_OK;
}

void berth__k8s_cache_destroy(berth__k8s_cache_t *c)
{
  size_t i;

  if (c == NULL)
    return;
  json_decref(c->store);
  berth__k8s_store_destroy(c->texts);
  json_decref(c->labels);
  for (i = 0; i < c->nidx; i++) {
    free(c->idx[i].name);
    json_decref(c->idx[i].map);
  }
  free(c);
}

berth_status_t berth__k8s_cache_add_index(berth__k8s_cache_t *c,
                                          const char *name,
                                          berth_k8s_index_fn fn, void *ctx)
{
  size_t i;
  index_t *x;

  if (name == NULL || fn == NULL)
    return BERTH_EINVAL;
  for (i = 0; i < c->nidx; i++)
    if (strcmp(c->idx[i].name, name) == 0)
      return BERTH_EEXIST;
  if (c->nidx == MAX_INDEXES)
    return BERTH_ETOOBIG;
  x = &c->idx[c->nidx];
  x->name = strdup(name);
  x->map = json_object();
  if (x->name == NULL || x->map == NULL) {
    free(x->name);
    json_decref(x->map);
    return BERTH_ENOMEM;
  }
  x->fn = fn;
  x->ctx = ctx;
  c->nidx++;
  return BERTH_OK;
}

char *berth__k8s_cache_key(const json_t *obj)
{
  json_t *meta = json_object_get(obj, "metadata");
  const char *ns = json_string_value(json_object_get(meta, "namespace"));
  const char *name = json_string_value(json_object_get(meta, "name"));

  if (name == NULL || name[0] == '\0')
    return NULL;
  if (ns == NULL || ns[0] == '\0')
    return strdup(name);
  return berth_strdup_printf("%s/%s", ns, name);
}

/* The object of a text: a new tree, or NULL. */
static json_t *text_object(const char *text, size_t len)
{
  /* Strings may hold NUL (\u0000), as the server's JSON may. */
  return json_loadb(text, len, JSON_ALLOW_NUL, NULL);
}

/* The store entry of key for a read outside the lock: the object (a new
 * reference), or a copy of its text in a jansson string; NULL when absent
 * or out of memory. */
static json_t *entry_of(const berth__k8s_cache_t *c, const char *key)
{
  const char *text;
  size_t len;
  json_t *obj;

  if (!c->compact) {
    obj = json_object_get(c->store, key);
    return obj != NULL ? json_incref(obj) : NULL;
  }
  text = berth__k8s_store_get(c->texts, key, &len);
  return text != NULL ? json_stringn_nocheck(text, len) : NULL;
}

/* Add or remove (add false) key in map[value]. */
static berth_status_t set_member(json_t *map, const char *value,
                                 const char *key, bool add)
{
  json_t *set = json_object_get(map, value);

  if (!add) {
    if (set != NULL) {
      json_object_del(set, key);
      if (json_object_size(set) == 0)
        json_object_del(map, value);
    }
    return BERTH_OK;
  }
  if (set == NULL) {
    set = json_object();
    if (set == NULL || json_object_set_new(map, value, set) != 0)
      return BERTH_ENOMEM;
  }
  return json_object_set_new(set, key, json_true()) == 0 ? BERTH_OK
                                                         : BERTH_ENOMEM;
}

/* Index (add true) or unindex obj under key in every index. */
static berth_status_t reindex(berth__k8s_cache_t *c, const char *key,
                              const json_t *obj, bool add)
{
  json_t *labels;
  const char *k;
  json_t *v;
  berth_buf_t pair;
  berth_k8s_index_values_t values;
  size_t i;
  size_t j;
  berth_status_t st = BERTH_OK;

  berth_buf_init(&pair);
  memset(&values, 0, sizeof(values));
  if (c->index_labels) {
    labels = json_object_get(json_object_get(obj, "metadata"), "labels");
    json_object_foreach(labels, k, v)
    {
      if (!json_is_string(v))
        continue;
      berth_buf_reset(&pair);
      if (berth_buf_appendf(&pair, "%s=%s", k, json_string_value(v)) !=
              BERTH_OK ||
          set_member(c->labels, berth_buf_str(&pair), key, add) != BERTH_OK)
        st = BERTH_ENOMEM;
    }
  }
  for (i = 0; i < c->nidx; i++) {
    values_cleanup(&values);
    if (c->idx[i].fn(c->idx[i].ctx, obj, &values) != BERTH_OK) {
      st = BERTH_EINVAL;
      continue;
    }
    for (j = 0; j < values.n; j++)
      if (set_member(c->idx[i].map, values.v[j], key, add) != BERTH_OK)
        st = BERTH_ENOMEM;
  }
  values_cleanup(&values);
  berth_buf_cleanup(&pair);
  return st;
}

bool berth__k8s_cache_has(const berth__k8s_cache_t *c, const char *key)
{
  if (c->compact)
    return berth__k8s_store_get(c->texts, key, NULL) != NULL;
  return json_object_get(c->store, key) != NULL;
}

json_t *berth__k8s_cache_get(const berth__k8s_cache_t *c, const char *key)
{
  const char *text;
  size_t len;
  json_t *obj;

  if (!c->compact) {
    obj = json_object_get(c->store, key);
    return obj != NULL ? json_incref(obj) : NULL;
  }
  text = berth__k8s_store_get(c->texts, key, &len);
  return text != NULL ? text_object(text, len) : NULL;
}

/* Store obj under key: the object itself, or its text. */
static berth_status_t store_set(berth__k8s_cache_t *c, const char *key,
                                json_t *obj)
{
  char *text;
  berth_status_t st;

  if (!c->compact)
    return json_object_set(c->store, key, obj) == 0 ? BERTH_OK : BERTH_ENOMEM;
  text = json_dumps(obj, JSON_COMPACT);
  if (text == NULL)
    return BERTH_ENOMEM;
  st = berth__k8s_store_put(c->texts, key, text, strlen(text));
  berth__k8s_json_free(text);
  return st;
}

berth_status_t berth__k8s_cache_put(berth__k8s_cache_t *c, const char *key,
                                    json_t *obj, json_t **old)
{
  json_t *prev = berth__k8s_cache_get(c, key);
  berth_status_t st;

  *old = NULL;
  if (prev == NULL && berth__k8s_cache_has(c, key))
    return BERTH_ENOMEM; /* could not decode what is there */
  if (prev != NULL)
    reindex(c, key, prev, false);
  if (store_set(c, key, obj) != BERTH_OK) {
    if (prev != NULL)
      reindex(c, key, prev, true);
    json_decref(prev);
    return BERTH_ENOMEM;
  }
  /* An index function that fails leaves the object out of that index
   * only; the store itself is right. */
  st = reindex(c, key, obj, true);
  *old = prev;
  return st == BERTH_ENOMEM ? st : BERTH_OK;
}

json_t *berth__k8s_cache_del(berth__k8s_cache_t *c, const char *key)
{
  json_t *prev = berth__k8s_cache_get(c, key);

  if (prev == NULL)
    return NULL;
  reindex(c, key, prev, false);
  if (c->compact)
    berth__k8s_store_del(c->texts, key);
  else
    json_object_del(c->store, key);
  return prev;
}

size_t berth__k8s_cache_count(const berth__k8s_cache_t *c)
{
  if (c->compact)
    return berth__k8s_store_count(c->texts);
  return json_object_size(c->store);
}

/* Every key of the store (borrowed), into a new array of *n pointers. */
static const char **store_keys(const berth__k8s_cache_t *c, size_t *n)
{
  size_t count = berth__k8s_cache_count(c);
  const char **keys = malloc((count + 1) * sizeof(*keys));
  const char *k;
  const char *text;
  json_t *v;
  size_t len;
  size_t pos = 0;
  size_t i = 0;

  if (keys == NULL)
    return NULL;
  if (c->compact) {
    while (i < count && berth__k8s_store_at(c->texts, &pos, &k, &text, &len))
      keys[i++] = k;
  } else {
    json_object_foreach(c->store, k, v)
    {
      if (i < count)
        keys[i++] = k;
    }
  }
  *n = i;
  return keys;
}

static int cmp_str(const void *a, const void *b)
{
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

json_t *berth__k8s_cache_keys(const berth__k8s_cache_t *c)
{
  json_t *out = json_array();
  const char **keys;
  size_t n = 0;
  size_t i;

  keys = out != NULL ? store_keys(c, &n) : NULL;
  if (keys == NULL) {
    json_decref(out);
    return NULL;
  }
  qsort(keys, n, sizeof(*keys), cmp_str);
  for (i = 0; i < n; i++) {
    if (json_array_append_new(out, json_string(keys[i])) != 0) {
      json_decref(out);
      out = NULL;
      break;
    }
  }
  free(keys);
  return out;
}

/* The store entries (see entry_of) of keys, sorted by key, as a new
 * array; consumes keys. */
static json_t *sorted_entries(const berth__k8s_cache_t *c, const char **keys,
                              size_t n)
{
  json_t *out = keys != NULL ? json_array() : NULL;
  json_t *v;
  size_t i;

  if (out != NULL)
    qsort(keys, n, sizeof(*keys), cmp_str);
  for (i = 0; out != NULL && i < n; i++) {
    v = entry_of(c, keys[i]);
    if (v == NULL || json_array_append_new(out, v) != 0) {
      json_decref(out);
      out = NULL;
    }
  }
  free(keys);
  return out;
}

/* The entries of the keys of an index's set { key -> true }. */
static json_t *set_entries(const berth__k8s_cache_t *c, const json_t *set)
{
  size_t n = json_object_size(set);
  const char **keys = malloc((n + 1) * sizeof(*keys));
  const char *k;
  json_t *v;
  size_t i = 0;

  if (keys != NULL) {
    json_object_foreach((json_t *)set, k, v)
    {
      if (i < n)
        keys[i++] = k;
    }
  }
  return sorted_entries(c, keys, i);
}

json_t *berth__k8s_cache_decode(bool compact, json_t *entries)
{
  json_t *obj;
  size_t i;

  if (!compact || entries == NULL)
    return entries;
  for (i = 0; i < json_array_size(entries); i++) {
    obj = text_object(json_string_value(json_array_get(entries, i)),
                      json_string_length(json_array_get(entries, i)));
    if (obj == NULL || json_array_set_new(entries, i, obj) != 0) {
      json_decref(entries);
      return NULL;
    }
  }
  return entries;
}

json_t *berth__k8s_cache_index_values(const berth__k8s_cache_t *c,
                                      const char *name)
{
  json_t *out;
  const char *k;
  json_t *v;
  size_t i;

  for (i = 0; i < c->nidx; i++) {
    if (strcmp(c->idx[i].name, name) != 0)
      continue;
    out = json_array();
    json_object_foreach(c->idx[i].map, k, v)
    {
      if (out != NULL && json_array_append_new(out, json_string(k)) != 0) {
        json_decref(out);
        out = NULL;
      }
    }
    return out;
  }
  return NULL;
}

json_t *berth__k8s_cache_list(const berth__k8s_cache_t *c)
{
  size_t n = 0;
  const char **keys = store_keys(c, &n);

  return sorted_entries(c, keys, n);
}

json_t *berth__k8s_cache_by_label(const berth__k8s_cache_t *c, const char *key,
                                  const char *value)
{
  char *pair = berth_strdup_printf("%s=%s", key, value);
  json_t *set;

  if (pair == NULL)
    return NULL;
  set = json_object_get(c->labels, pair);
  free(pair);
  return set != NULL ? set_entries(c, set) : json_array();
}

json_t *berth__k8s_cache_by_index(const berth__k8s_cache_t *c, const char *name,
                                  const char *value)
{
  size_t i;
  json_t *set;

  for (i = 0; i < c->nidx; i++) {
    if (strcmp(c->idx[i].name, name) != 0)
      continue;
    set = json_object_get(c->idx[i].map, value);
    return set != NULL ? set_entries(c, set) : json_array();
  }
  return NULL;
}
