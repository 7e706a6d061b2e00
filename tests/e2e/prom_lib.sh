# Shared by the tests that read metrics (test_metrics.sh, test_etcd_probe.sh): a real parser of
# the text exposition format, Debian's python3-prometheus-client. Source it after lib.sh; it fails
# the test (never skips) when the parser cannot be imported. Not a test itself.
# ---- the parser ---------------------------------------------------------------------------------------
# A python3 that has prometheus_client: the one on PATH, else Debian's own (a pyenv or venv python
# on PATH does not see Debian's packages).
PY=""
for p in python3 /usr/bin/python3; do
  if "$p" -c 'from prometheus_client.parser import text_string_to_metric_families' 2>/dev/null; then
    PY=$p
    break
  fi
done
if [ -z "$PY" ]; then
  fail "python3-prometheus-client cannot be imported (apt-get install python3-prometheus-client; scripts/setup.sh --test)"
  exit 1
fi
pass "the parser: prometheus_client in $PY"

# prom FILE EXPR [ARG...]: a Python expression over FILE parsed by prometheus_client: `fams` (family
# name -> family, in file order), series(NAME) (its samples as (labels, value) pairs), one(NAME,
# FILEPATH) (the labels of the one series of that file), value(NAME, FILEPATH); ARGs in sys.argv[3:].
# A file that does not parse, or a family that comes twice, prints PARSE-ERROR (exit 1).
prom() {
  "$PY" -c '
import sys
from prometheus_client.parser import text_string_to_metric_families
fams = {}
try:
    for f in text_string_to_metric_families(open(sys.argv[1], encoding="utf-8").read()):
        assert f.name not in fams, "family twice: " + f.name
        fams[f.name] = f
except Exception as e:
    print("PARSE-ERROR", type(e).__name__, e)
    sys.exit(1)
def series(name):
    return [(s.labels, s.value) for s in fams[name].samples] if name in fams else []
def one(name, path):
    got = [l for l, v in series(name) if l["filepath"] == path]
    assert len(got) == 1, "%d series of %s for %s" % (len(got), name, path)
    return got[0]
def value(name, path):
    return next(int(v) if v == int(v) else v for l, v in series(name) if l["filepath"] == path)
print(eval(sys.argv[2]))' "$@"
}
