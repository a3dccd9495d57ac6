#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# berthctl's command line without any server: help on every command (with
# examples), exit statuses (0 done, 1 error, 2 usage), flags that do not
# belong to a command, attach/detach failing clearly without a cluster, and the
# bash and zsh completion scripts (bash: driven as the shell would; zsh:
# checked for syntax where zsh is installed).
#
#   test_berthctl_cli.sh BERTHCTL
set -u
B=$1
fail=0
n=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# t WANT-RC DESCRIPTION PATTERN -- ARGS...: run berthctl ARGS, want exit
# status WANT-RC and PATTERN (grep -E) in stdout+stderr.
t() {
  want=$1 what=$2 pattern=$3
  shift 4
  n=$((n + 1))
  "$B" "$@" >"$tmp/out" 2>&1 </dev/null
  rc=$?
  if [ "$rc" -ne "$want" ]; then
    echo "FAIL: $what: berthctl $*: exit $rc, want $want"; sed 's/^/  | /' "$tmp/out"; fail=1
  elif [ -n "$pattern" ] && ! grep -Eq -- "$pattern" "$tmp/out"; then
    echo "FAIL: $what: berthctl $*: no /$pattern/ in:"; sed 's/^/  | /' "$tmp/out"; fail=1
  fi
  if grep -Eq 'runtime error:|Sanitizer' "$tmp/out"; then
    echo "FAIL: $what: sanitizer report"; cat "$tmp/out"; fail=1
  fi
}

# No cluster anywhere: commands that need one must say so, not hang.
export KUBECONFIG="$tmp/none"
unset KUBERNETES_SERVICE_HOST KUBERNETES_SERVICE_PORT
export HOME="$tmp"

t 0 "help" '^Usage: berthctl COMMAND' -- --help
t 2 "no command" '^Usage: berthctl COMMAND' --
t 0 "version flag" '^berthctl [0-9]+\.[0-9]+\.[0-9]+ \(commit [0-9a-z-]+\)$' -- --version
t 0 "version" 'backends: nfs, ebs, efs$' -- version
t 0 "version json" '"berthctl": "[0-9.]+"' -- version -o json
t 0 "options" '--kubeconfig FILE' -- options
for c in claims volumes describe orphans provision delete attach detach peers \
         doctor version completion options help; do
  t 0 "$c --help" "^Usage: berthctl $c" -- "$c" --help
  t 0 "help $c" "^Usage: berthctl $c" -- help "$c"
done
for c in claims volumes describe orphans provision delete attach detach peers \
         doctor completion; do
  t 0 "$c --help has examples" '^Examples?:' -- "$c" --help
done
t 0 "alias" '^Usage: berthctl claims' -- pvc --help
t 2 "unknown command" 'unknown command "clams".*|Did you mean' -- clams
t 2 "did you mean" 'Did you mean this' -- clams
t 2 "unknown flag" 'unknown flag: --nope' -- claims --nope
t 2 "flag of another command" "flag --delete does not apply to 'claims'" -- claims --delete
t 2 "attach --node empty" 'attach needs --node NODE' -- attach pvc-1 --node ""
t 2 "attach has no --force" "flag --force does not apply to 'attach'" -- attach pvc-1 --node n --force
t 0 "detach --force help" 'force the detach' -- detach --help
t 2 "bad jsonpath" 'jsonpath' -- claims -o 'jsonpath={.items['
t 2 "bad custom-columns" 'unable to match a printer' -- claims -o custom-columns=
t 2 "bad output" 'allowed formats are: custom-columns,json,jsonpath,name,table,wide,yaml' -- claims -o xml
t 2 "missing value" 'flag needs an argument' -- claims -n
t 2 "bad duration" 'is not a duration' -- orphans --min-age soon
t 2 "NaN duration" 'min-age.*is not a duration' -- orphans --min-age nanms
t 2 "huge duration" 'min-age' -- orphans --min-age 1e300s
t 2 "huge timeout" 'request-timeout' -- claims --request-timeout 1e300
t 2 "bad provisioner" 'wants NAME=BACKEND' -- claims --provisioner berth.io/nfs
t 2 "yes without delete" 'go with --delete' -- orphans --yes
t 2 "describe without type" 'needs what to describe' -- describe
t 2 "describe bad type" "unknown type 'pod'" -- describe pod x
t 2 "delete without volume" 'needs one VOLUME' -- delete
t 2 "attach without node" 'needs --node' -- attach pvc-1
t 1 "attach" 'cannot load the Kubernetes configuration' -- attach pvc-1 --node n1
t 1 "detach" 'cannot load the Kubernetes configuration' -- detach pvc-1 --node n1 --force
t 2 "completion without shell" 'bash or zsh' -- completion
t 1 "no kubeconfig" 'fix: point berthctl at a cluster' -- claims
t 1 "doctor, no kubeconfig" '^fail  kubeconfig' -- doctor
t 2 "unknown backend" "unknown backend 'tape'" -- volumes --provisioner x=tape

# bash completion, driven as bash drives it.
n=$((n + 1))
"$B" completion bash >"$tmp/c.bash" || { echo "FAIL: completion bash"; fail=1; }
cat >"$tmp/drive.bash" <<EOT
source "$tmp/c.bash"
c() { COMP_WORDS=("\$@"); COMP_CWORD=\$((\${#COMP_WORDS[@]} - 1)); _berthctl; echo "\${COMPREPLY[*]}"; }
[ "\$(c berthctl cl)" = "claims" ] || echo "bad: commands: \$(c berthctl cl)"
[ "\$(c berthctl claims --all)" = "--all-namespaces" ] || echo "bad: flags: \$(c berthctl claims --all)"
[ "\$(c berthctl pvc --no-h)" = "--no-headers" ] || echo "bad: alias flags: \$(c berthctl pvc --no-h)"
[ "\$(c berthctl claims -o '')" = "table wide json yaml name jsonpath= custom-columns=" ] || echo "bad: -o: \$(c berthctl claims -o '')"
[ "\$(c berthctl -n ns describe '')" = "claim volume" ] || echo "bad: describe: \$(c berthctl -n ns describe '')"
[ "\$(c berthctl --context x orph)" = "orphans" ] || echo "bad: after a flag: \$(c berthctl --context x orph)"
[ "\$(c berthctl completion '')" = "bash zsh" ] || echo "bad: completion: \$(c berthctl completion '')"
[ "\$(c berthctl orphans --d)" = "--delete --dry-run" ] || echo "bad: orphans flags: \$(c berthctl orphans --d)"
[ "\$(c berthctl peers web --ren)" = "--render" ] || echo "bad: peers flags"
[ "\$(c berthctl peers web --render z)" = "zookeeper" ] || echo "bad: --render"
EOT
out=$(bash "$tmp/drive.bash" 2>&1)
if [ -n "$out" ]; then echo "FAIL: bash completion:"; echo "$out"; fail=1; fi

# zsh: the script parses and registers in a real zsh (scripts/setup
# installs zsh: without it the test fails, it does not shrink).
n=$((n + 1))
"$B" completion zsh >"$tmp/_berthctl" || { echo "FAIL: completion zsh"; fail=1; }
head -1 "$tmp/_berthctl" | grep -q '^#compdef berthctl$' || { echo "FAIL: zsh: no #compdef"; fail=1; }
if ! command -v zsh >/dev/null 2>&1; then
  echo "FAIL: zsh is not installed (scripts/setup installs it)"; fail=1
else
  zsh -n "$tmp/_berthctl" || { echo "FAIL: zsh -n"; fail=1; }
  # Load it into a real zsh with compinit and ask for the commands.
  out=$(HOME="$tmp" zsh -f -c "
    autoload -U compinit && compinit -u -d '$tmp/zcompdump'
    source '$tmp/_berthctl'
    [[ \${_comps[berthctl]} == _berthctl ]] && echo registered" 2>&1)
  [ "$out" = "registered" ] || { echo "FAIL: zsh: not registered: $out"; fail=1; }
fi

if [ "$fail" -eq 0 ]; then
  echo "$n passed, 0 failed"
fi
exit "$fail"
