/* SPDX-License-Identifier: Apache-2.0 */
/* berthctl: printers (aligned tables, JSON, YAML, names) and the small
 * formats kubectl uses (AGE, access modes, quantities). */
#include "ctl.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <yaml.h>

/* ---- tables -----------------------------------------------------------------
 */

/* kubectl's printers use a tabwriter with three spaces of padding. */
#define TABLE_GAP 3

typedef struct table_col {
  char *header;
  bool shown;
} table_col_t;

struct ctl_table {
  table_col_t *cols;
  size_t ncols;
  char **cells; /* rows * ncols, row-major */
  size_t nrows;
  size_t cap_rows;
  size_t next; /* the next cell of the last row */
  int gap;     /* spaces between columns */
  bool oom;
};

ctl_table_t *ctl_table_create(void)
{
  ctl_table_t *t = calloc(1, sizeof(ctl_table_t));

  if (t != NULL)
    t->gap = TABLE_GAP;
  return t;
}

void ctl_table_gap(ctl_table_t *t, int gap)
{
  t->gap = gap;
}

void ctl_table_destroy(ctl_table_t *t)
{
  size_t i;

  if (t == NULL)
    return;
  for (i = 0; i < t->ncols; i++)
    free(t->cols[i].header);
  for (i = 0; i < t->nrows * t->ncols; i++)
    free(t->cells[i]);
  free(t->cols);
  free(t->cells);
  free(t);
}

void ctl_table_column(ctl_table_t *t, const char *header, bool shown)
{
  table_col_t *cols;

  if (t->nrows > 0) /* columns come first */
    return;
  cols = realloc(t->cols, (t->ncols + 1) * sizeof(*cols));
  if (cols == NULL) {
    t->oom = true;
    return;
  }
  t->cols = cols;
  t->cols[t->ncols].header = strdup(header);
  t->cols[t->ncols].shown = shown;
  t->ncols++;
}

void ctl_table_row(ctl_table_t *t)
{
  char **cells;
  size_t cap;

  if (t->nrows == t->cap_rows) {
    cap = t->cap_rows ? t->cap_rows * 2 : 16;
    cells = realloc(t->cells, cap * t->ncols * sizeof(*cells));
    if (cells == NULL) {
      t->oom = true;
      return;
    }
    t->cells = cells;
    t->cap_rows = cap;
  }
  memset(t->cells + t->nrows * t->ncols, 0, t->ncols * sizeof(char *));
  t->nrows++;
  t->next = 0;
}

void ctl_table_cell(ctl_table_t *t, const char *text)
{
  char *copy;
  char *p;

  if (t->nrows == 0 || t->next >= t->ncols)
    return;
  /* As kubectl: a missing value is "<none>", an empty one stays empty. */
  copy = strdup(text != NULL ? text : "<none>");
  /* A cell is one line: tabs and line breaks from the API would break the
   * alignment. */
  for (p = copy; p != NULL && *p != '\0'; p++) {
    if (*p == '\n' || *p == '\t' || *p == '\r')
      *p = ' ';
  }
  t->cells[(t->nrows - 1) * t->ncols + t->next++] = copy;
}

void ctl_table_cellf(ctl_table_t *t, const char *fmt, ...)
{
  va_list ap;
  char buf[1024];

  va_start(ap, fmt);
  vsnprintf(buf, sizeof(buf), fmt, ap);
  va_end(ap);
  ctl_table_cell(t, buf);
}

size_t ctl_table_rows(const ctl_table_t *t)
{
  return t->nrows;
}

/* The display width of a UTF-8 string: code points, not bytes (good
 * enough for names, paths and messages; kubectl counts runes too). */
static size_t text_width(const char *s)
{
  size_t n = 0;

  for (; s != NULL && *s != '\0'; s++) {
    if (((unsigned char)*s & 0xc0) != 0x80)
      n++;
  }
  return n;
}

void ctl_table_print(const ctl_table_t *t, FILE *out, bool headers)
{
  size_t *width = calloc(t->ncols ? t->ncols : 1, sizeof(size_t));
  size_t last = 0;
  size_t r;
  size_t c;

  if (width == NULL)
    return;
  for (c = 0; c < t->ncols; c++) {
    if (!t->cols[c].shown)
      continue;
    last = c;
    if (headers)
      width[c] = text_width(t->cols[c].header);
    for (r = 0; r < t->nrows; r++) {
      size_t w = text_width(t->cells[r * t->ncols + c]);

      if (w > width[c])
        width[c] = w;
    }
  }
  for (r = headers ? 0 : 1; r <= t->nrows; r++) {
    for (c = 0; c < t->ncols; c++) {
      const char *text;

      if (!t->cols[c].shown)
        continue;
      text = r == 0 ? t->cols[c].header : t->cells[(r - 1) * t->ncols + c];
      if (text == NULL)
        text = "<none>";
      fputs(text, out);
      if (c != last)
        fprintf(out, "%*s", (int)(width[c] - text_width(text) + (size_t)t->gap),
                "");
    }
    fputc('\n', out);
  }
  free(width);
}

/* ---- JSON and YAML
 * ------------------------------------------------------------ */

void ctl_print_json(FILE *out, const json_t *doc)
{
  json_dumpf(doc, out, JSON_INDENT(4) | JSON_PRESERVE_ORDER);
  fputc('\n', out);
}

/* true when YAML 1.1 (what kubectl's and most readers' resolvers speak)
 * would read the plain scalar s as something other than a string: it must
 * be quoted to stay a string. */
static bool yaml_needs_quotes(const char *s)
{
  static const char *const words[] = {
      "y",  "Y",    "yes",  "Yes",  "YES",   "n",     "N",     "no", "No",
      "NO", "true", "True", "TRUE", "false", "False", "FALSE", "on", "On",
      "ON", "off",  "Off",  "OFF",  "null",  "Null",  "NULL",  "~",  NULL,
  };
  const char *const *w;
  char *end;

  if (s[0] == '\0')
    return true;
  for (w = words; *w != NULL; w++) {
    if (strcmp(s, *w) == 0)
      return true;
  }
  /* Numbers in any form strtod reads (and 0x.., 0o.., .inf, .nan). */
  (void)strtod(s, &end);
  if (*end == '\0')
    return true;
  if (s[0] == '.' &&
      (strcasecmp(s + 1, "inf") == 0 || strcasecmp(s + 1, "nan") == 0))
    return true;
  /* Timestamps ("2026-01-02", "2026-01-02T03:04:05Z") and sexagesimal
   * numbers ("1:30"). */
  if (isdigit((unsigned char)s[0]) && strspn(s, "0123456789:-_.") == strlen(s))
    return true;
  if (strspn(s, "0123456789") == 4 && s[4] == '-')
    return true;
  return false;
}

static int yaml_scalar(yaml_emitter_t *em, const char *s, bool string)
{
  yaml_event_t ev;
  yaml_scalar_style_t style = YAML_ANY_SCALAR_STYLE;

  if (string && yaml_needs_quotes(s))
    style = YAML_DOUBLE_QUOTED_SCALAR_STYLE;
  if (!yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)s,
                                    (int)strlen(s), 1, 1, style))
    return 0;
  return yaml_emitter_emit(em, &ev);
}

static int yaml_value(yaml_emitter_t *em, const json_t *v, int depth)
{
  yaml_event_t ev;
  char num[64];
  const char *key;
  json_t *item;
  size_t i;

  if (depth > 64)
    return 0;
  switch (json_typeof(v)) {
  case JSON_OBJECT:
    if (!yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1,
                                             json_object_size(v) == 0
                                                 ? YAML_FLOW_MAPPING_STYLE
                                                 : YAML_BLOCK_MAPPING_STYLE) ||
        !yaml_emitter_emit(em, &ev))
      return 0;
    json_object_foreach((json_t *)v, key, item)
    {
      if (!yaml_scalar(em, key, true) || !yaml_value(em, item, depth + 1))
        return 0;
    }
    return yaml_mapping_end_event_initialize(&ev) && yaml_emitter_emit(em, &ev);
  case JSON_ARRAY:
    if (!yaml_sequence_start_event_initialize(
            &ev, NULL, NULL, 1,
            json_array_size(v) == 0 ? YAML_FLOW_SEQUENCE_STYLE
                                    : YAML_BLOCK_SEQUENCE_STYLE) ||
        !yaml_emitter_emit(em, &ev))
      return 0;
    json_array_foreach(v, i, item)
    {
      if (!yaml_value(em, item, depth + 1))
        return 0;
    }
    return yaml_sequence_end_event_initialize(&ev) &&
           yaml_emitter_emit(em, &ev);
  case JSON_STRING:
    return yaml_scalar(em, json_string_value(v), true);
  case JSON_INTEGER:
    snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    return yaml_scalar(em, num, false);
  case JSON_REAL:
    snprintf(num, sizeof(num), "%.17g", json_real_value(v));
    return yaml_scalar(em, num, false);
  case JSON_TRUE:
    return yaml_scalar(em, "true", false);
  case JSON_FALSE:
    return yaml_scalar(em, "false", false);
  case JSON_NULL:
  default:
    return yaml_scalar(em, "null", false);
  }
}

static int yaml_write(void *data, unsigned char *buffer, size_t size)
{
  return fwrite(buffer, 1, size, (FILE *)data) == size;
}

berth_status_t ctl_print_yaml(FILE *out, const json_t *doc)
{
  yaml_emitter_t em;
  yaml_event_t ev;
  int ok;

  if (!yaml_emitter_initialize(&em))
    return BERTH_ENOMEM;
  yaml_emitter_set_output(&em, yaml_write, out);
  yaml_emitter_set_unicode(&em, 1);
  yaml_emitter_set_width(&em, -1);
  yaml_emitter_set_indent(&em, 2);
  ok = yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING) &&
       yaml_emitter_emit(&em, &ev) &&
       yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1) &&
       yaml_emitter_emit(&em, &ev) && yaml_value(&em, doc, 0) &&
       yaml_document_end_event_initialize(&ev, 1) &&
       yaml_emitter_emit(&em, &ev) && yaml_stream_end_event_initialize(&ev) &&
       yaml_emitter_emit(&em, &ev);
  yaml_emitter_delete(&em);
  return ok ? BERTH_OK : BERTH_EIO;
}

int ctl_print_doc(ctl_ctx_t *ctx, const json_t *doc)
{
  if (ctx->opt->output == CTL_OUT_JSONPATH ||
      ctx->opt->output == CTL_OUT_CUSTOM_COLUMNS)
    return ctl_list_print_doc(ctx, doc);
  if (ctx->opt->output == CTL_OUT_YAML) {
    if (ctl_print_yaml(ctx->out, doc) != BERTH_OK)
      return ctl_fail(ctx, "could not write YAML");
  } else {
    ctl_print_json(ctx->out, doc);
  }
  return CTL_EXIT_OK;
}

/* ---- times
 * ------------------------------------------------------------------- */

int64_t ctl_time_parse(const char *ts)
{
  struct tm tm;
  const char *rest;
  int64_t t;
  int sign;
  int hh;
  int mm;

  if (ts == NULL)
    return -1;
  memset(&tm, 0, sizeof(tm));
  rest = strptime(ts, "%Y-%m-%dT%H:%M:%S", &tm);
  if (rest == NULL)
    return -1;
  t = (int64_t)timegm(&tm);
  if (*rest == '.') { /* fractional seconds: dropped */
    rest++;
    while (isdigit((unsigned char)*rest))
      rest++;
  }
  if (*rest == 'Z' || *rest == 'z')
    return rest[1] == '\0' ? t : -1;
  if ((*rest == '+' || *rest == '-') &&
      sscanf(rest + 1, "%2d:%2d", &hh, &mm) == 2) {
    sign = *rest == '+' ? 1 : -1;
    return t - sign * (int64_t)(hh * 3600 + mm * 60);
  }
  return -1;
}

/* k8s.io/apimachinery/pkg/util/duration.HumanDuration, which kubectl get
 * uses for AGE. */
void ctl_duration_human(int64_t s, char *out, size_t size)
{
  int64_t m = s / 60;
  int64_t h = s / 3600;
  int64_t d = h / 24;

  if (s < -1)
    snprintf(out, size, "<invalid>");
  else if (s < 0)
    snprintf(out, size, "0s");
  else if (s < 120)
    snprintf(out, size, "%llds", (long long)s);
  else if (m < 10 && s % 60 != 0)
    snprintf(out, size, "%lldm%llds", (long long)m, (long long)(s % 60));
  else if (m < 180)
    snprintf(out, size, "%lldm", (long long)m);
  else if (h < 8 && m % 60 != 0)
    snprintf(out, size, "%lldh%lldm", (long long)h, (long long)(m % 60));
  else if (h < 48)
    snprintf(out, size, "%lldh", (long long)h);
  else if (h < 24 * 8 && h % 24 != 0)
    snprintf(out, size, "%lldd%lldh", (long long)d, (long long)(h % 24));
  else if (h < 24 * 365 * 2)
    snprintf(out, size, "%lldd", (long long)d);
  else if (h < 24 * 365 * 8 && d % 365 != 0)
    snprintf(out, size, "%lldy%lldd", (long long)(d / 365),
             (long long)(d % 365));
  else
    snprintf(out, size, "%lldy", (long long)(d / 365));
}

void ctl_age(const ctl_ctx_t *ctx, const char *ts, char *out, size_t size)
{
  int64_t t = ctl_time_parse(ts);

  if (t < 0)
    snprintf(out, size, "<unknown>");
  else
    ctl_duration_human(ctx->now_s - t, out, size);
}

/* ---- sizes and quantities
 * ------------------------------------------------------ */

static const char *const iec[] = {"Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};

void ctl_bytes_human(uint64_t bytes, char *out, size_t size)
{
  double v = (double)bytes;
  size_t u = 0;

  if (bytes < 1024) {
    snprintf(out, size, bytes == 0 ? "0" : "%lluB", (unsigned long long)bytes);
    return;
  }
  v /= 1024;
  while (v >= 1024 && u + 1 < sizeof(iec) / sizeof(iec[0])) {
    v /= 1024;
    u++;
  }
  if (v < 10 && floor(v * 10) != floor(v) * 10)
    snprintf(out, size, "%.1f%s", floor(v * 10) / 10, iec[u]);
  else
    snprintf(out, size, "%.0f%s", floor(v), iec[u]);
}

void ctl_access_modes(const json_t *modes, char *out, size_t size)
{
  static const struct {
    const char *name;
    const char *abbrev;
  } abbrevs[] = {
      {"ReadWriteOnce", "RWO"},
      {"ReadOnlyMany", "ROX"},
      {"ReadWriteMany", "RWX"},
      {"ReadWriteOncePod", "RWOP"},
  };
  berth_buf_t b;
  json_t *m;
  size_t i;
  size_t k;

  berth_buf_init(&b);
  json_array_foreach(modes, i, m)
  {
    const char *name = json_string_value(m);
    const char *abbrev = name;

    if (name == NULL)
      continue;
    for (k = 0; k < sizeof(abbrevs) / sizeof(abbrevs[0]); k++) {
      if (strcmp(name, abbrevs[k].name) == 0)
        abbrev = abbrevs[k].abbrev;
    }
    berth_buf_appendf(&b, "%s%s", b.len ? "," : "", abbrev);
  }
  berth_strlcpy(out, berth_buf_str(&b), size);
  berth_buf_cleanup(&b);
}
