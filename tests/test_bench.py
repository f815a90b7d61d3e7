"""`make bench` cannot rot: the workspace generator and the runner at a tiny size (no timing assertions)."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from sheetsales.reading.templates import template_filename
from sheetsales.service.workspace import Workspace
from sheetsales.storage.ingest import ingest

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"


@pytest.fixture
def gen():  # noqa: ANN201
    sys.path.insert(0, str(BENCH))
    try:
        import workspace_gen

        yield workspace_gen
    finally:
        sys.path.remove(str(BENCH))


def test_generator_builds_every_kind_of_file_and_caches_per_size(tmp_path: Path, gen) -> None:  # noqa: ANN001
    p = gen.Params(reps=5, deals=6, log=3, weeks=2)
    messages: list[str] = []
    root = gen.ensure_workspace(tmp_path, p, jobs=1, log=messages.append)
    ws = Workspace.open(root)
    playbook = gen.playbook_for(p)
    assert len(playbook.reps) == 5 and {x.id[0] for x in playbook.team} == {"D", "M", "S", "R"}
    weeks = [gen.iso_week(m) for m in gen._mondays(2)]
    for rep in playbook.reps:
        assert (ws.inbox / rep.id / template_filename("mpc", "zh-CN", rep.id)).is_file()
        for week in weeks:
            assert (ws.inbox / rep.id / template_filename("weekly", "zh-CN", rep.id, week)).is_file()
    assert (ws.inbox / "R0003" / "MPC一览表_R0003 - 副本.xlsx").is_file()  # the Save As copy
    assert not zipfile.is_zipfile(ws.inbox / "R0005" / template_filename("weekly", "zh-CN", "R0005", weeks[0]))

    # What sheetsales makes of it: the copy and the damaged file are reported, the deals recorded.
    result = ingest(ws, gen.AS_OF)
    codes = {i.code for f in result.files for i in f.issues}
    assert {"duplicate-workbook", "corrupt-workbook"} <= codes
    assert result.new >= 5 * (1 + 2)

    # Cached: a second call does not generate again; other parameters do.
    generated = len(messages)
    assert gen.ensure_workspace(tmp_path, p, jobs=1, log=messages.append) == root
    assert len(messages) == generated
    gen.ensure_workspace(tmp_path, gen.Params(reps=5, deals=7, log=3, weeks=2), jobs=1, log=messages.append)
    assert len(messages) > generated


def test_runner_times_every_workload_at_a_tiny_size(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, str(BENCH / "run.py"), "--root", str(tmp_path), "--sizes", "2", "--runs", "1",
         "--deals", "8", "--log", "3", "--weeks", "1", "--check-rows", "30"],
        capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    for workload in ("rebuild", "straightforward", "unchanged", "one save", "10% save", "check 30 rows"):
        assert f"| {workload}" in out.stdout, workload
    runs = json.loads(next(tmp_path.glob("results-*.json")).read_text())
    size = runs[0]
    assert size["reps"] == 2
    for workload in ("rebuild", "straightforward", "unchanged", "one save", "10% save"):
        (run,) = size[workload]
        assert run["seconds"] > 0 and run["peak_mb"] > 0
        assert run["codes"] == [0] * len(run["codes"]), workload
    assert len(size["rebuild"][0]["codes"]) == 2  # ingest, then report
    # The straightforward script and the summary read the same two lists: the same open deals.
    figures = next(line for line in out.stdout.splitlines() if "figures:" in line)
    baseline = json.loads((tmp_path / "scratch" / "2" / "straightforward.json").read_text().splitlines()[-1])
    report = json.loads((tmp_path / "scratch" / "2" / "report.json").read_text())
    company = [f for f in report["funnel"] if f["level"] == "company"]
    assert baseline["open_deals"] == sum(f["count"] for f in company) > 0, figures
    assert baseline["lists"] == 2 and baseline["weekly_reports"] == 2
