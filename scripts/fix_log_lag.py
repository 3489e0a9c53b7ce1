"""One-off repair of the committed logs written before the per-layer lag was fixed (issue 20).

`bmsa-train` counted each layer's connections when an epoch *started*, before that epoch's topology update, so in
log.csv the `connections_<i>` columns of epoch e held epoch e-1's topology beside epoch e's total. The value for
epoch e is therefore the one logged at epoch e+1 (counted before the update after epoch e+1, i.e. the topology epoch
e trained with). For the last epoch that row does not exist: its per-layer counts come from the run's weights.json
(histograms of the final checkpoint, the same topology) when it has one; otherwise they are left empty rather than
wrong. Every repaired row is checked: its per-layer sum must equal its total. Also rewrites CRLF line endings as LF.

    python scripts/fix_log_lag.py experiments        # repairs in place, prints what it did
"""
import csv, io, json, sys
from pathlib import Path

def layer_columns(rows): return [c for c in rows[0] if c.startswith('connections_')]

def consistent(row, cols):
    return all(row[c] not in ('', None) for c in cols) and sum(int(float(row[c])) for c in cols) == int(float(row['connections']))

def repair(log):
    rows = list(csv.DictReader(io.StringIO(log.read_text())))
    cols = layer_columns(rows) if rows else []
    if not cols or all(consistent(r, cols) for r in rows): return 'consistent'
    fixed = [dict(r) for r in rows]
    for e in range(len(rows) - 1):
        for c in cols: fixed[e][c] = rows[e + 1][c]
    weights, last = log.parent / 'weights.json', fixed[-1]
    source = 'as logged'
    final = json.loads(weights.read_text())['layers'] if weights.exists() else None
    if final and len(final) == len(cols):
        for c, layer in zip(cols, final): last[c] = str(layer['connections'])
        source = 'from weights.json'
    if not consistent(last, cols):
        for c in cols: last[c] = ''
        source = 'left empty: not recoverable from what the run kept'
    wrong = [r['epoch'] for r in fixed[:-1] if not consistent(r, cols)]
    if wrong: raise SystemExit(f"{log}: shifting does not explain epochs {wrong[:5]}: not repaired")
    text = io.StringIO(); w = csv.DictWriter(text, list(rows[0]), lineterminator='\n'); w.writeheader(); w.writerows(fixed)
    log.write_text(text.getvalue())
    return f"repaired (last row {source})"

if __name__ == '__main__':
    for log in sorted(Path(sys.argv[1] if len(sys.argv) > 1 else 'experiments').rglob('log.csv')):
        data = log.read_bytes()
        if b'\r\n' in data: log.write_bytes(data.replace(b'\r\n', b'\n'))
        print(log, repair(log))
