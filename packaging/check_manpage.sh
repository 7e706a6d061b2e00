#!/usr/bin/env bash
# etcd-pki(1) against the binary it documents: a section (.SS) for every command of etcd-pki --help,
# every option of every command's --help in the page, and man renders it without a warning.
#   check_manpage.sh ETCD_PKI PAGE(.1 or .1.gz)   (ctest manpage; packaging/test_installed.sh)
set -euo pipefail
bin=$1 page=$2
text=$(if [[ $page == *.gz ]]; then zcat "$page"; else cat "$page"; fi)
roff() { sed 's/-/\\-/g' <<<"$1"; }   # how the page spells a name: minus signs escaped
failures=0
commands=$("$bin" --help | awk '/^Subcommands:/ {s = 1; next} /^[^ ]/ {s = 0} s && /^  [a-z]/ {print $1}')
[ -n "$commands" ] || { echo "no commands in $bin --help"; exit 1; }
for cmd in $commands; do
  grep -qxF ".SS $(roff "$cmd")" <<<"$text" || { echo "no section for command $cmd"; failures=$((failures + 1)); }
  for opt in $("$bin" "$cmd" --help | awk '/^  +-/ { s = $1; n = split(s, p, ","); for (i = 1; i <= n; i++) print p[i] }'); do
    grep -qF -- "$(roff "$opt")" <<<"$text" || { echo "$cmd: option $opt is not in the page"; failures=$((failures + 1)); }
  done
done
warnings=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l "$page" 2>&1 >/dev/null || true)
[ -z "$warnings" ] || { echo "man --warnings:"; echo "$warnings"; failures=$((failures + 1)); }
[ "$failures" -eq 0 ] || exit 1
echo "man page: $(wc -w <<<"$commands") command sections, every --help option present, no man warnings"
