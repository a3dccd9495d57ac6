/* SPDX-License-Identifier: Apache-2.0 */
/* berthctl: kubectl's JSONPath templates (-o jsonpath=, custom-columns,
 * --sort-by), see jsonpath.h.
 *
 * The template is text with {expressions}: a path (.a.b, ['a.b'], [0],
 * [-1], [*], [1:3], [?(@.x=="y")], $ and @ as the current object),
 * {range PATH}...{end} to repeat for each match, and {"literal"} with \n,
 * \t, \\ and \" escapes. As kubectl: several matches of one path print
 * separated by a space; strings print raw, other values as compact JSON. */
#include "jsonpath.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum step_kind {
  STEP_FIELD,  /* .name or ['name'] */
  STEP_INDEX,  /* [n] (negative: from the end) */
  STEP_ALL,    /* [*] or .* */
  STEP_SLICE,  /* [a:b] */
  STEP_FILTER, /* [?(@.path==value)] or != */
  STEP_RECURSE /* ..name */
} step_kind_t;

typedef struct step {
  step_kind_t kind;
  char *name;
  long a, b;
  bool has_b;
  struct path *filter_path; /* STEP_FILTER: @.path */
  char *filter_value;       /* its literal, or NULL: the path exists */
  bool filter_ne;
} step_t;

typedef struct path {
  step_t *steps;
  size_t n;
} path_t;

typedef enum node_kind { NODE_TEXT, NODE_PATH, NODE_RANGE } node_kind_t;

typedef struct node {
  node_kind_t kind;
  char *text;        /* NODE_TEXT */
  path_t path;       /* NODE_PATH, NODE_RANGE */
  struct node *body; /* NODE_RANGE */
  size_t nbody;
} node_t;

struct ctl_jsonpath {
  node_t *nodes;
  size_t n;
};

typedef struct parser {
  const char *s;
  char *err;
  size_t errsize;
} parser_t;

static bool fail(parser_t *p, const char *msg)
{
  snprintf(p->err, p->errsize, "%s", msg);
  return false;
}

static void path_cleanup(path_t *pt);

static void step_cleanup(step_t *st)
{
  free(st->name);
  free(st->filter_value);
  if (st->filter_path != NULL) {
    path_cleanup(st->filter_path);
    free(st->filter_path);
  }
}

static void path_cleanup(path_t *pt)
{
  size_t i;

  for (i = 0; i < pt->n; i++)
    step_cleanup(&pt->steps[i]);
  free(pt->steps);
  memset(pt, 0, sizeof(*pt));
}

static bool push_step(path_t *pt, const step_t *st)
{
  step_t *grown = realloc(pt->steps, (pt->n + 1) * sizeof(*grown));

  if (grown == NULL)
    return false;
  pt->steps = grown;
  pt->steps[pt->n++] = *st;
  return true;
}

/* A field name after '.': letters, digits, '_', '-', '/'. */
static char *take_name(const char **s)
{
  const char *b = *s;

  while (**s != '\0' && (isalnum((unsigned char)**s) || strchr("_-/$", **s)))
    (*s)++;
  return *s > b ? strndup(b, (size_t)(*s - b)) : NULL;
}

/* A quoted literal at *s ('...' or "..."), unescaped. */
static char *take_quoted(const char **s)
{
  char q = **s;
  char *out = malloc(strlen(*s) + 1);
  size_t n = 0;

  if (out == NULL)
    return NULL;
  for ((*s)++; **s != '\0' && **s != q; (*s)++) {
    if (**s == '\\' && (*s)[1] != '\0') {
      (*s)++;
      out[n++] = **s == 'n' ? '\n' : **s == 't' ? '\t' : **s;
    } else {
      out[n++] = **s;
    }
  }
  if (**s != q) {
    free(out);
    return NULL;
  }
  (*s)++;
  out[n] = '\0';
  return out;
}

static bool parse_path(parser_t *p, const char **s, const char *stop,
                       path_t *out);

/* [?(@.path==value)] after "[?(". */
static bool parse_filter(parser_t *p, const char **s, step_t *st)
{
  const char *b;

  st->kind = STEP_FILTER;
  while (**s == ' ')
    (*s)++;
  if (**s != '@')
    return fail(p, "a filter starts with @");
  (*s)++;
  st->filter_path = calloc(1, sizeof(*st->filter_path));
  if (st->filter_path == NULL || !parse_path(p, s, "=!)", st->filter_path))
    return false;
  while (**s == ' ')
    (*s)++;
  if ((**s == '=' || **s == '!') && (*s)[1] == '=') {
    st->filter_ne = **s == '!';
    *s += 2;
    while (**s == ' ')
      (*s)++;
    if (**s == '"' || **s == '\'') {
      st->filter_value = take_quoted(s);
    } else {
      b = *s;
      while (**s != '\0' && **s != ')' && **s != ' ')
        (*s)++;
      st->filter_value = strndup(b, (size_t)(*s - b));
    }
    if (st->filter_value == NULL)
      return fail(p, "a filter's value is not closed");
    while (**s == ' ')
      (*s)++;
  }
  if (**s != ')' || (*s)[1] != ']')
    return fail(p, "a filter ends with )]");
  *s += 2;
  return true;
}

/* [ ... ] after '['. */
static bool parse_bracket(parser_t *p, const char **s, step_t *st)
{
  char *end;

  if (**s == '?' && (*s)[1] == '(') {
    *s += 2;
    return parse_filter(p, s, st);
  }
  if (**s == '\'' || **s == '"') {
    st->kind = STEP_FIELD;
    st->name = take_quoted(s);
    if (st->name == NULL || **s != ']')
      return fail(p, "a quoted name in [] is not closed");
    (*s)++;
    return true;
  }
  if (**s == '*' && (*s)[1] == ']') {
    st->kind = STEP_ALL;
    *s += 2;
    return true;
  }
  st->kind = STEP_INDEX;
  st->a = **s == ':' ? 0 : strtol(*s, &end, 10);
  if (**s != ':' && end == *s)
    return fail(p, "an index must be a number, *, 'name' or ?(filter)");
  if (**s != ':')
    *s = end;
  if (**s == ':') {
    st->kind = STEP_SLICE;
    (*s)++;
    st->has_b = **s != ']';
    if (st->has_b) {
      st->b = strtol(*s, &end, 10);
      if (end == *s)
        return fail(p, "a slice's end must be a number");
      *s = end;
    }
  }
  if (**s != ']')
    return fail(p, "an index is not closed with ]");
  (*s)++;
  return true;
}

/* A path up to one of the characters in stop (or the end). */
static bool parse_path(parser_t *p, const char **s, const char *stop,
                       path_t *out)
{
  step_t st;

  memset(out, 0, sizeof(*out));
  if (**s == '$' || **s == '@')
    (*s)++;
  while (**s != '\0' && strchr(stop, **s) == NULL && **s != ' ') {
    memset(&st, 0, sizeof(st));
    if (**s == '.' && (*s)[1] == '.') {
      *s += 2;
      st.kind = STEP_RECURSE;
      st.name = take_name(s);
      if (st.name == NULL)
        return fail(p, "'..' needs a field name");
    } else if (**s == '.') {
      (*s)++;
      if (**s == '*') {
        (*s)++;
        st.kind = STEP_ALL;
      } else if (**s == '[' || **s == '\0' || strchr(stop, **s) != NULL) {
        continue; /* "." alone: the current object */
      } else {
        st.kind = STEP_FIELD;
        st.name = take_name(s);
        if (st.name == NULL)
          return fail(p, "a '.' must be followed by a field name");
      }
    } else if (**s == '[') {
      (*s)++;
      if (!parse_bracket(p, s, &st)) {
        step_cleanup(&st);
        return false;
      }
    } else {
      return fail(p, "a path is made of .field, [index], [*] and [?()]");
    }
    if (!push_step(out, &st)) {
      step_cleanup(&st);
      return fail(p, "out of memory");
    }
  }
  return true;
}

static void nodes_cleanup(node_t *nodes, size_t n)
{
  size_t i;

  for (i = 0; i < n; i++) {
    free(nodes[i].text);
    path_cleanup(&nodes[i].path);
    nodes_cleanup(nodes[i].body, nodes[i].nbody);
  }
  free(nodes);
}

static bool push_node(node_t **nodes, size_t *n, const node_t *nd)
{
  node_t *grown = realloc(*nodes, (*n + 1) * sizeof(*grown));

  if (grown == NULL)
    return false;
  *nodes = grown;
  (*nodes)[(*n)++] = *nd;
  return true;
}

/* Nodes until {end} (in_range) or the template's end. */
static bool parse_nodes(parser_t *p, bool in_range, node_t **out, size_t *nout)
{
  node_t nd;
  const char *b;

  *out = NULL;
  *nout = 0;
  while (*p->s != '\0') {
    memset(&nd, 0, sizeof(nd));
    if (*p->s != '{') {
      b = p->s;
      while (*p->s != '\0' && *p->s != '{')
        p->s++;
      nd.kind = NODE_TEXT;
      nd.text = strndup(b, (size_t)(p->s - b));
    } else {
      p->s++;
      while (*p->s == ' ')
        p->s++;
      if (strncmp(p->s, "end", 3) == 0 && (p->s[3] == '}' || p->s[3] == ' ')) {
        p->s += 3;
        while (*p->s == ' ')
          p->s++;
        if (*p->s != '}' || !in_range)
          return fail(p, "{end} without {range}");
        p->s++;
        return true;
      }
      if (*p->s == '"' || *p->s == '\'') {
        nd.kind = NODE_TEXT;
        nd.text = take_quoted(&p->s);
        if (nd.text == NULL)
          return fail(p, "a quoted literal is not closed");
      } else if (strncmp(p->s, "range ", 6) == 0) {
        p->s += 6;
        nd.kind = NODE_RANGE;
        if (!parse_path(p, &p->s, "}", &nd.path)) {
          path_cleanup(&nd.path);
          return false;
        }
      } else {
        nd.kind = NODE_PATH;
        if (!parse_path(p, &p->s, "}", &nd.path)) {
          path_cleanup(&nd.path);
          return false;
        }
      }
      while (*p->s == ' ')
        p->s++;
      if (*p->s != '}') {
        path_cleanup(&nd.path);
        free(nd.text);
        return fail(p, "an expression is not closed with }");
      }
      p->s++;
      if (nd.kind == NODE_RANGE && !parse_nodes(p, true, &nd.body, &nd.nbody)) {
        path_cleanup(&nd.path);
        nodes_cleanup(nd.body, nd.nbody);
        return false;
      }
    }
    if ((nd.kind == NODE_TEXT && nd.text == NULL) ||
        !push_node(out, nout, &nd)) {
      free(nd.text);
      path_cleanup(&nd.path);
      nodes_cleanup(nd.body, nd.nbody);
      return fail(p, "out of memory");
    }
  }
  return in_range ? fail(p, "{range} without {end}") : true;
}

bool ctl_jsonpath_parse(const char *tmpl, ctl_jsonpath_t **out, char *err,
                        size_t errsize)
{
  ctl_jsonpath_t *jp = calloc(1, sizeof(*jp));
  parser_t p = {tmpl, err, errsize};

  if (jp == NULL)
    return fail(&p, "out of memory");
  if (!parse_nodes(&p, false, &jp->nodes, &jp->n)) {
    ctl_jsonpath_destroy(jp);
    return false;
  }
  *out = jp;
  return true;
}

bool ctl_jsonpath_parse_expr(const char *expr, ctl_jsonpath_t **out, char *err,
                             size_t errsize)
{
  char *t;
  size_t n = strlen(expr);
  bool ok;

  /* kubectl takes ".a.b" and "{.a.b}" alike for columns and --sort-by. */
  if (n >= 2 && expr[0] == '{' && expr[n - 1] == '}')
    return ctl_jsonpath_parse(expr, out, err, errsize);
  t = berth_strdup_printf("{%s}", expr);
  if (t == NULL) {
    snprintf(err, errsize, "out of memory");
    return false;
  }
  ok = ctl_jsonpath_parse(t, out, err, errsize);
  free(t);
  return ok;
}

void ctl_jsonpath_destroy(ctl_jsonpath_t *jp)
{
  if (jp == NULL)
    return;
  nodes_cleanup(jp->nodes, jp->n);
  free(jp);
}

/* ---- evaluation ---------------------------------------------------------- */

static void eval_steps(const path_t *pt, size_t i, const json_t *v,
                       json_t *out);

static bool filter_match(const step_t *st, const json_t *item)
{
  json_t *got = json_array();
  const json_t *first;
  char num[64];
  const char *s;
  bool match = false;

  if (got == NULL)
    return false;
  eval_steps(st->filter_path, 0, item, got);
  first = json_array_get(got, 0);
  if (st->filter_value == NULL) {
    match = first != NULL;
  } else if (first != NULL) {
    s = json_string_value(first);
    if (s == NULL) {
      if (json_is_integer(first))
        snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT,
                 json_integer_value(first));
      else if (json_is_real(first))
        snprintf(num, sizeof(num), "%g", json_real_value(first));
      else
        snprintf(num, sizeof(num), "%s",
                 json_is_true(first) ? "true" : "false");
      s = num;
    }
    match = strcmp(s, st->filter_value) == 0;
  }
  json_decref(got);
  return st->filter_ne && st->filter_value != NULL ? !match : match;
}

static void recurse(const step_t *st, const path_t *pt, size_t i,
                    const json_t *v, json_t *out)
{
  const char *k;
  json_t *c;
  size_t j;

  if (json_is_object(v)) {
    c = json_object_get(v, st->name);
    if (c != NULL)
      eval_steps(pt, i + 1, c, out);
    json_object_foreach((json_t *)v, k, c) recurse(st, pt, i, c, out);
  } else if (json_is_array(v)) {
    json_array_foreach(v, j, c) recurse(st, pt, i, c, out);
  }
}

/* Append to out every value pt's steps from i reach from v. */
static void eval_steps(const path_t *pt, size_t i, const json_t *v, json_t *out)
{
  const step_t *st;
  const char *k;
  json_t *c;
  size_t j;
  long n;
  long a;
  long b;

  if (v == NULL)
    return;
  if (i == pt->n) {
    json_array_append(out, (json_t *)v);
    return;
  }
  st = &pt->steps[i];
  switch (st->kind) {
  case STEP_FIELD:
    eval_steps(pt, i + 1, json_object_get(v, st->name), out);
    break;
  case STEP_INDEX:
    n = (long)json_array_size(v);
    a = st->a < 0 ? n + st->a : st->a;
    if (a >= 0 && a < n)
      eval_steps(pt, i + 1, json_array_get(v, (size_t)a), out);
    break;
  case STEP_SLICE:
    n = (long)json_array_size(v);
    a = st->a < 0 ? n + st->a : st->a;
    b = !st->has_b ? n : st->b < 0 ? n + st->b : st->b;
    for (; a < b && a < n; a++) {
      if (a >= 0)
        eval_steps(pt, i + 1, json_array_get(v, (size_t)a), out);
    }
    break;
  case STEP_ALL:
    if (json_is_array(v)) {
      json_array_foreach(v, j, c) eval_steps(pt, i + 1, c, out);
    } else if (json_is_object(v)) {
      json_object_foreach((json_t *)v, k, c) eval_steps(pt, i + 1, c, out);
    }
    break;
  case STEP_FILTER:
    json_array_foreach(v, j, c)
    {
      if (filter_match(st, c))
        eval_steps(pt, i + 1, c, out);
    }
    break;
  case STEP_RECURSE:
    recurse(st, pt, i, v, out);
    break;
  }
}

json_t *ctl_jsonpath_values(const ctl_jsonpath_t *jp, const json_t *root)
{
  json_t *out = json_array();
  size_t i;

  for (i = 0; out != NULL && i < jp->n; i++) {
    if (jp->nodes[i].kind == NODE_PATH)
      eval_steps(&jp->nodes[i].path, 0, root, out);
  }
  return out;
}

void ctl_jsonpath_value_text(const json_t *v, berth_buf_t *out)
{
  char *dump;

  if (json_is_string(v)) {
    berth_buf_append_str(out, json_string_value(v));
    return;
  }
  dump = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
  if (dump != NULL)
    berth_buf_append_str(out, dump);
  free(dump);
}

static bool exec_nodes(const node_t *nodes, size_t n, const json_t *cur,
                       berth_buf_t *out, char *err, size_t errsize)
{
  json_t *vals;
  const json_t *v;
  size_t i;
  size_t j;
  bool ok = true;

  for (i = 0; ok && i < n; i++) {
    if (nodes[i].kind == NODE_TEXT) {
      berth_buf_append_str(out, nodes[i].text);
      continue;
    }
    vals = json_array();
    if (vals == NULL)
      return false;
    eval_steps(&nodes[i].path, 0, cur, vals);
    if (nodes[i].kind == NODE_PATH) {
      json_array_foreach(vals, j, v)
      {
        if (j > 0)
          berth_buf_append_byte(out, ' ');
        ctl_jsonpath_value_text(v, out);
      }
    } else {
      /* {range .items[*]}: the body once per element. */
      json_array_foreach(vals, j, v)
      {
        if (json_is_array(v) && nodes[i].path.n > 0 &&
            nodes[i].path.steps[nodes[i].path.n - 1].kind == STEP_FIELD) {
          const json_t *e;
          size_t k;

          json_array_foreach(v, k, e) ok =
              ok &&
              exec_nodes(nodes[i].body, nodes[i].nbody, e, out, err, errsize);
        } else {
          ok = ok &&
               exec_nodes(nodes[i].body, nodes[i].nbody, v, out, err, errsize);
        }
      }
    }
    json_decref(vals);
  }
  return ok;
}

bool ctl_jsonpath_exec(const ctl_jsonpath_t *jp, const json_t *root,
                       berth_buf_t *out, char *err, size_t errsize)
{
  return exec_nodes(jp->nodes, jp->n, root, out, err, errsize);
}
