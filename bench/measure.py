#!/usr/bin/env python3
"""etcd-pki against cfssl, workload by workload, interleaved in the same run (bench/run.sh).

Each timed run is `bash -c CMD` in a fresh folder prepared beforehand (not timed). Wall time is
measured around fork and wait; CPU time (user + system) comes from wait4(), so it includes every
process of the command (cfssl | cfssljson, ...); peak RSS is GNU time's %M, that of the largest
single process. The two tools alternate which goes first in each round. Folders are removed only
after a workload's last run (ext4 without a journal slows inode allocation right after mass
deletes, which would penalise whoever runs next).
"""
import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

TARGETS = {  # id: (ratio target, text of the other targets)
    "W1": (1.0, ""),
    "W2": (0.6, ""),
    "W3": (0.55, "<= 1.2x floor/cores"),
    "W4": (0.2, ""),
    "W5": (None, "<= 3 s, <= 100 MiB, t(1000)/t(100) <= 12"),
    "W6": (None, "<= 1 s"),
}


def run_timed(cmd, cwd):
    err = open(os.path.join(cwd, ".bench-stderr"), "wb")
    t0 = time.perf_counter()
    # GNU time as the parent: a child forked from this Python would report Python's RSS as its peak.
    rss_file = os.path.join(cwd, ".bench-rss")
    p = subprocess.Popen(["/usr/bin/time", "-f", "%M", "-o", rss_file, "bash", "-c", cmd], cwd=cwd,
                         stdout=subprocess.DEVNULL, stderr=err)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    err.close()
    if p.returncode not in (0,):
        with open(os.path.join(cwd, ".bench-stderr"), "rb") as f:
            tail = f.read()[-2000:].decode(errors="replace")
        sys.exit(f"bench: `{cmd[:200]}` failed with exit {p.returncode} in {cwd}:\n{tail}")
    with open(rss_file) as f:
        rss = int(f.read().split()[-1])
    return {"wall": wall, "cpu": ru.ru_utime + ru.ru_stime, "rss_kib": rss}


def initial_cluster(n, base=10):
    return ",".join(f"etcd-{i}=https://10.{base + i // 250}.{i % 250}.1:2380" for i in range(n))


def cfssl_cluster_script(n, algo, size, clients=("root", "kube-apiserver-etcd-client")):
    """The cfssl equivalent of one `etcd-pki cluster`: CA, server + peer per member, clients."""
    lines = [
        "set -e",
        """cat > cfg.json <<'J'
{"signing":{"default":{"expiry":"8760h"},"profiles":{
 "server":{"expiry":"8760h","usages":["signing","key encipherment","server auth","client auth"]},
 "peer":{"expiry":"8760h","usages":["signing","key encipherment","server auth","client auth"]},
 "client":{"expiry":"8760h","usages":["signing","key encipherment","client auth"]}}}}
J""",
        f"""echo '{{"CN":"etcd-ca","key":{{"algo":"{algo}","size":{size}}}}}' > ca.json""",
        "cfssl gencert -initca ca.json 2>/dev/null | cfssljson -bare ca",
        f"for i in $(seq 0 {n - 1}); do",
        "  ip=10.$((10 + i / 250)).$((i % 250)).1; mkdir -p etcd-$i",
        f"""  echo "{{\\"CN\\":\\"etcd-$i\\",\\"hosts\\":[\\"etcd-$i\\",\\"$ip\\",\\"localhost\\",\\"127.0.0.1\\",\\"::1\\"],\\"key\\":{{\\"algo\\":\\"{algo}\\",\\"size\\":{size}}}}}" > etcd-$i/s.json""",
        f"""  echo "{{\\"CN\\":\\"etcd-$i\\",\\"hosts\\":[\\"etcd-$i\\",\\"$ip\\"],\\"key\\":{{\\"algo\\":\\"{algo}\\",\\"size\\":{size}}}}}" > etcd-$i/p.json""",
        "  cfssl gencert -ca=ca.pem -ca-key=ca-key.pem -config=cfg.json -profile=server etcd-$i/s.json 2>/dev/null | cfssljson -bare etcd-$i/server",
        "  cfssl gencert -ca=ca.pem -ca-key=ca-key.pem -config=cfg.json -profile=peer etcd-$i/p.json 2>/dev/null | cfssljson -bare etcd-$i/peer",
        "done",
    ]
    for c in clients:
        lines.append(f"""echo '{{"CN":"{c}","key":{{"algo":"{algo}","size":{size}}}}}' > {c}.json""")
        lines.append(f"cfssl gencert -ca=ca.pem -ca-key=ca-key.pem -config=cfg.json -profile=client {c}.json 2>/dev/null | cfssljson -bare {c}")
    return "\n".join(lines)


def seed_inputs(fixtures, algo, size):
    """The seed guide's ca-csr.json, etcd-csr.json and ca-config.json, with the key type set."""
    out = {}
    for name in ("ca-csr.json", "etcd-csr.json", "ca-config.json"):
        with open(os.path.join(fixtures, name)) as f:
            data = json.load(f)
        if "key" in data:
            data["key"] = {"algo": algo, "size": size}
        out[name] = json.dumps(data)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--etcd-pki", required=True)
    ap.add_argument("--crypto-floor", required=True)
    ap.add_argument("--fixtures", required=True)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--members", type=int, default=1000, help="W5 size (W5 also runs at a tenth of it)")
    ap.add_argument("--cfssl-big-runs", type=int, default=1, help="cfssl runs for W5/W6 (each takes a minute)")
    ap.add_argument("--workdir", default=None, help="where the outputs go (default: a folder under build-bench/)")
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--only", default=None, help="comma-separated workloads to run, e.g. W2,W4 (W6 needs W5)")
    ap.add_argument("--update-docs", action="store_true")
    a = ap.parse_args()
    only = set(a.only.split(",")) if a.only else None
    if only and a.update_docs:
        sys.exit("bench: --only gives a partial table; --update-docs needs all workloads")
    if only and "W6" in only:
        only |= {"W5"}
    if only and "W5" in only:
        only |= {"W5s"}
    E = os.path.abspath(a.etcd_pki)
    if a.smoke:
        a.runs, a.members, a.cfssl_big_runs = 1, 10, 1
    cores = os.cpu_count() or 1
    use_cores = min(cores, 2) if cores else 1

    # The crypto floor.
    floor = {}
    out = subprocess.run([a.crypto_floor] + (["--quick"] if a.smoke else []), check=True, capture_output=True, text=True).stdout
    for line in out.splitlines():
        r = json.loads(line)
        floor[(r["op"], r["key"], r["via"])] = r["us"] / 1e6
    kg = lambda key: floor[("keygen", key, "etcd-pki")]  # the key generation etcd-pki does
    sig = lambda key: floor[("sign", key, "openssl")]
    RSA, EC = "RSA-2048", "ECDSA P-256"

    base = a.workdir or os.path.join(os.path.dirname(os.path.dirname(E)), "bench-work")
    os.makedirs(base, exist_ok=True)
    work = tempfile.mkdtemp(prefix="run-", dir=base)
    n_small = max(1, a.members // 10)

    def w_seed(algo, size):
        files = seed_inputs(a.fixtures, algo, size)
        etcd = (f"{E} init-ca ca-csr.json --out . >/dev/null && "
                f"{E} issue --profile Etcd --config ca-config.json etcd-csr.json --out . >/dev/null")
        cf = ("cfssl gencert -initca ca-csr.json 2>/dev/null | cfssljson -bare ca && "
              "cfssl gencert -ca=ca.pem -ca-key=ca-key.pem -config=ca-config.json -profile=Etcd etcd-csr.json 2>/dev/null | cfssljson -bare etcd")
        return files, etcd, cf

    def w_cluster(n, algo, size):
        etcd = (f"{E} cluster --initial-cluster {initial_cluster(n)} --client root --client kube-apiserver-etcd-client "
                f"--key-algo {algo} --key-size {size} --out pki >/dev/null")
        return {}, etcd, cfssl_cluster_script(n, algo, size)

    workloads = []  # (id, title, files, etcd cmd, cfssl cmd, floor seconds, cores for the floor, cfssl runs)
    for wid, algo, size, key in (("W1", "rsa", 2048, RSA), ("W2", "ecdsa", 256, EC)):
        f, e, c = w_seed(algo, size)
        # An RSA key's two primes are found on two cores; an ECDSA key is one job.
        workloads.append((wid, f"seed workflow: init-ca + issue --profile Etcd, {key}", f, e, c, 2 * kg(key) + 4 * sig(key),
                          use_cores if algo == "rsa" else 1, a.runs))
    for wid, algo, size, key in (("W3", "rsa", 2048, RSA), ("W4", "ecdsa", 256, EC)):
        f, e, c = w_cluster(3, algo, size)
        n_keys = 9
        workloads.append((wid, f"3-member cluster, 9 keys, {key}", f, e, c, n_keys * (kg(key) + 2 * sig(key)), use_cores, a.runs))
    n_keys = 2 * a.members + 3
    f, e, c = w_cluster(a.members, "ecdsa", 256)
    workloads.append(("W5", f"{a.members}-member cluster, {n_keys} keys, {EC}", f, e, c, n_keys * (kg(EC) + 2 * sig(EC)),
                      use_cores, a.runs))
    f, e, c = w_cluster(n_small, "ecdsa", 256)
    n_keys_small = 2 * n_small + 3
    workloads.append(("W5s", f"{n_small}-member cluster (for the W5 scaling), {EC}", f, e, c,
                      n_keys_small * (kg(EC) + 2 * sig(EC)), use_cores, a.runs))

    results = {}
    keep = {}  # W5's last outputs, for W6
    if only:
        workloads = [w for w in workloads if w[0] in only]
    for wid, title, files, etcd, cf, fl, fl_cores, runs in workloads:
        res = {"etcd-pki": [], "cfssl": []}
        dirs = []
        for r in range(runs):
            order = ["etcd-pki", "cfssl"] if r % 2 == 0 else ["cfssl", "etcd-pki"]
            for tool in order:
                if tool == "cfssl" and wid == "W5s":
                    continue
                if tool == "cfssl" and wid == "W5" and r >= a.cfssl_big_runs:
                    continue
                d = tempfile.mkdtemp(prefix=f"{wid}-{tool}-", dir=work)
                dirs.append(d)
                for name, text in files.items():
                    with open(os.path.join(d, name), "w") as fh:
                        fh.write(text)
                res[tool].append(run_timed(etcd if tool == "etcd-pki" else cf, d))
                if tool == "etcd-pki" and wid == "W5":
                    keep["W5"] = d
        results[wid] = (title, res, fl, fl_cores)
        print(f"bench: {wid} done", file=sys.stderr)
        if wid != "W5":
            for d in dirs:
                shutil.rmtree(d, ignore_errors=True)

    # W6: verify + expiry over W5's output; cfssl has neither, its nearest is certinfo per certificate.
    res = {"etcd-pki": [], "cfssl": []}
    for r in range(a.runs if "W5" in keep else 0):
        res["etcd-pki"].append(run_timed(f"{E} verify pki >/dev/null && {E} expiry pki --within 1d >/dev/null", keep["W5"]))
        if r < a.cfssl_big_runs:
            res["cfssl"].append(run_timed(
                "find pki -name '*.pem' ! -name '*-key.pem' ! -name '*-crl.pem' -print0 | xargs -0 -n1 cfssl certinfo -cert >/dev/null",
                keep["W5"]))
    if "W5" in keep:
        results["W6"] = (f"verify + expiry over the W5 output ({a.members} members)", res, None, use_cores)
    shutil.rmtree(work, ignore_errors=True)

    # The tables.
    med = lambda xs, k: statistics.median(x[k] for x in xs) if xs else None
    cpu_model = "unknown"
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu_model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    openssl = subprocess.run(["openssl", "version"], capture_output=True, text=True).stdout.strip()
    lines = []
    lines.append(f"Machine: {cores} cores, {cpu_model}; {platform.system()} {platform.release()}; {openssl}; "
                 f"cfssl 1.2.0 (Debian golang-cfssl). Date: {datetime.date.today().isoformat()}. "
                 f"Medians of {a.runs} runs (cfssl W5/W6: {a.cfssl_big_runs}); outputs on {fs_type(base)} ({base}).")
    lines.append("")
    lines.append("Crypto floor (one thread, median):")
    lines.append("")
    lines.append("| operation | key | via | time |")
    lines.append("| --- | --- | --- | --- |")
    for (op, key, via), s in floor.items():
        lines.append(f"| {op} | {key} | {via} | {s * 1e3:.3f} ms |")
    lines.append("")
    lines.append("| id | workload | etcd-pki wall | CPU | peak RSS | cfssl wall | CPU | peak RSS | ratio | x floor/cores | target | |")
    lines.append("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    summary = {}
    for wid in ("W1", "W2", "W3", "W4", "W5", "W5s", "W6"):
        if wid not in results:
            continue
        title, res, fl, fl_cores = results[wid]
        ew, ec_, er = med(res["etcd-pki"], "wall"), med(res["etcd-pki"], "cpu"), max(x["rss_kib"] for x in res["etcd-pki"])
        cw = med(res["cfssl"], "wall")
        cc = med(res["cfssl"], "cpu")
        cr = max((x["rss_kib"] for x in res["cfssl"]), default=None)
        ratio = ew / cw if cw else None
        mult = ew / (fl / fl_cores) if fl else None
        target, other = TARGETS.get(wid, (None, ""))
        met = []
        if target is not None:
            met.append(ratio <= target)
        if wid == "W3":
            met.append(mult <= 1.2)
        if wid == "W5":
            small = med(results["W5s"][1]["etcd-pki"], "wall")
            summary["scaling"] = ew / small
            met += [ew <= 3.0, er / 1024 <= 100, ew / small <= 12]
            other += f" (t(1000)/t(100) = {ew / small:.1f})" if a.members == 1000 else f" (scaling {ew / small:.1f})"
        if wid == "W6":
            met.append(ew <= 1.0)
        tgt = " ".join(x for x in ([f"ratio <= {target}"] if target is not None else []) + ([other] if other else []))
        verdict = "" if not met else ("met" if all(met) else "MISSED")
        fmt = lambda v, unit="s": "-" if v is None else (f"{v:.3f} s" if unit == "s" else f"{v / 1024:.1f} MiB")
        lines.append(f"| {wid} | {title} | {fmt(ew)} | {fmt(ec_)} | {fmt(er, 'm')} | {fmt(cw)} | {fmt(cc)} | "
                     f"{fmt(cr, 'm') if cr else '-'} | {'-' if ratio is None else f'{ratio:.2f}'} | "
                     f"{'-' if mult is None else f'{mult:.2f}'} | {tgt} | {verdict} |")
        summary[wid] = {"etcd_pki_wall": ew, "cfssl_wall": cw, "ratio": ratio, "floor_multiple": mult, "met": verdict}
    table = "\n".join(lines)
    print(table)
    if a.update_docs:
        path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "docs", "performance.md")
        with open(path) as fh:
            doc = fh.read()
        b, e = "<!-- bench:begin -->", "<!-- bench:end -->"
        if b not in doc or e not in doc:
            sys.exit(f"bench: {path} has no {b} ... {e} section")
        doc = doc[: doc.index(b) + len(b)] + "\n" + table + "\n" + doc[doc.index(e):]
        with open(path, "w") as fh:
            fh.write(doc)
        print(f"bench: updated {path}", file=sys.stderr)


def fs_type(path):
    try:
        out = subprocess.run(["df", "--output=fstype", path], capture_output=True, text=True).stdout.split()
        return out[-1] if out else "?"
    except OSError:
        return "?"


if __name__ == "__main__":
    main()
