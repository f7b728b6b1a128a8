#!/usr/bin/env bash
# Train on a CSV larger than the memory the process may use: no --memory-limit,
# inside a memory cgroup (v1 or v2) limited to LIMIT bytes. Needs root.
#   bash benchmarks/bench_cgroup.sh [ROWS] [LIMIT]      (defaults: 8000000 1200000000)
# Prints the elapsed time, the peak RSS and the exit status (137 = killed by the OOM killer).
set -euo pipefail
rows=${1:-8000000}
limit=${2:-1200000000}
here=$(cd "$(dirname "$0")" && pwd)
data="$here/data/cgroup_${rows}x20.csv"
python="${PYTHON:-$here/../.venv/bin/python}"
if [ ! -f "$data" ]; then
  "$python" - "$data" "$rows" <<'PY'
import sys
import numpy as np
import pyarrow as pa
import pyarrow.csv as pc
path, rows, d, chunk = sys.argv[1], int(sys.argv[2]), 20, 500_000
rng = np.random.default_rng(7)
beta = rng.normal(size=d)
names = [f"x{i}" for i in range(d)] + ["y"]
with pc.CSVWriter(path, pa.schema([(n, pa.float64()) for n in names])) as w:
    for start in range(0, rows, chunk):
        m = min(chunk, rows - start)
        x = np.round(rng.normal(size=(m, d)) * 3, 4)
        y = np.round(x @ beta + rng.normal(size=m), 4)
        w.write_table(pa.table({**{names[j]: x[:, j] for j in range(d)}, "y": y}))
PY
fi
if [ -f /sys/fs/cgroup/cgroup.controllers ]; then  # v2: the "0::PATH" line
  own=$(awk -F: '$1 == "0" {print $3; exit}' /proc/self/cgroup)
  cg="/sys/fs/cgroup${own%/}/losscli-bench-$$"; mkdir "$cg"; echo "$limit" > "$cg/memory.max"
else  # v1: the memory controller's line
  own=$(awk -F: '$2 ~ /(^|,)memory(,|$)/ {print $3; exit}' /proc/self/cgroup)
  cg="/sys/fs/cgroup/memory${own%/}/losscli-bench-$$"; mkdir "$cg"
  echo "$limit" > "$cg/memory.limit_in_bytes"
fi
trap 'rmdir "$cg" 2>/dev/null || true' EXIT
ls -la "$data"
bash -c "echo \$\$ > '$cg/cgroup.procs'; exec /usr/bin/time -f '%e s, peak RSS %M KB' \
  '$(dirname "$python")/losscli' train '$data' -f json -o /tmp/losscli-cgroup-model.json" || echo "exit status $?"
