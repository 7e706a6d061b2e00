#!/usr/bin/env bash
# Two etcd-pki processes writing the same output folder take turns (FolderLocks, flock on the
# folder) instead of mixing their files: a writer waits while another holds the folder (seen in
# the kernel's lock table, /proc/locks, not guessed from a clock), and concurrent runs of
# cluster, issue --force and renew on one folder always leave a consistent PKI: every
# certificate with its own key and signed by the CA next to it.
source "$(dirname "$0")/lib.sh"
E="$ETCD_PKI"
IC="etcd-1=https://10.20.13.10:2380,etcd-2=https://10.20.13.11:2380,etcd-3=https://10.20.13.12:2380"

# waiter_on PATH: a "->" (blocked) line for PATH's inode in /proc/locks.
waiter_on() { grep -q -- "-> .*:$(stat -c %i "$1") " /proc/locks; }
# wait_until CMD...: polls CMD every 10 ms, at most 2000 times (a bound against a hang).
wait_until() {
  local i
  for ((i = 0; i < 2000; i++)); do "$@" && return 0; sleep 0.01; done
  return 1
}
# pair_ok CERT KEY: the certificate's public key is the key's.
pair_ok() { [ "$(openssl x509 -in "$1" -noout -pubkey 2>/dev/null)" = "$(openssl pkey -in "$2" -pubout 2>/dev/null)" ]; }

# ---- 1. a writer waits while another process holds the folder ----------------------------------
mkdir locked
mkfifo release
flock locked -c 'read -r _ <release' &
holder=$!
check "flock(1) holds the folder" wait_until bash -c '! flock -n locked true'
"$E" init-ca --out locked >"$RUN_DIR/held.out" 2>"$RUN_DIR/held.err" &
writer=$!
check "init-ca waits for the folder's lock (a blocked entry in /proc/locks)" wait_until waiter_on locked
expect_eq "nothing written while the lock is held" "" "$(ls -A locked)"
echo >release
wait "$holder"
wait "$writer"
expect_eq "init-ca exits 0 once the lock is released" 0 "$?"
check "then ca.pem and ca-key.pem are a pair" pair_ok locked/ca.pem locked/ca-key.pem
expect_eq "no temp files left" "" "$(ls -A locked | grep -v -x -e ca.pem -e ca-key.pem -e ca.csr)"

# The same for a cluster run into an existing folder, and for renew.
"$E" cluster --initial-cluster "$IC" --client root --out held >/dev/null 2>&1
expect_eq "a cluster to hold" 0 "$?"
before=$(dir_state held)
flock held -c 'read -r _ <release' &
holder=$!
wait_until bash -c '! flock -n held true'
"$E" cluster --initial-cluster "$IC" --client root --client ci --out held >/dev/null 2>"$RUN_DIR/held.err" &
writer=$!
check "cluster waits for the output folder's lock" wait_until waiter_on held
expect_eq "the folder is unchanged while it waits" "$before" "$(dir_state held)"
echo >release
wait "$holder"
wait "$writer"
expect_eq "cluster exits 0 once the lock is released" 0 "$?"
check "then clients/ci.pem exists" test -f held/clients/ci.pem

flock held/etcd-1 -c 'read -r _ <release' &
holder=$!
wait_until bash -c '! flock -n held/etcd-1 true'
old_serial=$(openssl x509 -in held/etcd-1/server.pem -noout -serial)
"$E" renew held/etcd-1/server.pem -d held >/dev/null 2>"$RUN_DIR/held.err" &
writer=$!
check "renew waits for the member folder's lock" wait_until waiter_on held/etcd-1
expect_eq "server.pem unchanged while renew waits" "$old_serial" "$(openssl x509 -in held/etcd-1/server.pem -noout -serial)"
echo >release
wait "$holder"
wait "$writer"
expect_eq "renew exits 0 once the lock is released" 0 "$?"
check "renewed: a new serial" test "$old_serial" != "$(openssl x509 -in held/etcd-1/server.pem -noout -serial)"

# ---- 2. concurrent runs on one folder leave a consistent PKI -------------------------------------
# consistent DIR LABEL: verify is clean and every leaf pairs with its key and chains to DIR/ca.
consistent() {
  local d=$1 l=$2 bad=0 c
  run "$E" verify "$d"
  expect_rc "$l: etcd-pki verify exits 0" 0
  for c in "$d"/etcd-*/server.pem "$d"/etcd-*/peer.pem "$d"/clients/*.pem; do
    [[ $c == *-key.pem || $c == "$d"/clients/ca.pem ]] && continue  # clients/ca.pem: the clients' trust file
    pair_ok "$c" "${c%.pem}-key.pem" || { bad=$((bad + 1)); echo "# $l: $c does not pair with its key"; }
    openssl verify -CAfile "$d/ca/ca.pem" "$c" >/dev/null 2>&1 || { bad=$((bad + 1)); echo "# $l: $c is not signed by $d/ca/ca.pem"; }
    cmp -s "$d/ca/ca.pem" "$(dirname "$c")/ca.pem" || [[ $c == "$d"/clients/* ]] || { bad=$((bad + 1)); echo "# $l: $(dirname "$c")/ca.pem is another CA"; }
  done
  expect_eq "$l: every certificate pairs with its key and the folder's CA" 0 "$bad"
  expect_eq "$l: no temp files left" "" "$(find "$d" -name '.*.tmp-*')"
}

# run_together N CMD...: N copies of CMD started at once (released by one FIFO write); prints
# how many exited non-zero.
run_together() {
  local n=$1 i pids=() failed=0
  shift
  mkfifo go
  for ((i = 0; i < n; i++)); do (read -r _ <go; exec "$@") >"$RUN_DIR/together.$i.out" 2>"$RUN_DIR/together.$i.err" & pids+=($!); done
  # Every reader must have opened the FIFO before the write, or a late one would block forever:
  # keep writing until all have exited their read (each write of a line wakes the readers).
  exec 4<>go
  for ((i = 0; i < n; i++)); do echo >&4; done
  for p in "${pids[@]}"; do wait "$p" || failed=$((failed + 1)); done
  exec 4>&-
  rm -f go
  echo "$failed"
}

expect_eq "4 cluster runs at once into a new folder: all exit 0" 0 \
  "$(run_together 4 "$E" cluster --initial-cluster "$IC" --client root --out fresh)"
consistent fresh "4 concurrent first runs"

expect_eq "4 cluster --force runs at once (each makes a new CA): all exit 0" 0 \
  "$(run_together 4 "$E" cluster --initial-cluster "$IC" --client root --out fresh --force)"
consistent fresh "4 concurrent --force runs"

expect_eq "3 renews of every leaf at once: all exit 0" 0 "$(run_together 3 "$E" renew fresh)"
consistent fresh "3 concurrent renews"

"$E" init-ca --out single >/dev/null 2>&1
echo '{"CN":"etcd-1","hosts":["10.20.13.10"]}' >m.json
expect_eq "6 issue --force runs of one name at once: all exit 0" 0 \
  "$(run_together 6 "$E" issue --profile server --ca single/ca.pem --ca-key single/ca-key.pem --out single -n same --force m.json)"
check "same.pem pairs with same-key.pem" pair_ok single/same.pem single/same-key.pem
check "same.pem is signed by the CA" openssl verify -CAfile single/ca.pem single/same.pem
serial=$(openssl x509 -in single/same.pem -noout -serial | sed 's/serial=//')
check "same.csr is the CSR of same.pem's key" test "$(openssl req -in single/same.csr -noout -pubkey)" = "$(openssl x509 -in single/same.pem -noout -pubkey)"
expect_eq "the CA index holds all 6 issued serials" 6 "$(grep -c '^V' single/ca-index.txt)"
check "the index holds the final serial" grep -q "$serial" single/ca-index.txt
