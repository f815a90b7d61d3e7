"""Benchmark: how long after a rep's save the watcher has replaced the summary.

Runs the watcher (default settings of the workspace's ``sheetsales.toml``) in this process on an
existing workspace, waits until it is idle, then saves one rep's MPC list the way Excel does (a
temporary file renamed onto the name) SAVES times, each time a new list of ROWS deals, and measures
from the rename to the moment ``reports/summary.xlsx`` is replaced. Prints min, median and max.

    python benchmarks/bench_watch.py WORKSPACE [--rep R001] [--saves 5] [--rows 120] [--as-of 2026-11-20]
                                     [--versions DIR] [--json]

``--versions DIR`` saves the workbooks ``DIR/v0.xlsx``, ``v1.xlsx``, … in turn instead of generated
lists (``make bench`` passes versions of the generated list with one amount changed); ``--json``
prints one line ``{"latencies": [...], "peak_mb": ...}`` for ``benchmarks/run.py``.

Build a workspace first: ``benchmarks/bench_ingest.py --dir reports/bench`` (100 reps), or
``sheetsales demo`` / ``sheetsales init`` for a small team.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_ingest import deals, qualification  # noqa: E402

from sheetsales.reading.fill import fill_table  # noqa: E402
from sheetsales.reading.specs import MPC_TABLE, QUALIFICATION_TABLE  # noqa: E402
from sheetsales.reading.templates import template_filename  # noqa: E402
from sheetsales.service.settings import load_settings  # noqa: E402
from sheetsales.service.watch import Watcher  # noqa: E402
from sheetsales.service.workspace import Workspace  # noqa: E402


def _idle(w: Watcher, seconds: float, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    last, since = None, time.monotonic()
    while time.monotonic() < deadline:
        state = (w.tracker.idle(), w.stats["ingests"], w.stats["reports"], w.busy, w.report_due)
        if state != last:
            last, since = state, time.monotonic()
        elif state[0] and not state[3] and not state[4] and w.caught_up and time.monotonic() - since >= seconds:
            return
        time.sleep(0.02)
    raise SystemExit("the watcher never went idle")


def excel_save(target: Path, data: bytes) -> None:
    """Excel's save: a temporary file without extension, written, then renamed onto the name."""
    temp = target.parent / "5F3A2B10"
    temp.write_bytes(data)
    os.replace(temp, target)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("workspace")
    ap.add_argument("--rep", default="")
    ap.add_argument("--saves", type=int, default=5)
    ap.add_argument("--rows", type=int, default=120)
    ap.add_argument("--as-of", default="2026-11-20")
    ap.add_argument("--versions", default="", help="save DIR/v0.xlsx, v1.xlsx, ... in turn")
    ap.add_argument("--json", action="store_true", help="print the latencies as one JSON line")
    args = ap.parse_args()
    ws = Workspace.open(Path(args.workspace))
    as_of = dt.date.fromisoformat(args.as_of)
    settings, _ = load_settings(ws)
    rng = random.Random(11)
    rep = args.rep or sorted(p.name for p in ws.inbox.iterdir() if p.is_dir() and p.name.startswith("R"))[0]
    target = ws.inbox / rep / template_filename("mpc", ws.lang, rep)
    versions = []
    if args.versions:
        versions = [p.read_bytes() for p in sorted(Path(args.versions).glob("v*.xlsx"),
                                                   key=lambda p: int(p.stem[1:]))][:args.saves]
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(0 if args.versions else args.saves):
            out = Path(tmp) / f"v{i}.xlsx"
            rows = deals(rng, args.rows)
            fill_table(target, MPC_TABLE, rows, out=out)
            fill_table(out, QUALIFICATION_TABLE, qualification(rows, rng))
            versions.append(out.read_bytes())
    summary = ws.reports / "summary.xlsx"
    w = Watcher(ws, settings, as_of=as_of)
    thread = threading.Thread(target=w.run, daemon=True)
    thread.start()
    latencies = []
    try:
        _idle(w, 1.0)
        for data in versions:
            before = summary.stat().st_mtime_ns if summary.exists() else 0
            excel_save(target, data)
            saved = time.monotonic()
            while not (summary.exists() and summary.stat().st_mtime_ns != before):
                if time.monotonic() - saved > 600:
                    raise SystemExit("the summary was never replaced")
                time.sleep(0.01)
            latencies.append(time.monotonic() - saved)
            _idle(w, 1.0)
    finally:
        w.stop()
        thread.join(timeout=30)
    if args.json:
        import json
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps({"latencies": latencies, "peak_mb": peak, "debounce": settings.debounce,
                          "settle": settings.settle}))
        return 0
    print(f"debounce {settings.debounce} s, settle {settings.settle} s; {len(latencies)} saves of {rep}'s list "
          f"({args.rows} deals): save -> summary replaced, s: min {min(latencies):.2f}, "
          f"median {statistics.median(latencies):.2f}, max {max(latencies):.2f}")
    print("each:", ", ".join(f"{x:.2f}" for x in latencies))
    return 0


if __name__ == "__main__":
    sys.exit(main())
