#!/usr/bin/env bash
# Accuracy guard on the bundled measured table (configs/measured/abacus-a100):
# calibrate on it, predict it, and fail when the calibrated model is no
# longer clearly better than the naive "no interference" guess or its
# errors exceed 5% (docs/VALIDATION.md has the figures: 2.9% and 2.7% when
# this was written). Not a timing test; about 30 s on 2 cores.
#   tests/validation/abacus_check.sh COTENANT SOURCE_DIR
set -euo pipefail
bin=$1
src=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
table=$src/configs/measured/abacus-a100/pairs.csv
"$bin" calibrate --measured "$table" --framework pytorch-1.8-eager -o "$work/cal.json" >/dev/null
"$bin" validate --measured "$table" --calibration "$work/cal.json" --json "$work/v.json" \
  >"$work/out.txt"
tail -1 "$work/out.txt"
python3 - "$work/v.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))["summary"]
lat, sd = s["latency"]["mape_pct"], s["slowdown"]["mape_pct"]
ni = s["no_interference"]["slowdown"]["mape_pct"]
ok = s["latency"]["count"] == 624 and lat < 5.0 and sd < 5.0 and sd < ni
print(f"calibrated: latency MAPE {lat:.2f}%, slowdown MAPE {sd:.2f}% (no interference {ni:.2f}%): "
      + ("ok" if ok else "WORSE than the guard"))
sys.exit(0 if ok else 1)
PY
