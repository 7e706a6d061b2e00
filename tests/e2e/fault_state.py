#!/usr/bin/env python3
"""Folder states for tests/e2e/test_faults.sh (stdlib only; openssl and etcd-pki as subprocesses).

  snapshot DIR > SNAP.json
      Every visible path under DIR (regular files and symlinks, skipping the hidden `.etcd-pki/`
      generation folders renew keeps; a symlink is followed): content hash and mode.
  spec CLEAN1 CLEAN2 [--before SNAP] > SPEC.json
      What a complete new state looks like, from two clean runs of the same command on the same
      before-folder: the visible paths and modes, which files are deterministic (the same bytes in
      both runs), which files both runs replaced (those must not keep the before-folder's bytes),
      each member's MANIFEST file list, the initial-cluster line, the CA index's entries without
      serials and dates.
  same SNAP DIR                     DIR is byte-identical to the snapshot.
  complete SPEC DIR --verify-rc N   DIR is a complete new state.
  either SNAP SPEC DIR --verify-rc N
      One of the two (after `repair` following a SIGKILL).
  leftovers DIR                     No journal or temp file anywhere under DIR.

The check commands exit 0 when the state is good, 1 otherwise, and print one line per problem
(the first few). Every check command also looks for leftovers (the journal `.etcd-pki-journal`,
temp files `.NAME.tmp-XXXXXXXXXXXX`) under DIR and, with --scan D, under D too.
Certificates, keys and CRLs are parsed with one `openssl storeutl -text` over all of them
(concatenated after checking that each file is exactly one PEM block), CSRs with `openssl req`.
`complete` runs `$ETCD_PKI verify DIR`.
"""
import argparse
import base64
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile

JOURNAL = ".etcd-pki-journal"
TMP_RE = re.compile(r"\.tmp-")
HIDDEN_GEN = ".etcd-pki"
MAX_PROBLEMS = 6


# ---- snapshots ------------------------------------------------------------------------------------
def _read(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return None


def snapshot(root):
    """{'exists': bool, 'paths': {rel: {'sha': hex|None, 'mode': int|None, 'link': bool}}}
    (the journal and temp files are not paths here: leftovers() reports them)"""
    snap = {"exists": os.path.isdir(root), "paths": {}}
    if not snap["exists"]:
        return snap
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d != HIDDEN_GEN)
        # a symlink to a folder is listed in dirnames; os.walk does not follow it: a visible path
        for name in sorted(filenames + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]):
            if name == JOURNAL or TMP_RE.search(name):
                continue  # reported by leftovers()
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, root)
            is_link = os.path.islink(full)
            if not is_link and not os.path.isfile(full):
                continue
            data = _read(full) if os.path.isfile(full) else None
            try:
                mode = os.stat(full).st_mode & 0o7777
            except OSError:
                mode = None  # dangling symlink
            snap["paths"][rel] = {"sha": hashlib.sha256(data).hexdigest() if data is not None else None,
                                  "mode": mode, "link": is_link}
    return snap


def leftovers(root):
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        for name in filenames + dirnames:
            if name == JOURNAL or TMP_RE.search(name):
                found.append(os.path.relpath(os.path.join(dirpath, name), root))
    return sorted(found)


def diff_same(before, root):
    """Problems making DIR differ from the before-snapshot."""
    now = snapshot(root)
    problems = []
    if not before["exists"] and now["exists"] and now["paths"]:
        problems.append(f"{root} did not exist before; now holds {len(now['paths'])} file(s)")
        return problems
    if before["exists"] and not now["exists"]:
        return [f"{root} is gone"]
    b, n = before["paths"], now["paths"]
    problems += path_set_problems(b, n, "gone", "new path(s)")
    changed = [p for p in sorted(set(b) & set(n)) if b[p]["sha"] != n[p]["sha"]]
    if changed:
        problems.append(f"{len(changed)} path(s) with other content: " + " ".join(changed[:5]))
    modes = [f"{p} {oct(b[p]['mode'] or 0)[2:]}->{oct(n[p]['mode'] or 0)[2:]}"
             for p in sorted(set(b) & set(n)) if b[p]["mode"] != n[p]["mode"] and p not in changed]
    if modes:
        problems.append("mode changed: " + " ".join(modes[:5]))
    return problems


# ---- file kinds ------------------------------------------------------------------------------------
def kind_of(rel):
    name = os.path.basename(rel)
    if name == "MANIFEST":
        return "manifest"
    if name == "ca-index.txt":
        return "index"
    if name == "ca.crl":
        return "crl-der"
    if name.endswith("-crl.pem"):
        return "crl"
    if name.endswith("-key.pem"):
        return "key"
    if name.endswith(".pem"):
        return "cert"
    if name.endswith(".csr"):
        return "csr"
    return "other"


PEM_LABELS = {"cert": ("CERTIFICATE",), "crl": ("X509 CRL",),
              "key": ("PRIVATE KEY", "EC PRIVATE KEY", "RSA PRIVATE KEY", "ENCRYPTED PRIVATE KEY"),
              "csr": ("CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST")}
PEM_RE = re.compile(rb"\A-----BEGIN ([A-Z0-9 ]+)-----\r?\n([A-Za-z0-9+/=\r\n]+?)-----END \1-----\r?\n\Z")


def pem_block(data, kind):
    """(der, problem): the file must be exactly one PEM block with a label for its kind."""
    if data is None:
        return None, "unreadable"
    if not data:
        return None, "empty"
    m = PEM_RE.match(data)
    if not m:
        return None, "not exactly one complete PEM block"
    if m.group(1).decode() not in PEM_LABELS[kind]:
        return None, f"PEM label {m.group(1).decode()}"
    try:
        return base64.b64decode(m.group(2), validate=False), None
    except ValueError:
        return None, "bad base64"


# ---- openssl ----------------------------------------------------------------------------------------
OBJ_RE = re.compile(r"^(\d+): (Certificate|Pkey|CRL|Name|Params|Public key|PUBKEY)\s*$")


def _hex_after(lines, i):
    """The colon-hex block on the lines after lines[i] (openssl -text), as bytes."""
    out = []
    for line in lines[i + 1:]:
        s = line.strip()
        if not re.fullmatch(r"[0-9a-fA-F]{2}(:[0-9a-fA-F]{2})*:?", s):
            break
        out.append(s.rstrip(":"))
    return bytes.fromhex(":".join(out).replace(":", "")) if out else None


def parse_objects(text):
    """storeutl -text output -> [{'type', 'pub', 'serial', 'revoked'}]"""
    objs, cur = [], None
    lines = text.splitlines()
    for i, line in enumerate(lines):
        m = OBJ_RE.match(line)
        if m:
            cur = {"type": m.group(2), "pub": None, "serial": None, "revoked": []}
            objs.append(cur)
            continue
        if cur is None:
            continue
        s = line.strip()
        if cur["pub"] is None and s.lower() in ("pub:", "modulus:"):
            cur["pub"] = _hex_after(lines, i)
        if cur["type"] == "Certificate" and cur["serial"] is None and s.startswith("Serial Number:"):
            rest = s[len("Serial Number:"):].strip()
            small = re.search(r"\(0x([0-9a-fA-F]+)\)", rest)
            if small:
                cur["serial"] = int(small.group(1), 16)
            elif rest:
                cur["serial"] = int(rest.replace(":", ""), 16)
            else:
                h = _hex_after(lines, i)
                cur["serial"] = int.from_bytes(h, "big") if h else None
        if cur["type"] == "CRL" and s.startswith("Serial Number:"):
            cur["revoked"].append(int(s[len("Serial Number:"):].strip().replace(":", ""), 16))
    return objs


def openssl_objects(files):
    """Parse the PEM files (each already checked to be one block) with one storeutl run."""
    if not files:
        return [], None
    with tempfile.NamedTemporaryFile("wb", suffix=".pem", delete=False) as t:
        for f in files:
            t.write(_read(f))
        name = t.name
    try:
        p = subprocess.run(["openssl", "storeutl", "-noout", "-text", name], capture_output=True, text=True)
    finally:
        os.unlink(name)
    objs = parse_objects(p.stdout)
    if p.returncode != 0 or len(objs) != len(files):
        bad = files[len(objs)] if len(objs) < len(files) else "?"
        return objs, f"openssl cannot parse {bad} (storeutl exit {p.returncode}, {len(objs)} of {len(files)} objects)"
    return objs, None


def csr_ok(path):
    return subprocess.run(["openssl", "req", "-noout", "-in", path], capture_output=True).returncode == 0


# ---- spec from two clean runs --------------------------------------------------------------------
def index_entries(data):
    """The CA index (openssl ca format) without serials and dates: sorted [status reason subject]."""
    out = []
    for line in (data or b"").decode(errors="replace").splitlines():
        if not line.strip():
            continue
        cols = line.split("\t")
        reason = cols[2].split(",", 1)[1] if len(cols) > 2 and "," in cols[2] else ""
        out.append(" ".join([cols[0], reason, cols[-1]]))
    return sorted(out)


def index_serials(data):
    """{serial int: status}"""
    res = {}
    for line in (data or b"").decode(errors="replace").splitlines():
        cols = line.split("\t")
        if len(cols) >= 4 and cols[3]:
            try:
                res[int(cols[3], 16)] = cols[0]
            except ValueError:
                pass
    return res


def manifest_lines(data):
    """[(rel, hex)] from a MANIFEST: `REL  sha256:HEX ...`, comments skipped."""
    out = []
    for line in (data or b"").decode(errors="replace").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split()
        hexpart = parts[1][len("sha256:"):] if len(parts) > 1 and parts[1].startswith("sha256:") else ""
        out.append((parts[0], hexpart.lower()))
    return out


def initial_cluster(data):
    m = re.search(rb"^initial-cluster:.*$", data or b"", re.M)
    return m.group(0).decode() if m else None


def make_spec(dir1, dir2, before=None):
    s1, s2 = snapshot(dir1), snapshot(dir2)
    old = (before or {}).get("paths", {})
    if set(s1["paths"]) != set(s2["paths"]):
        sys.exit(f"the two clean runs differ in their paths: {sorted(set(s1['paths']) ^ set(s2['paths']))}")
    spec = {"paths": {}, "manifests": {}, "initial_cluster": {}, "index": None}
    for rel, e in sorted(s1["paths"].items()):
        # the CA index holds dates to the second: checked by its entries, never byte for byte
        det = e["sha"] == s2["paths"][rel]["sha"] and kind_of(rel) not in ("index", "crl", "crl-der")
        # new: both clean runs replaced what the before-folder held there, so must every run
        new = rel in old and old[rel]["sha"] not in (e["sha"], s2["paths"][rel]["sha"])
        spec["paths"][rel] = {"mode": e["mode"], "kind": kind_of(rel),
                              "sha": e["sha"] if det else None,
                              "old_sha": old[rel]["sha"] if new else None}
        data = _read(os.path.join(dir1, rel))
        k = kind_of(rel)
        if k == "manifest":
            spec["manifests"][rel] = [r for r, _ in manifest_lines(data)]
        elif k == "index":
            spec["index"] = rel
            spec["index_entries"] = index_entries(data)
        elif os.path.basename(rel) == "etcd.conf.yml":
            spec["initial_cluster"][rel] = initial_cluster(data)
    return spec


def path_set_problems(want, have, missing_word, extra_words):
    """The paths of `want` not in `have`, and those of `have` not in `want`, in one line each."""
    problems = []
    missing = sorted(set(want) - set(have))
    extra = sorted(set(have) - set(want))
    if missing:
        problems.append(f"{len(missing)} path(s) {missing_word}: " + " ".join(missing[:5]))
    if extra:
        problems.append(f"{len(extra)} {extra_words}: " + " ".join(extra[:5]))
    return problems


# ---- the complete-state check --------------------------------------------------------------------
def check_complete(spec, root, verify_rc):
    problems = []
    now = snapshot(root)
    paths = now["paths"]
    want = spec["paths"]
    problems += path_set_problems(want, paths, "missing", "path(s) the clean run does not have")
    pem_files = []
    for rel in sorted(set(want) & set(paths)):
        w, e = want[rel], paths[rel]
        full = os.path.join(root, rel)
        if e["sha"] is None:
            problems.append(f"{rel}: unreadable (dangling symlink?)")
            continue
        if w["mode"] != e["mode"]:
            problems.append(f"{rel}: mode {oct(e['mode'] or 0)[2:]}, clean run {oct(w['mode'])[2:]}")
        if w.get("old_sha") and w["old_sha"] == e["sha"]:
            problems.append(f"{rel}: still the content from before (the clean runs replace it)")
        if w["sha"] is not None:
            if w["sha"] != e["sha"]:
                problems.append(f"{rel}: content differs from the clean run's")
            continue
        k = w["kind"]
        data = _read(full)
        if k in ("cert", "key", "crl"):
            _, p = pem_block(data, k)
            if p:
                problems.append(f"{rel}: {p}")
            else:
                pem_files.append(rel)
        elif k == "csr":
            _, p = pem_block(data, k)
            if p or not csr_ok(full):
                problems.append(f"{rel}: {p or 'openssl req cannot parse it'}")
        elif k == "crl-der":
            if not data:
                problems.append(f"{rel}: empty")
        elif k == "other":
            problems.append(f"{rel}: differs between the clean runs yet has no check (harness)")
    # certificates and keys with their pair, CRL serials
    # a new certificate is checked against its key and the other way round, even when the other
    # one is unchanged (then it was not in pem_files; it must still be one PEM block)
    need = set(pem_files)
    for rel in pem_files:
        other = pair_of(rel)
        if other and other in paths and other not in need and pem_block(_read(os.path.join(root, other)), kind_of(other))[1] is None:
            need.add(other)
    need = sorted(need)
    by_rel = {}
    objs, p = openssl_objects([os.path.join(root, r) for r in need])
    if p:
        problems.append(p.replace(root + "/", ""))
    else:
        by_rel = dict(zip(need, objs))
    for rel, o in by_rel.items():
        k = kind_of(rel)
        expect = {"cert": "Certificate", "key": "Pkey", "crl": "CRL"}[k]
        if o["type"] != expect:
            problems.append(f"{rel}: openssl reads a {o['type']}, not a {expect}")
        if k == "cert":
            key = pair_of(rel)
            if key in by_rel and (o["pub"] is None or o["pub"] != by_rel[key]["pub"]):
                problems.append(f"{rel}: its key {os.path.basename(key)} is not the certificate's key")
    problems += check_ca_copies(root, paths)
    problems += check_manifests(spec, root, paths)
    problems += check_conf(spec, root)
    problems += check_index_crl(spec, root, paths, by_rel)
    rc = subprocess.run([os.environ.get("ETCD_PKI", "etcd-pki"), "verify", root], capture_output=True).returncode
    if verify_rc is not None and rc != verify_rc:
        problems.append(f"verify exits {rc}, after the clean run {verify_rc}")
    return problems


def pair_of(rel):
    """X.pem <-> X-key.pem in the same folder (None for other kinds)."""
    d, name = os.path.split(rel)
    if kind_of(rel) == "key":
        return os.path.join(d, name[:-len("-key.pem")] + ".pem")
    if kind_of(rel) == "cert":
        return os.path.join(d, name[:-len(".pem")] + "-key.pem")
    return None


def check_ca_copies(root, paths):
    """Every member's ca.pem is the CA's."""
    ca = paths.get(os.path.join("ca", "ca.pem"))
    if not ca:
        return []
    bad = [r for r in paths if os.path.basename(r) == "ca.pem" and paths[r]["sha"] != ca["sha"]]
    return [f"{len(bad)} ca.pem copies differ from ca/ca.pem: " + " ".join(sorted(bad)[:5])] if bad else []


def check_manifests(spec, root, paths):
    problems = []
    for rel, names in spec["manifests"].items():
        data = _read(os.path.join(root, rel))
        if data is None:
            continue
        member = os.path.dirname(rel)
        lines = manifest_lines(data)
        if sorted(r for r, _ in lines) != sorted(names):
            problems.append(f"{rel}: lists {sorted(r for r, _ in lines)}, the clean run's lists {sorted(names)}")
        for r, h in lines:
            f = os.path.join(member, r)
            if f not in paths or paths[f]["sha"] != h:
                problems.append(f"{rel}: {r} has sha256 {(paths.get(f) or {}).get('sha', 'none')[:12]}..., MANIFEST says {h[:12]}...")
    return problems


def check_conf(spec, root):
    problems = []
    for rel, line in spec["initial_cluster"].items():
        got = initial_cluster(_read(os.path.join(root, rel)))
        if got is not None and got != line:
            problems.append(f"{rel}: {got!r}, the clean run's {line!r}")
    return problems


def check_index_crl(spec, root, paths, by_rel):
    problems = []
    idx_rel = spec.get("index")
    if not idx_rel or idx_rel not in paths:
        return problems
    data = _read(os.path.join(root, idx_rel))
    if index_entries(data) != spec["index_entries"]:
        problems.append(f"{idx_rel}: entries (status, reason, subject) differ from the clean run's: "
                        f"{len(index_entries(data))} lines, clean {len(spec['index_entries'])}")
    serials = index_serials(data)
    for rel, o in by_rel.items():
        if o["type"] == "Certificate" and o["serial"] is not None and not rel.endswith("ca.pem") \
                and o["serial"] not in serials:
            problems.append(f"{rel}: serial {o['serial']:X} is not in {idx_rel}")
    der_rel = os.path.join(os.path.dirname(idx_rel), "ca.crl")
    pem_rel = os.path.join(os.path.dirname(idx_rel), "ca-crl.pem")
    if der_rel in spec["paths"] and der_rel in paths and pem_rel in paths:
        der = _read(os.path.join(root, der_rel))
        pem, p = pem_block(_read(os.path.join(root, pem_rel)), "crl")
        if p is None and pem != der:
            problems.append(f"{pem_rel} is not the same CRL as {der_rel}")
        crl = by_rel.get(pem_rel)
        if crl is None and pem == der and der:
            objs, p2 = openssl_objects([os.path.join(root, pem_rel)])
            crl = objs[0] if objs and not p2 else None
        if crl is None:
            if pem == der:
                problems.append(f"{der_rel}: openssl cannot read it")
        else:
            revoked = sorted(s for s, st in serials.items() if st == "R")
            if sorted(crl["revoked"]) != revoked:
                problems.append(f"{der_rel} lists {len(crl['revoked'])} serial(s), {idx_rel} marks {len(revoked)} R")
    return problems


# ---- main --------------------------------------------------------------------------------------------
def report(problems, root, scans):
    for d in [root] + scans:
        left = leftovers(d)
        if left:
            problems.append(f"left behind under {d}: " + " ".join(left[:5]))
    for p in problems[:MAX_PROBLEMS]:
        print(p)
    if len(problems) > MAX_PROBLEMS:
        print(f"... and {len(problems) - MAX_PROBLEMS} more")
    return 1 if problems else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("snapshot"); p.add_argument("dir")
    p = sub.add_parser("spec"); p.add_argument("clean1"); p.add_argument("clean2")
    p.add_argument("--before", help="the before-folder's snapshot: files the clean runs replace must be new")
    p = sub.add_parser("leftovers"); p.add_argument("dir")
    for name, args in (("same", ["snap"]), ("complete", ["spec"]), ("either", ["snap", "spec"])):
        p = sub.add_parser(name)
        for a in args:
            p.add_argument(a)
        p.add_argument("dir")
        p.add_argument("--verify-rc", type=int)
        p.add_argument("--scenario", default="")
        p.add_argument("--scan", action="append", default=[], help="also look for leftovers here")
    a = ap.parse_args()
    if a.cmd == "snapshot":
        json.dump(snapshot(a.dir), sys.stdout, indent=0, sort_keys=True)
        return 0
    if a.cmd == "spec":
        before = json.load(open(a.before)) if a.before else None
        json.dump(make_spec(a.clean1, a.clean2, before), sys.stdout, indent=0, sort_keys=True)
        return 0
    if a.cmd == "leftovers":
        return report([], a.dir, [])
    load = lambda f: json.load(open(f))
    if a.cmd == "same":
        return report(diff_same(load(a.snap), a.dir), a.dir, a.scan)
    if a.cmd == "complete":
        return report(check_complete(load(a.spec), a.dir, a.verify_rc), a.dir, a.scan)
    # either: identical to before, or complete
    same = diff_same(load(a.snap), a.dir)
    if not same:
        return report([], a.dir, a.scan)
    comp = check_complete(load(a.spec), a.dir, a.verify_rc)
    if not comp:
        return report([], a.dir, a.scan)
    return report(["neither the before-state nor complete: vs before: " + "; ".join(same[:2]),
                   "vs complete: " + "; ".join(comp[:3])], a.dir, a.scan)


if __name__ == "__main__":
    sys.exit(main())
