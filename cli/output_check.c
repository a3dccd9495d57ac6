/* SPDX-License-Identifier: Apache-2.0 */
/* berthctl: -o jsonpath=, -o custom-columns= and --sort-by checked when
 * the command line is parsed (a usage error, exit 2, before anything is
 * asked of the cluster), see ctl.h. Apart from listing.c so that the
 * options parser (and its fuzz target) needs only the JSONPath parser. */
#include "ctl.h"
#include "jsonpath.h"

#include <stdlib.h>
#include <string.h>

bool ctl_list_check_output(const ctl_options_t *opt, FILE *err)
{
  ctl_jsonpath_t *jp = NULL;
  char msg[256];
  char *spec;
  char *save = NULL;
  char *col;
  bool ok = true;

  if (opt->sort_by != NULL) {
    if (!ctl_jsonpath_parse_expr(opt->sort_by, &jp, msg, sizeof(msg))) {
      fprintf(err, "error: --sort-by %s: %s\n", opt->sort_by, msg);
      return false;
    }
    ctl_jsonpath_destroy(jp);
    jp = NULL; /* the parse below sets it only on success */
  }
  if (opt->output == CTL_OUT_JSONPATH) {
    ok = ctl_jsonpath_parse(opt->output_arg, &jp, msg, sizeof(msg));
    if (!ok)
      fprintf(err, "error: error parsing jsonpath %s: %s\n", opt->output_arg,
              msg);
    ctl_jsonpath_destroy(jp);
    return ok;
  }
  if (opt->output != CTL_OUT_CUSTOM_COLUMNS)
    return true;
  spec = strdup(opt->output_arg);
  if (spec == NULL)
    return false;
  for (col = strtok_r(spec, ",", &save); ok && col != NULL;
       col = strtok_r(NULL, ",", &save)) {
    char *colon = strchr(col, ':');

    if (colon == NULL || colon == col || colon[1] == '\0') {
      fprintf(err,
              "error: custom-columns format: expected HEADER:PATH pairs "
              "separated by ',', got \"%s\"\n",
              col);
      ok = false;
    } else if (!ctl_jsonpath_parse_expr(colon + 1, &jp, msg, sizeof(msg))) {
      fprintf(err, "error: custom-columns %s: %s\n", col, msg);
      ok = false;
    } else {
      ctl_jsonpath_destroy(jp);
    }
    jp = NULL;
  }
  free(spec);
  return ok;
}
