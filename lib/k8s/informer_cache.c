/* The informer's cache: objects by "namespace/name", plus a label index and
 * custom indexes. See lib/k8s/informer_int.h.
 *
 * jansson objects are the hash tables: the store maps key -> entry, and
 * each index maps value -> { key -> true }; reads find the entries in the
 * store. An entry is the object itself (shared, reference counted, never
 * modified) or, in a compact cache, the object's compact JSON text in a
 * jansson string: a jansson tree takes about seven times the memory of its
 * text (a hash table with eight buckets per object, a node per value), so
 * a cache of thousands of objects is kept as text and decoded on read. */
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
  json_t *store; /* key -> object, or its text when compact */
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
    grown = realloc(values->v, (values->cap ? values->cap * 2 : 4) *
                                 sizeof(char *));
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
  if (c->store == NULL || c->labels == NULL) {
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

/* The object of a compact entry's text: a new tree, or NULL. */
static json_t *entry_object_text(const json_t *entry)
{
  /* Strings may hold NUL (\u0000), as the server's JSON may. */
  return json_loadb(json_string_value(entry), json_string_length(entry),
                    JSON_ALLOW_NUL, NULL);
}

/* The object of a store entry: a new reference (decoded anew from the text
 * of a compact entry), or NULL. */
static json_t *entry_object(const berth__k8s_cache_t *c, json_t *entry)
{
  if (entry == NULL)
    return NULL;
  if (!c->compact)
    return json_incref(entry);
  return entry_object_text(entry);
}

/* The store entry for obj: obj itself (a new reference) or its text. */
static json_t *make_entry(const berth__k8s_cache_t *c, json_t *obj)
{
  char *text;
  json_t *s;

  if (!c->compact)
    return json_incref(obj);
  text = json_dumps(obj, JSON_COMPACT);
  if (text == NULL)
    return NULL;
  s = json_string_nocheck(text);
  free(text);
  return s;
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
    json_object_foreach(labels, k, v) {
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
  return json_object_get(c->store, key) != NULL;
}

json_t *berth__k8s_cache_get(const berth__k8s_cache_t *c, const char *key)
{
  return entry_object(c, json_object_get(c->store, key));
}

berth_status_t berth__k8s_cache_put(berth__k8s_cache_t *c, const char *key,
                                    json_t *obj, json_t **old)
{
  json_t *prev = berth__k8s_cache_get(c, key);
  json_t *entry = make_entry(c, obj);
  berth_status_t st;

  *old = NULL;
  if (entry == NULL || (json_object_get(c->store, key) != NULL &&
                        prev == NULL)) {
    json_decref(entry);
    json_decref(prev);
    return BERTH_ENOMEM;
  }
  if (prev != NULL)
    reindex(c, key, prev, false);
  if (json_object_set_new(c->store, key, entry) != 0) {
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
  json_object_del(c->store, key);
  return prev;
}

size_t berth__k8s_cache_count(const berth__k8s_cache_t *c)
{
  return json_object_size(c->store);
}

json_t *berth__k8s_cache_keys(const berth__k8s_cache_t *c)
{
  json_t *keys = json_array();
  const char *k;
  json_t *v;

  if (keys == NULL)
    return NULL;
  json_object_foreach(c->store, k, v) {
    if (json_array_append_new(keys, json_string(k)) != 0) {
      json_decref(keys);
      return NULL;
    }
  }
  return keys;
}

static int cmp_str(const void *a, const void *b)
{
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The store entries of the keys of set (the store, or an index's set) as
 * an array sorted by key; berth__k8s_cache_decode makes them objects. */
static json_t *sorted_values(const berth__k8s_cache_t *c, const json_t *set)
{
  size_t n = json_object_size(set);
  const char **keys = NULL;
  const char *k;
  json_t *v;
  json_t *out = json_array();
  size_t i = 0;

  if (out == NULL)
    return NULL;
  if (n == 0)
    return out;
  keys = malloc(n * sizeof(*keys));
  if (keys == NULL) {
    json_decref(out);
    return NULL;
  }
  json_object_foreach((json_t *)set, k, v)
    keys[i++] = k;
  qsort(keys, n, sizeof(*keys), cmp_str);
  for (i = 0; i < n; i++) {
    v = json_object_get(c->store, keys[i]);
    if (v == NULL || json_array_append(out, v) != 0) {
      json_decref(out);
      out = NULL;
      break;
    }
  }
  free(keys);
  return out;
}

json_t *berth__k8s_cache_decode(bool compact, json_t *entries)
{
  json_t *obj;
  size_t i;

  if (!compact || entries == NULL)
    return entries;
  for (i = 0; i < json_array_size(entries); i++) {
    obj = entry_object_text(json_array_get(entries, i));
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
    json_object_foreach(c->idx[i].map, k, v) {
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
  return sorted_values(c, c->store);
}

json_t *berth__k8s_cache_by_label(const berth__k8s_cache_t *c,
                                  const char *key, const char *value)
{
  char *pair = berth_strdup_printf("%s=%s", key, value);
  json_t *set;

  if (pair == NULL)
    return NULL;
  set = json_object_get(c->labels, pair);
  free(pair);
  return set != NULL ? sorted_values(c, set) : json_array();
}

json_t *berth__k8s_cache_by_index(const berth__k8s_cache_t *c,
                                  const char *name, const char *value)
{
  size_t i;
  json_t *set;

  for (i = 0; i < c->nidx; i++) {
    if (strcmp(c->idx[i].name, name) != 0)
      continue;
    set = json_object_get(c->idx[i].map, value);
    return set != NULL ? sorted_values(c, set) : json_array();
  }
  return NULL;
}
