#!/usr/bin/env bash
# Leave one model out: calibrate on a measured table without any co-run row
# that contains MODEL (its solo rows stay), then predict the full table and
# score only the groups with MODEL in them: how the fitted contention terms
# carry over to a model whose co-location the fit never saw.
#   tools/validation/leave_one_model_out.sh COTENANT TABLE.csv MODEL [calibrate args...]
set -euo pipefail
bin=$1 table=$2 model=$3
shift 3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 - "$table" "$model" "$work/train.csv" <<'PY'
import csv, sys
table, model, out = sys.argv[1:4]
rows = list(csv.reader(open(table)))
i = rows[0].index("models")
keep = [rows[0]] + [r for r in rows[1:] if "+" not in r[i] or model not in r[i].split("+")]
csv.writer(open(out, "w"), lineterminator="\n").writerows(keep)
PY
"$bin" calibrate --measured "$work/train.csv" -o "$work/cal.json" "$@" >/dev/null
"$bin" validate --measured "$table" --calibration "$work/cal.json" --json "$work/v.json" >/dev/null
python3 - "$work/v.json" "$model" <<'PY'
import json, sys
d, model = json.load(open(sys.argv[1])), sys.argv[2]
g = [x for x in d["groups"] if any(m.split(" ")[0] == model for m in x["group"].split(" + "))]
if not g:
    sys.exit(f"no co-run row with {model}")
lat = [abs(x["error_pct"]) for x in g]
sd = [abs(x["predicted_slowdown"] / x["measured_slowdown"] - 1) * 100 for x in g if x["measured_slowdown"]]
ni = [abs(1 / x["measured_slowdown"] - 1) * 100 for x in g if x["measured_slowdown"]]
print(f"{model}: {len(g)} held-out groups: latency MAPE {sum(lat)/len(lat):.1f}%, "
      f"slowdown MAPE {sum(sd)/len(sd):.1f}%, worst {max(lat):.1f}%; "
      f"no interference: slowdown MAPE {sum(ni)/len(ni):.1f}%")
PY
