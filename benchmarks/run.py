"""`make bench`: the engine's workloads on realistic workspaces, timed as whole processes.

For each size (reps) the cached workspace of ``workspace_gen`` is used (generated on first use) and
each workload runs ``--runs`` times; every run starts from a fresh, untimed set-up:

- ``rebuild``: first ``sheetsales ingest`` + first ``sheetsales report`` of a fresh copy of the workspace;
- ``straightforward``: ``benchmarks/straightforward.py`` (pandas.read_excel + openpyxl) on the same
  workspace, run in turn with ``rebuild`` (A B A B …) so the ratio is taken pair by pair;
- ``unchanged``: ``sheetsales ingest`` again with nothing changed (after one untimed re-ingest that hands
  out the lost-deal reports the first one calls for, and 2.5 s after the last write, as a re-ingest
  of a quiet inbox comes);
- ``one save``: one rep saved their MPC list again (a changed amount) → ``ingest`` + ``report``;
- ``10% save``: a tenth of the reps saved their MPC list → ``ingest`` + ``report``;
- ``watch save``: ``benchmarks/bench_watch.py`` runs the watcher (its own process, the workspace's
  settings) and one rep saves their MPC list the way Excel does (a temporary file renamed onto the
  name), ``--runs`` times, each a changed amount: the time from the rename to the moment
  ``reports/summary.xlsx`` is replaced (the watcher's own clock; peak RSS of that process);
- ``check 20k``: ``sheetsales check`` of one MPC list of 20,000 rows (once, not per size).

Each child's wall time comes from the clock around it and its peak memory from the operating
system (``os.wait4``: the largest resident set of the process and the children it waited for).
A workload of several commands adds their times and takes the largest peak. Printed: median,
min–max and peak memory per workload, the ratio against the straightforward approach, how the
figures compare with the summary's, and the growth between sizes. It never fails over timing:
the exit status is 0 unless the benchmark itself could not run.

    python benchmarks/run.py [--sizes 50,500,2000] [--runs 3] [--root reports/bench]
                             [--pythonpath DIR]  # measure another checkout of sheetsales
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import workspace_gen as gen

from sheetsales.reading.specs import mpc_table
from sheetsales.service.demo import fill_workbook

HERE = Path(__file__).resolve().parent
SHEETSALES = "import sys; from sheetsales.service.cli import main; sys.exit(main())"


@dataclass
class Run:
    seconds: float
    peak_mb: float
    codes: list[int]


@dataclass
class Workload:
    name: str
    runs: list[Run] = field(default_factory=list)

    @property
    def seconds(self) -> list[float]:
        return [r.seconds for r in self.runs]

    def median(self) -> float:
        return statistics.median(self.seconds)

    def peak(self) -> float:
        return max(r.peak_mb for r in self.runs)


class Bench:
    def __init__(self, pythonpath: str = "", log=print) -> None:  # noqa: ANN001
        self.env = dict(os.environ)
        if pythonpath:
            self.env["PYTHONPATH"] = os.pathsep.join(filter(None, [pythonpath, self.env.get("PYTHONPATH", "")]))
        self.log = log

    def child(self, argv: list[str], stdout: Path | None = None) -> tuple[float, float, int]:
        """(wall seconds, peak MB, exit status) of one whole process."""
        out = stdout.open("wb") if stdout else subprocess.DEVNULL
        try:
            start = time.perf_counter()
            proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.DEVNULL, env=self.env)
            _, status, usage = os.wait4(proc.pid, 0)
            seconds = time.perf_counter() - start
            proc.returncode = os.waitstatus_to_exitcode(status)
        finally:
            if stdout:
                out.close()
        return seconds, usage.ru_maxrss / 1024, proc.returncode

    def sheetsales(self, *args: str) -> list[str]:
        return [sys.executable, "-c", SHEETSALES, *args]

    def timed(self, commands: list[list[str]], stdout: Path | None = None) -> Run:
        total, peak, codes = 0.0, 0.0, []
        for argv in commands:
            seconds, mb, code = self.child(argv, stdout)
            total, peak = total + seconds, max(peak, mb)
            codes.append(code)
        return Run(total, peak, codes)


def resave(workspace: Path, p: gen.Params, rep_ids: list[str], variant: int) -> None:
    """The reps retype their MPC list with one amount changed (untimed set-up of a save)."""
    for rid in rep_ids:
        deals = gen.deals_for(random.Random(f"{p.seed}-{rid}"), p.deals)
        deals[variant % len(deals)]["amount"] += 10_000 * (variant + 1)
        path = workspace / "inbox" / rid / gen.template_filename("mpc", gen.LANG, rid)
        fill_workbook(path, ((mpc_table(), gen.mpc_rows(deals, rid, None)),
                             (gen.QUALIFICATION_TABLE, gen.qualification_rows(deals)),
                             (gen.C931_TABLE, gen.c931_rows(deals))))


def bench_watch(bench: Bench, ws: Path, p: gen.Params, rid: str, saves: int, folder: Path) -> list[Run]:
    """The watcher's latency from one rep's save (Excel's rename) to the summary replaced, per save."""
    folder.mkdir(parents=True, exist_ok=True)
    path = ws / "inbox" / rid / gen.template_filename("mpc", gen.LANG, rid)
    original = path.read_bytes()
    for i in range(saves):  # versions of the list, each one amount changed (made untimed, put back after)
        resave(ws, p, [rid], 200 + i)
        (folder / f"v{i}.xlsx").write_bytes(path.read_bytes())
    path.write_bytes(original)
    out = folder / "watch.json"
    bench.child([sys.executable, str(HERE / "bench_watch.py"), str(ws), "--rep", rid, "--saves", str(saves),
                 "--versions", str(folder), "--json", "--as-of", gen.AS_OF.isoformat()], out)
    try:
        found = json.loads(out.read_text().strip().splitlines()[-1])
    except (OSError, ValueError, IndexError):
        bench.log("  watch save: the watcher benchmark did not finish")
        return []
    return [Run(x, found["peak_mb"], [0]) for x in found["latencies"]]


def bench_size(bench: Bench, root: Path, p: gen.Params, runs: int) -> dict:
    reps = p.reps
    cache = gen.ensure_workspace(root, p, log=bench.log)
    info = json.loads((cache.parent / "generator.json").read_text())
    scratch = root / "scratch" / str(reps)
    as_of = ["--as-of", gen.AS_OF.isoformat()]
    work = {name: Workload(name) for name in ("rebuild", "straightforward", "unchanged", "one save", "10% save",
                                              "watch save")}
    ws = scratch / "workspace"
    baseline_out = scratch / "straightforward.json"
    for i in range(runs):
        if scratch.exists():
            shutil.rmtree(scratch)
        scratch.mkdir(parents=True)
        # Without the empty store init made: the command under test creates its own (its schema).
        shutil.copytree(cache, ws, ignore=shutil.ignore_patterns("sheetsales.db*", ".sheetsales.lock*"))
        work["rebuild"].runs.append(bench.timed([bench.sheetsales("ingest", str(ws), "-q", *as_of),
                                                 bench.sheetsales("report", str(ws), *as_of)]))
        work["straightforward"].runs.append(bench.timed(
            [[sys.executable, str(HERE / "straightforward.py"), str(cache), str(scratch / "baseline.xlsx"), *as_of]],
            stdout=baseline_out))
        bench.log(f"  {reps} reps, run {i + 1}/{runs}: rebuild {work['rebuild'].runs[-1].seconds:.1f} s, "
                  f"straightforward {work['straightforward'].runs[-1].seconds:.1f} s")
    figures = scratch / "report.json"  # the summary's figures of the state the straightforward script read
    bench.child(bench.sheetsales("report", str(ws), "--json", "--no-write", *as_of), figures)
    # The first re-ingest hands out what the first one's records call for (lost-deal reports); a
    # re-ingest then comes later than the no-op's 2 s of quiet after the last write (storage/quiet.py).
    bench.child(bench.sheetsales("ingest", str(ws), "-q", *as_of))
    for _ in range(runs):
        time.sleep(2.5)
        work["unchanged"].runs.append(bench.timed([bench.sheetsales("ingest", str(ws), "-q", *as_of)]))
    rep_ids = [f"R{n:04d}" for n in range(1, reps + 1)]
    for i in range(runs):
        resave(ws, p, rep_ids[i % reps:i % reps + 1], i)
        work["one save"].runs.append(bench.timed([bench.sheetsales("ingest", str(ws), "-q", *as_of),
                                                  bench.sheetsales("report", str(ws), *as_of)]))
    tenth = max(1, reps // 10)
    for i in range(runs):
        resave(ws, p, rep_ids[:tenth], 100 + i)
        work["10% save"].runs.append(bench.timed([bench.sheetsales("ingest", str(ws), "-q", *as_of),
                                                  bench.sheetsales("report", str(ws), *as_of)]))
    work["watch save"].runs.extend(bench_watch(bench, ws, p, rep_ids[-1], runs, scratch / "versions"))
    bench.log(f"  {reps} reps: " + ", ".join(f"{w.name} " + "/".join(f"{x:.1f}" for x in w.seconds) + " s"
                                            for w in work.values() if w.name not in ("rebuild", "straightforward")))
    return {"reps": reps, "files": info["files"], "deals": info["deals"], "log_rows": info["log_rows"],
            "work": work, "closeness": closeness(baseline_out, figures), "tenth": tenth}


def closeness(baseline: Path, figures: Path) -> dict:
    """The straightforward approach's company totals next to the summary's, for the same files."""
    try:
        base = json.loads(baseline.read_text().strip().splitlines()[-1])
        report = json.loads(figures.read_text())
    except (OSError, ValueError, IndexError):
        return {}
    company = [f for f in report["funnel"] if f["level"] == "company"]
    return {"baseline": base, "sheetsales": {"open_deals": sum(f["count"] for f in company),
                                             "amount": sum(f["amount"] for f in company),
                                             "weighted": round(sum(f["weighted"] for f in company), 2)}}


def bench_check(bench: Bench, root: Path, runs: int, rows: int) -> Workload:
    path = gen.ensure_check_file(root, rows, log=bench.log)
    work = Workload(f"check {rows:,} rows")
    for _ in range(runs):
        work.runs.append(bench.timed([bench.sheetsales("check", str(path), "--as-of", gen.AS_OF.isoformat())]))
    return work


def spread(w: Workload) -> str:
    return f"{min(w.seconds):.2f}–{max(w.seconds):.2f}"


def render(sizes: list[dict], check: Workload | None, runs: int, label: str) -> str:
    lines = [f"sheetsales benchmark ({label}) — {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, "
             f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
             f"{runs} runs per workload, whole processes, wall seconds (median, min–max), peak RSS of the "
             f"largest process",
             "", "| reps | workload | median s | min–max s | peak MB | vs straightforward |",
             "|---:|---|---:|---:|---:|---:|"]
    for s in sizes:
        work = s["work"]
        base = work["straightforward"]
        for w in work.values():
            if not w.runs:  # a workload that could not run (logged when it happened)
                lines.append(f"| {s['reps']} | {w.name} | – | – | – | did not run |")
                continue
            if w.name == "rebuild":
                pairs = [a / b for a, b in zip(w.seconds, base.seconds, strict=True)]
                ratio = statistics.median(pairs)
                versus = f"{ratio:.2f}× ({'slower' if ratio > 1 else 'faster'}; pairs {min(pairs):.2f}–{max(pairs):.2f})"
            elif w.name == "straightforward":
                versus = "1×"
            else:
                versus = f"{w.median() / base.median():.2f}×"
            name = f"{w.name} ({s['tenth']} lists)" if w.name == "10% save" else w.name
            lines.append(f"| {s['reps']} | {name} | {w.median():.2f} | {spread(w)} | {w.peak():.0f} | {versus} |")
    if check is not None:
        lines.append(f"| – | {check.name} (one MPC list) | {check.median():.2f} | {spread(check)} | "
                     f"{check.peak():.0f} | |")
    lines.append("")
    for s in sizes:
        lines.append(f"{s['reps']} reps: {s['files']} workbooks, {s['deals']} deals, {s['log_rows']} log rows")
        c = s["closeness"]
        if c:
            b, o = c["baseline"], c["sheetsales"]
            lines.append(
                f"  figures: straightforward {b['open_deals']} open deals, {b['amount']:,.0f} amount, "
                f"{b['weighted']:,.0f} weighted; sheetsales {o['open_deals']}, {o['amount']:,.0f}, {o['weighted']:,.0f} "
                f"(amount {100 * (b['amount'] / o['amount'] - 1):+.1f} %, weighted "
                f"{100 * (b['weighted'] / o['weighted'] - 1):+.1f} %: no stage rules, duplicate claims or small-deal "
                f"threshold in the straightforward script)" if o["amount"] and o["weighted"] else "  figures: n/a")
        codes = {w.name: sorted({c for r in w.runs for c in r.codes}) for w in s["work"].values()
                 if w.name != "watch save"}
        lines.append(f"  exit statuses: {codes}")
    if len(sizes) > 1:
        lines += ["", "growth (median time ratio between consecutive sizes):"]
        for a, b in zip(sizes, sizes[1:], strict=False):
            parts = [f"{name} {b['work'][name].median() / a['work'][name].median():.1f}×" for name in a["work"]
                     if a["work"][name].runs and b["work"][name].runs]
            lines.append(f"  {a['reps']} → {b['reps']} reps ({b['reps'] / a['reps']:.0f}× the reps): " + ", ".join(parts))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Time sheetsales' workloads on generated workspaces (never fails on timing).")
    ap.add_argument("--sizes", default=os.environ.get("BENCH_SIZES", "50"), help="comma-separated rep counts")
    ap.add_argument("--runs", type=int, default=int(os.environ.get("BENCH_RUNS", "3")))
    ap.add_argument("--root", default="reports/bench")
    ap.add_argument("--check-rows", type=int, default=20_000, help="rows of the checked MPC list (0: skip)")
    ap.add_argument("--deals", type=int, default=gen.Params.deals, help="deals per rep")
    ap.add_argument("--log", type=int, default=gen.Params.log, help="log rows per weekly report")
    ap.add_argument("--weeks", type=int, default=gen.Params.weeks, help="weekly reports per rep")
    ap.add_argument("--pythonpath", default="", help="import sheetsales from this checkout (e.g. a 'before')")
    ap.add_argument("--label", default="", help="what is measured, for the table's title")
    args = ap.parse_args(argv)
    root = Path(args.root)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    bench = Bench(args.pythonpath, log=lambda m: print(m, flush=True))
    results = [bench_size(bench, root, gen.Params(reps, args.deals, args.log, args.weeks), args.runs) for reps in sizes]
    check = bench_check(bench, root, args.runs, args.check_rows) if args.check_rows else None
    label = args.label or (f"sheetsales from {args.pythonpath}" if args.pythonpath else "this checkout")
    table = render(results, check, args.runs, label)
    print()
    print(table)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
    (root / f"results-{stamp}.md").write_text(table + "\n", encoding="utf-8")
    (root / f"results-{stamp}.json").write_text(json.dumps(
        [{"reps": s["reps"], **{w.name: [r.__dict__ for r in w.runs] for w in s["work"].values()}} for s in results]
        + ([{"check": [r.__dict__ for r in check.runs]}] if check else []), indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
