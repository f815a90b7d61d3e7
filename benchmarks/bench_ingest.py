"""Benchmark: how long ingest and report take for a large team.

Builds a workspace with REPS reps, each with an MPC list of ROWS deals (milestones and qualification
mostly filled) and a weekly report of LOG rows (filled with openpyxl, not timed), then times: the
first ingest, a second ingest with nothing changed (the content-hash skip), the first report, then
an ingest and a report after a tenth of the reps saved a new list (only the feedback workbooks
whose content changed are rewritten).
Prints what it measured next to the targets and exits 1 when a target is missed.

    python benchmarks/bench_ingest.py [--reps 100] [--rows 120] [--log 30] [--dir reports/bench-ingest]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import shutil
import sys
import time
from pathlib import Path

from sheetsales.method.playbook import DEFAULT_PRODUCTS, DEFAULT_STAGES, Person, Playbook
from sheetsales.outputs.report import run_report
from sheetsales.reading.fill import fill_table
from sheetsales.reading.specs import LOG_TABLE, MPC_TABLE, QUALIFICATION_TABLE
from sheetsales.reading.templates import iso_week, template_filename
from sheetsales.service.workspace import init_workspace
from sheetsales.storage.ingest import ingest

AS_OF = dt.date(2026, 11, 20)
# Targets for the default size (100 reps × 120 deals + 30 log rows) on the reference machine
# (2 cores): seconds.
TARGETS = {"first ingest": 30.0, "unchanged ingest": 2.0, "first report": 20.0, "ingest after 10% saved": 6.0,
           "report after 10% saved": 12.0}


def team(n: int) -> tuple[Person, ...]:
    people = [Person("D01", "Director", "HQ", "HQ", "", 8)]
    for s in range(1, 6):
        people.append(Person(f"S{s:02d}", f"Supervisor {s}", f"Region {s}", f"Team {s}", "D01", 5))
    for r in range(1, n + 1):
        s = (r - 1) % 5 + 1
        people.append(Person(f"R{r:03d}", f"Rep {r}", f"Region {s}", f"Team {s}", f"S{s:02d}", 2))
    return tuple(people)


def deals(rng: random.Random, n: int) -> list[dict]:
    """Realistic rows: most deals have the milestones of their stage ticked."""
    categories = list(dict.fromkeys(c for c, _ in DEFAULT_PRODUCTS))
    out = []
    for i in range(n):
        stage = rng.randrange(7) + 1
        met = stage - 1 if rng.random() < 0.9 else rng.randrange(stage)
        out.append({
            "no": i + 1, "category": rng.choice(categories), "customer": f"客户{rng.randrange(10**6)}有限公司",
            "amount": rng.randrange(50, 3000) * 1000, "sign_date": AS_OF + dt.timedelta(days=rng.randrange(10, 300)),
            "stage": DEFAULT_STAGES[stage - 1].name_zh, "detail": "跟进中" * rng.randrange(1, 5),
            **{f"m{m}": "✓" for m in range(1, met + 1)},
        })
    return out


def qualification(rows: list[dict], rng: random.Random) -> list[dict]:
    """Most deals have the nine questions answered."""
    return [{"customer": r["customer"], "category": r["category"], **{f"q{n}": "是" for n in range(1, 10)}}
            for r in rows if rng.random() < 0.85]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=100)
    ap.add_argument("--rows", type=int, default=120)
    ap.add_argument("--log", type=int, default=30)
    ap.add_argument("--dir", default="reports/bench-ingest")
    args = ap.parse_args()
    root = Path(args.dir)
    if root.exists():
        shutil.rmtree(root)
    rng = random.Random(7)
    playbook = Playbook(team=team(args.reps))
    t0 = time.perf_counter()
    ws = init_workspace(root, "zh-CN", playbook=playbook, as_of=AS_OF)
    week = iso_week(AS_OF)
    monday = AS_OF - dt.timedelta(days=AS_OF.weekday())
    for rep in playbook.reps:
        mpc = ws.inbox / rep.id / template_filename("mpc", "zh-CN", rep.id)
        rows = deals(rng, args.rows)
        fill_table(mpc, MPC_TABLE, rows)
        fill_table(mpc, QUALIFICATION_TABLE, qualification(rows, rng))
        fill_table(ws.inbox / rep.id / template_filename("weekly", "zh-CN", rep.id, week), LOG_TABLE, [
            {"date": monday + dt.timedelta(days=i % 5), "content": f"拜访客户{i}", "hours": 2, "cost": 100}
            for i in range(args.log)])
    print(f"built {2 * args.reps} workbooks in {time.perf_counter() - t0:.1f} s (not timed)")

    measured: dict[str, float] = {}

    def timed(name: str, func):  # noqa: ANN001, ANN202
        start = time.perf_counter()
        value = func()
        measured[name] = time.perf_counter() - start
        return value

    first = timed("first ingest", lambda: ingest(ws, AS_OF))
    timed("unchanged ingest", lambda: ingest(ws, AS_OF))
    result = timed("first report", lambda: run_report(ws, AS_OF))
    for rep in playbook.reps[: max(1, args.reps // 10)]:
        path = ws.inbox / rep.id / template_filename("mpc", "zh-CN", rep.id)
        rows = deals(rng, args.rows)
        fill_table(path, MPC_TABLE, rows)
        fill_table(path, QUALIFICATION_TABLE, qualification(rows, rng))
    timed("ingest after 10% saved", lambda: ingest(ws, AS_OF))
    result = timed("report after 10% saved", lambda: run_report(ws, AS_OF))

    rows = args.reps * (args.rows + args.log)
    print(f"{first.new} files, {rows} rows; {len(result.summary.opportunities)} open deals and "
          f"{len(result.summary.alerts)} alerts in the summary, {len(result.feedback)} feedback workbooks")
    print(f"{'step':<26}{'measured s':>12}{'target s':>10}  status")
    failed = False
    default_size = (args.reps, args.rows, args.log) == (100, 120, 30)
    for name, seconds in measured.items():
        target = TARGETS[name]
        status = ("ok" if seconds <= target else "SLOW") if default_size else "n/a (non-default size)"
        failed |= default_size and seconds > target
        print(f"{name:<26}{seconds:>12.2f}{target:>10.1f}  {status}")
    print(f"first ingest: {rows / measured['first ingest']:.0f} rows/s, "
          f"{first.new / measured['first ingest']:.1f} files/s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
