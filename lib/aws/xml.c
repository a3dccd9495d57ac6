/* SPDX-License-Identifier: Apache-2.0 */
/* Small XML trees over expat, for EC2 and STS answers; see
 * lib/aws/aws_int.h.
 *
 * AWS bodies are small (a page of volumes), so a tree is simpler than a
 * streaming parser per operation. Namespaces are dropped (EC2 answers use
 * http://ec2.amazonaws.com/doc/<version>/ and old and new versions must
 * parse alike). A DOCTYPE is refused outright, which also rules out
 * entity-expansion attacks from a hostile endpoint. */
#include "aws_int.h"

#include <stdlib.h>
#include <string.h>

#include <expat.h>

#define MAX_DEPTH 64
#define MAX_NODES 1000000

typedef struct parse_state {
  XML_Parser parser;
  berth__xml_node_t *root;
  berth__xml_node_t *cur;
  size_t text_cap; /* capacity of cur->text */
  size_t text_len; /* length of cur->text */
  int depth;
  size_t nodes;
  berth_status_t st;
  const char *why; /* our own reason to stop, or NULL for expat's */
} parse_state_t;

static void stop(parse_state_t *ps, berth_status_t st, const char *why)
{
  if (ps->st == BERTH_OK) {
    ps->st = st;
    ps->why = why;
  }
  XML_StopParser(ps->parser, XML_FALSE);
}

static void free_node(berth__xml_node_t *n)
{
  while (n != NULL) {
    berth__xml_node_t *next = n->next;
    free_node(n->child);
    free(n->name);
    free(n->text);
    free(n);
    n = next;
  }
}

void berth__xml_free(berth__xml_node_t *root)
{
  free_node(root);
}

static void XMLCALL on_start(void *ud, const XML_Char *name,
                             const XML_Char **attrs)
{
  parse_state_t *ps = ud;
  berth__xml_node_t *n;
  const char *local = strrchr(name, '|');

  (void)attrs;
  if (ps->st != BERTH_OK)
    return;
  if (ps->depth >= MAX_DEPTH || ps->nodes >= MAX_NODES) {
    stop(ps, BERTH_ETOOBIG, "document too deep or too large");
    return;
  }
  local = local != NULL ? local + 1 : name;
  {
    const char *colon = strrchr(local, ':');
    if (colon != NULL)
      local = colon + 1;
  }
  n = calloc(1, sizeof(*n));
  if (n == NULL || (n->name = strdup(local)) == NULL ||
      (n->text = calloc(1, 1)) == NULL) {
    if (n != NULL) {
      free(n->name);
      free(n);
    }
    stop(ps, BERTH_ENOMEM, "out of memory");
    return;
  }
  n->parent = ps->cur;
  if (ps->cur == NULL) {
    ps->root = n;
  } else {
    if (ps->cur->last != NULL)
      ps->cur->last->next = n;
    else
      ps->cur->child = n;
    ps->cur->last = n;
  }
  ps->cur = n;
  ps->text_cap = 1;
  ps->text_len = 0;
  ps->depth++;
  ps->nodes++;
}

static void XMLCALL on_end(void *ud, const XML_Char *name)
{
  parse_state_t *ps = ud;

  (void)name;
  if (ps->st != BERTH_OK || ps->cur == NULL)
    return;
  ps->cur = ps->cur->parent;
  ps->depth--;
  if (ps->cur != NULL) {
    ps->text_len = strlen(ps->cur->text);
    ps->text_cap = ps->text_len + 1;
  }
}

static void XMLCALL on_text(void *ud, const XML_Char *s, int len)
{
  parse_state_t *ps = ud;
  berth__xml_node_t *n = ps->cur;

  if (ps->st != BERTH_OK || n == NULL || len <= 0)
    return;
  if (ps->text_len + (size_t)len + 1 > ps->text_cap) {
    size_t cap = ps->text_cap * 2;
    char *t;
    while (cap < ps->text_len + (size_t)len + 1)
      cap *= 2;
    t = realloc(n->text, cap);
    if (t == NULL) {
      stop(ps, BERTH_ENOMEM, "out of memory");
      return;
    }
    n->text = t;
    ps->text_cap = cap;
  }
  memcpy(n->text + ps->text_len, s, (size_t)len);
  ps->text_len += (size_t)len;
  n->text[ps->text_len] = '\0';
}

static void XMLCALL on_doctype(void *ud, const XML_Char *name,
                               const XML_Char *sysid, const XML_Char *pubid,
                               int has_internal_subset)
{
  (void)name;
  (void)sysid;
  (void)pubid;
  (void)has_internal_subset;
  stop(ud, BERTH_EPARSE, "DOCTYPE declarations are not accepted");
}

berth_status_t berth__xml_parse(const char *data, size_t len,
                                berth__xml_node_t **out, berth_error_t *err)
{
  parse_state_t ps;
  berth_status_t st = BERTH_OK;

  memset(&ps, 0, sizeof(ps));
  if (len > (size_t)0x7fffffff)
    return berth_error_set(err, BERTH_ETOOBIG, "xml: body too large");
  ps.parser = XML_ParserCreateNS(NULL, '|');
  if (ps.parser == NULL)
    return berth_error_set(err, BERTH_ENOMEM, "xml: out of memory");
  XML_SetUserData(ps.parser, &ps);
  XML_SetElementHandler(ps.parser, on_start, on_end);
  XML_SetCharacterDataHandler(ps.parser, on_text);
  XML_SetStartDoctypeDeclHandler(ps.parser, on_doctype);
  if (XML_Parse(ps.parser, data != NULL ? data : "", (int)len, XML_TRUE) ==
          XML_STATUS_ERROR ||
      ps.st != BERTH_OK) {
    if (ps.st != BERTH_OK)
      st = berth_error_set(err, ps.st, "xml: %s", ps.why);
    else
      st = berth_error_set(err, BERTH_EPARSE, "xml: line %lu: %s",
                           (unsigned long)XML_GetCurrentLineNumber(ps.parser),
                           XML_ErrorString(XML_GetErrorCode(ps.parser)));
    goto done;
  }
  if (ps.root == NULL) {
    st = berth_error_set(err, BERTH_EPARSE, "xml: no root element");
    goto done;
  }
  *out = ps.root;
  ps.root = NULL;

done:
  free_node(ps.root);
  XML_ParserFree(ps.parser);
  return st;
}

const berth__xml_node_t *berth__xml_child(const berth__xml_node_t *n,
                                          const char *name)
{
  const berth__xml_node_t *c;

  if (n == NULL)
    return NULL;
  for (c = n->child; c != NULL; c = c->next)
    if (strcmp(c->name, name) == 0)
      return c;
  return NULL;
}

const berth__xml_node_t *berth__xml_next(const berth__xml_node_t *n)
{
  const berth__xml_node_t *c;

  if (n == NULL)
    return NULL;
  for (c = n->next; c != NULL; c = c->next)
    if (strcmp(c->name, n->name) == 0)
      return c;
  return NULL;
}

const berth__xml_node_t *berth__xml_path(const berth__xml_node_t *n,
                                         const char *path)
{
  char part[128];
  const char *p = path;

  while (n != NULL && p != NULL && *p != '\0') {
    const char *slash = strchr(p, '/');
    size_t len = slash != NULL ? (size_t)(slash - p) : strlen(p);

    if (len >= sizeof(part))
      return NULL;
    memcpy(part, p, len);
    part[len] = '\0';
    n = berth__xml_child(n, part);
    p = slash != NULL ? slash + 1 : NULL;
  }
  return n;
}

const char *berth__xml_text(const berth__xml_node_t *n, const char *path)
{
  const berth__xml_node_t *t = path != NULL ? berth__xml_path(n, path) : n;
  char *s;
  size_t len;
  size_t start = 0;

  if (t == NULL)
    return NULL;
  s = t->text;
  len = strlen(s);
  while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\n' ||
                     s[len - 1] == '\r' || s[len - 1] == '\t'))
    len--;
  s[len] = '\0';
  while (s[start] == ' ' || s[start] == '\n' || s[start] == '\r' ||
         s[start] == '\t')
    start++;
  if (start > 0)
    memmove(s, s + start, len - start + 1);
  return s;
}
