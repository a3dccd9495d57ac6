/* SPDX-License-Identifier: Apache-2.0 */
/* berth-peers: splitting a hook command into words, see hooks.h. */
#include "hooks.h"

#include "berth/buf.h"

#include <stdlib.h>
#include <string.h>

void peers_argv_free(char **argv)
{
  size_t i;

  if (argv == NULL)
    return;
  for (i = 0; argv[i] != NULL; i++)
    free(argv[i]);
  free(argv);
}

/* Append word (detached from buf) to the vector *v of *n words. */
static berth_status_t push_word(char ***v, size_t *n, berth_buf_t *word)
{
  char **nv = realloc(*v, (*n + 2) * sizeof(**v));
  char *w;

  if (nv == NULL)
    return BERTH_ENOMEM;
  *v = nv;
  nv[*n] = NULL; /* terminated even if the copy below fails */
  w = berth_buf_detach(word);
  if (w == NULL)
    return BERTH_ENOMEM;
  nv[(*n)++] = w;
  nv[*n] = NULL;
  return BERTH_OK;
}

/* Read one quoted section starting after the opening quote q at *pp into
 * word; *pp ends after the closing quote. false when it is unterminated. */
static bool read_quoted(const char **pp, char q, berth_buf_t *word,
                        berth_status_t *st)
{
  const char *p = *pp;

  for (; *p != '\0' && *p != q && *st == BERTH_OK; p++) {
    if (q == '"' && *p == '\\' && p[1] != '\0' && strchr("\"\\$`", p[1]))
      p++;
    *st = berth_buf_append_byte(word, *p);
  }
  if (*p != q)
    return false;
  *pp = p + 1;
  return true;
}

berth_status_t peers_argv_split(const char *cmd, char ***out,
                                berth_error_t *err)
{
  berth_status_t st = BERTH_OK;
  berth_buf_t word;
  char **v = NULL;
  size_t n = 0;
  bool in_word = false;
  const char *p = cmd;

  berth_buf_init(&word);
  while (st == BERTH_OK) {
    if (*p == '\0' || *p == ' ' || *p == '\t' || *p == '\n') {
      if (in_word)
        st = push_word(&v, &n, &word);
      in_word = false;
      if (*p++ == '\0')
        break;
      continue;
    }
    in_word = true;
    if (*p == '\'' || *p == '"') {
      p++;
      if (!read_quoted(&p, p[-1], &word, &st) && st == BERTH_OK)
        st = berth_error_set(err, BERTH_EINVAL,
                             "hook command: unterminated %c quote", p[-1]);
      continue;
    }
    if (*p == '\\' && p[1] != '\0')
      p++;
    st = berth_buf_append_byte(&word, *p++);
  }
  if (st == BERTH_OK && n == 0)
    st = berth_error_set(err, BERTH_EINVAL, "hook command is empty");
  if (st == BERTH_OK)
    *out = v;
  else
    peers_argv_free(v);
  berth_buf_cleanup(&word);
  return st;
}
