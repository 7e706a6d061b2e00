#!/usr/bin/env bash
# The bash completion, driven as bash-completion drives it: COMP_WORDS/COMP_CWORD set, _etcd_pki
# called, COMPREPLY checked. Commands and options come from the etcd-pki it is given, profile names
# from the --config file earlier on the line, files from the folder.
#   test_completion.sh ETCD_PKI COMPLETION_FILE   (ctest bash_completion: the build tree's;
#                                                  packaging/test_installed.sh: the installed ones)
set -euo pipefail
bin=$1 completion=$2
[ -r /usr/share/bash-completion/bash_completion ] || { echo "bash-completion is not installed (scripts/setup.sh --test)"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# bash_completion reads these unset-guarded variables; it is not written for set -u.
set +u
# shellcheck disable=SC1091
. /usr/share/bash-completion/bash_completion
# shellcheck disable=SC1090
. "$completion"
# compopt works only inside a completion bash itself started; here it would print an error.
compopt() { builtin compopt "$@" 2>/dev/null || true; }
failures=0

# complete WORD... : completes the last word (empty string: a new word) of "etcd-pki WORD...".
complete_line() {
  COMP_WORDS=("$bin" "$@")
  COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
  COMP_LINE="${COMP_WORDS[*]}"
  COMP_POINT=${#COMP_LINE}
  COMPREPLY=()
  _etcd_pki
  printf '%s\n' "${COMPREPLY[@]}" | sort
}
expect() {  # expect "WANT (lines joined by spaces)" WORD...
  local want=$1; shift
  local got
  got=$(complete_line "$@" | tr '\n' ' ' | sed 's/ $//')
  if [ "$got" = "$want" ]; then
    echo "ok: etcd-pki $* -> $got"
  else
    echo "FAIL: etcd-pki $*"; echo "  want: $want"; echo "  got:  $got"
    failures=$((failures + 1))
  fi
}
contains() {  # contains WANT WORD...: WANT is one of the completions
  local want=$1; shift
  if complete_line "$@" | grep -qx -- "$want"; then
    echo "ok: etcd-pki $* -> ... $want ..."
  else
    echo "FAIL: etcd-pki $* does not offer $want: $(complete_line "$@" | tr '\n' ' ')"
    failures=$((failures + 1))
  fi
}

cat >"$work/ca-config.json" <<'JSON'
{"signing": {"default": {"expiry": "8760h", "usages": ["signing"]},
             "profiles": {"Etcd": {"expiry": "8760h", "usages": ["server auth", "client auth"]},
                          "peer-x": {"usages": ["server auth"], "profiles": {"nested": {}}},
                          "expiry": {"expiry": "1h"}}}}
JSON
mkdir "$work/pki"
touch "$work/pki/ca.pem" "$work/pki/ca-key.pem" "$work/etcd-csr.json"

# Commands: from etcd-pki --help.
expect "init-ca inspect issue" i
expect "renew repair revoke" re
contains cluster ""
contains version ""
# Options per command, from that command's --help.
expect "--layout" cluster --lay
contains --passphrase-file issue --pass
expect "--within" expiry --wi
contains --force init-ca -
# Values: profiles from the --config given earlier (both spellings), the built-ins without one.
expect "Etcd expiry peer-x" issue --config "$work/ca-config.json" --profile ""
expect "Etcd" sign -c "$work/ca-config.json" -p E
expect "Etcd" issue --config="$work/ca-config.json" --profile=E
expect "ca client default peer server" issue --profile ""
expect "Etcd" gencert -ca=ca.pem -config="$work/ca-config.json" -profile E
expect "Etcd" gencert -config "$work/ca-config.json" -profile=E
expect "-initca" gencert -ini
expect "-profile=" gencert -pro
expect "-bare" json -ba
expect "cfssl kubeadm" cluster --layout ""
expect "ecdsa ed25519 rsa" cluster --key-algo ""
expect "config csr list" print-defaults ""
# Files and folders.
expect "$work/pki/ca-key.pem $work/pki/ca.pem" inspect "$work/pki/ca"
expect "$work/pki" cluster --out "$work/p"
expect "$work/etcd-csr.json" issue --profile Etcd "$work/etcd"
# A value that is not a file: nothing offered.
expect "" issue --hostname ""

[ "$failures" -eq 0 ] || { echo "$failures completion check(s) failed"; exit 1; }
echo "bash completion: all checks passed"
