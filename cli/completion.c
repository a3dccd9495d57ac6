/* SPDX-License-Identifier: Apache-2.0 */
/* berthctl completion bash|zsh: shell completion, generated from the same
 * command and flag tables that parse the command line, so that it cannot
 * drift from them. Names (claims, volumes, classes, namespaces, contexts)
 * are completed by asking berthctl and kubectl at the time of the TAB.
 *
 *   source <(berthctl completion bash)      # in ~/.bashrc
 *   source <(berthctl completion zsh)       # in ~/.zshrc, after compinit */
#include "ctl.h"

#include <string.h>

/* "a b c" of a NULL-terminated list. */
static void words(FILE *out, const char *const *list, const char *prefix)
{
  size_t i;

  for (i = 0; list[i] != NULL; i++)
    fprintf(out, "%s%s%s", i ? " " : "", prefix, list[i]);
}

static void command_names(FILE *out)
{
  const ctl_command_t *c;
  bool first = true;

  for (c = ctl_commands; c->name != NULL; c++) {
    fprintf(out, "%s%s", first ? "" : " ", c->name);
    first = false;
  }
}

/* Shell code shared by both: which flags take a value, the command's
 * flags, and names from the cluster. Plain POSIX-ish functions that bash
 * and zsh both run. */
static void common(FILE *out, const char *fn)
{
  const ctl_command_t *c;

  const char *const *vf = ctl_options_value_flags();
  size_t i;

  fprintf(out, "%s_value_flag() {\n  case \"$1\" in\n    ", fn);
  for (i = 0; vf[i] != NULL; i++)
    fprintf(out, "%s%s", i ? "|" : "", vf[i]);
  fprintf(out, ") return 0;;\n  esac\n  return 1\n}\n");
  fprintf(out, "%s_flags() {\n  case \"$1\" in\n", fn);
  for (c = ctl_commands; c->name != NULL; c++) {
    const char *a;

    fprintf(out, "    %s%s", c->name, c->aliases ? "|" : "");
    for (a = c->aliases; a != NULL && *a != '\0'; a++)
      fputc(*a == ',' ? '|' : *a, out);
    fprintf(out, ") echo \"");
    words(out, ctl_options_flag_names(c->flags, true), "--");
    fprintf(out, "\";;\n");
  }
  fprintf(out, "    *) echo \"");
  words(out, ctl_options_flag_names(0, true), "--");
  fprintf(out, "\";;\n  esac\n}\n");
  fprintf(out,
          "%s_names() {\n"
          "  # $1: claims|volumes|classes|namespaces|contexts\n"
          "  case \"$1\" in\n"
          "    claims|volumes) berthctl \"$1\" -o name --no-usage "
          "2>/dev/null | sed 's|^[^/]*/||';;\n"
          "    classes) kubectl get storageclass -o name 2>/dev/null | "
          "sed 's|^[^/]*/||';;\n"
          "    namespaces) kubectl get namespace -o name 2>/dev/null | "
          "sed 's|^[^/]*/||';;\n"
          "    contexts) kubectl config get-contexts -o name "
          "2>/dev/null;;\n"
          "  esac\n}\n",
          fn);
}

/* The case over the previous word (a flag's value) and over the
 * command's arguments, as shell text; REPLY_WORDS and REPLY_FILES are
 * the shell-specific ways to answer. */
static void body(FILE *out, const char *fn, const char *reply_words,
                 const char *reply_files)
{
  fprintf(out,
          "  case \"$prev\" in\n"
          "    -o|--output) %s \"table wide json yaml name jsonpath= "
          "custom-columns=\"; return;;\n"
          "    --kubeconfig) %s; return;;\n"
          "    -n|--namespace) %s \"$(%s_names namespaces)\"; return;;\n"
          "    --context) %s \"$(%s_names contexts)\"; return;;\n"
          "    --class) %s \"$(%s_names classes)\"; return;;\n"
          "    --access-mode) %s \"ReadWriteOnce ReadOnlyMany ReadWriteMany "
          "ReadWriteOncePod\"; return;;\n"
          "    --render) %s \"zookeeper etcd mongo cassandra elasticsearch "
          "json lines\"; return;;\n"
          "    --provisioner) %s \"\"; return;;\n"
          "  esac\n",
          reply_words, reply_files, reply_words, fn, reply_words, fn,
          reply_words, fn, reply_words, reply_words, reply_words);
  fprintf(out,
          "  if [ -z \"$cmd\" ]; then\n"
          "    case \"$cur\" in\n"
          "      -*) %s \"$(%s_flags '')\";;\n"
          "      *) %s \"",
          reply_words, fn, reply_words);
  command_names(out);
  fprintf(out,
          "\";;\n"
          "    esac\n"
          "    return\n"
          "  fi\n"
          "  case \"$cur\" in\n"
          "    -*) %s \"$(%s_flags \"$cmd\")\"; return;;\n"
          "  esac\n"
          "  case \"$cmd\" in\n"
          "    describe)\n"
          "      case \"$nargs\" in\n"
          "        0) %s \"claim volume\";;\n"
          "        *) case \"$arg1\" in\n"
          "             claim|claims|pvc) %s \"$(%s_names claims)\";;\n"
          "             *) %s \"$(%s_names volumes)\";;\n"
          "           esac;;\n"
          "      esac;;\n"
          "    delete|attach|detach) %s \"$(%s_names volumes)\";;\n"
          "    completion) %s \"bash zsh\";;\n"
          "    help) %s \"",
          reply_words, fn, reply_words, reply_words, fn, reply_words, fn,
          reply_words, fn, reply_words, reply_words);
  command_names(out);
  fprintf(out, "\";;\n  esac\n");
}

/* Walk the words before the cursor: the command, how many arguments it
 * has, its first argument. */
static void scan_words(FILE *out, const char *fn, const char *first,
                       const char *last)
{
  fprintf(out,
          "  local cmd='' nargs=0 arg1='' i=%s w skip=0\n"
          "  while [ \"$i\" -lt %s ]; do\n"
          "    w=\"${words[$i]}\"\n"
          "    if [ \"$skip\" = 1 ]; then skip=0\n"
          "    elif %s_value_flag \"$w\"; then skip=1\n"
          "    elif [ \"${w#-}\" != \"$w\" ]; then :\n"
          "    elif [ -z \"$cmd\" ]; then cmd=\"$w\"\n"
          "    else nargs=$((nargs + 1)); [ \"$nargs\" = 1 ] && arg1=\"$w\"\n"
          "    fi\n"
          "    i=$((i + 1))\n"
          "  done\n",
          first, last, fn);
}

static void bash_script(FILE *out)
{
  fprintf(out, "# bash completion for berthctl: source <(berthctl "
               "completion bash)\n");
  common(out, "__berthctl");
  fprintf(out, "__berthctl_reply() { local IFS=$' \\t\\n'; "
               "COMPREPLY=($(compgen -W \"$1\" -- \"$cur\")); }\n"
               "__berthctl_files() { COMPREPLY=($(compgen -f -- \"$cur\")); }\n"
               "_berthctl() {\n"
               "  local cur=\"${COMP_WORDS[COMP_CWORD]}\"\n"
               "  local prev=\"${COMP_WORDS[COMP_CWORD-1]}\"\n"
               "  local -a words=(\"${COMP_WORDS[@]}\")\n"
               "  COMPREPLY=()\n");
  scan_words(out, "__berthctl", "1", "$COMP_CWORD");
  body(out, "__berthctl", "__berthctl_reply", "__berthctl_files");
  fprintf(out, "}\ncomplete -F _berthctl berthctl\n");
}

static void zsh_script(FILE *out)
{
  fprintf(out, "#compdef berthctl\n"
               "# zsh completion for berthctl: source <(berthctl "
               "completion zsh) after compinit, or save as _berthctl in "
               "$fpath\n");
  common(out, "__berthctl");
  fprintf(out,
          "__berthctl_reply() { compadd -- ${=1}; }\n"
          "__berthctl_files() { _files; }\n"
          "_berthctl() {\n"
          "  local cur=\"${words[CURRENT]}\" prev=\"${words[CURRENT-1]}\"\n");
  /* zsh arrays count from 1: the command name is words[1]. */
  scan_words(out, "__berthctl", "2", "$CURRENT");
  body(out, "__berthctl", "__berthctl_reply", "__berthctl_files");
  fprintf(out, "}\n"
               "if [ \"$funcstack[1]\" = _berthctl ]; then\n"
               "  _berthctl \"$@\"\n"
               "else\n"
               "  compdef _berthctl berthctl\n"
               "fi\n");
}

int ctl_run_completion(ctl_ctx_t *ctx)
{
  const char *shell = ctx->opt->nargs == 1 ? ctx->opt->args[0] : NULL;

  if (shell != NULL && strcmp(shell, "bash") == 0)
    bash_script(ctx->out);
  else if (shell != NULL && strcmp(shell, "zsh") == 0)
    zsh_script(ctx->out);
  else
    return ctl_usage_error(ctx, "completion needs a shell: bash or zsh");
  return CTL_EXIT_OK;
}
