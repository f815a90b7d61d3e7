"""The command line, as a manager types it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conftest import WEEK1, deal, mpc_path, save_mpc

from sheetsales.cli import main
from sheetsales.workspace import Workspace


def test_init_creates_the_workspace(tmp_path: Path, capsys) -> None:
    root = tmp_path / "sales"
    assert main(["init", str(root), "--lang", "en", "--as-of", "2026-11-23"]) == 0
    out = capsys.readouterr().out
    assert "Workspace created" in out
    assert (root / "playbook.xlsx").is_file() and (root / "sheetsales.db").is_file()
    assert (root / "reports").is_dir() and (root / "archive").is_dir()
    assert sorted(p.name for p in (root / "inbox").iterdir()) == ["D01", "R01", "R02", "R03", "S01"]
    assert sorted(p.name for p in (root / "inbox" / "R02").iterdir()) == [
        "MPC_list_R02.xlsx", "Weekly_report_R02_2026-W48.xlsx"]
    # Supervisors fill no sales templates, only their decisions.
    assert [p.name for p in (root / "inbox" / "S01").iterdir()] == ["Decisions_S01.xlsx"]
    assert [p.name for p in (root / "inbox" / "D01").iterdir()] == ["Decisions_D01.xlsx"]
    # Running init again keeps everything a person may have edited.
    import openpyxl

    wb = openpyxl.load_workbook(root / "playbook.xlsx")
    wb["Team"].append(["R09", "Wendy", "East", "East team", "S01", 2])
    wb.save(root / "playbook.xlsx")
    playbook = (root / "playbook.xlsx").read_bytes()
    assert main(["init", str(root), "--as-of", "2026-11-23"]) == 0
    assert (root / "playbook.xlsx").read_bytes() == playbook
    assert (root / "inbox" / "R09" / "MPC_list_R09.xlsx").is_file()  # handed out from the managers' playbook


def test_template_hands_out_a_fresh_copy_and_never_overwrites(workspace: Workspace, tmp_path: Path, capsys) -> None:
    out = tmp_path / "new.xlsx"
    args = ["template", "weekly", "--rep", "R02", "--week", "2026-W50", "-o", str(out), "-w", str(workspace.root)]
    assert main(args) == 0
    assert out.is_file()
    before = out.read_bytes()
    assert main(args) == 2
    assert "never overwrites" in capsys.readouterr().err
    assert out.read_bytes() == before
    assert main(["template", "mpc", "--rep", "R99", "-o", str(tmp_path / "x.xlsx"), "-w", str(workspace.root)]) == 2


def test_check_exit_codes_and_json(workspace: Workspace, capsys) -> None:
    save_mpc(workspace, "R01", [deal("甲公司")])
    assert main(["check", str(mpc_path(workspace, "R01"))]) == 0
    assert "没有发现错误" in capsys.readouterr().out
    save_mpc(workspace, "R01", [deal("甲公司", amount=-3), deal("乙公司", "不知道")])
    assert main(["check", str(mpc_path(workspace, "R01")), "--json", "--lang", "en"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["kind"] == "mpc" and report["rep"] == "R01"
    assert [(i["cell"], i["code"]) for i in report["issues"]] == [("E4", "negative-amount"), ("H5", "unknown-stage")]
    assert report["issues"][0]["message"] == "'Expected amount' cannot be negative (-3)."
    # check records nothing
    assert workspace.store().counts()["file_versions"] == 0


def test_check_a_file_outside_any_workspace(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "renamed.xlsx"
    bad.write_text("not really", encoding="utf-8")
    assert main(["check", str(bad), "--lang", "en"]) == 1
    assert "[not-a-workbook]" in capsys.readouterr().out


def test_ingest_and_report_commands(workspace: Workspace, capsys) -> None:
    save_mpc(workspace, "R01", [deal("甲公司", amount=-1)])
    assert main(["ingest", str(workspace.root), "--as-of", WEEK1.isoformat(), "-q"]) == 0
    out = capsys.readouterr().out
    assert "[negative-amount]" in out and "1 个错误" in out
    assert main(["report", str(workspace.root), "--as-of", WEEK1.isoformat()]) == 0
    assert "summary.xlsx" in capsys.readouterr().out
    assert (workspace.reports / "summary.xlsx").is_file()


def test_not_a_workspace_is_a_clear_error(tmp_path: Path, capsys) -> None:
    assert main(["ingest", str(tmp_path)]) == 2
    assert "not a sheetsales workspace" in capsys.readouterr().err


def test_console_script_runs(tmp_path: Path) -> None:
    exe = Path(sys.executable).with_name("sheetsales")
    done = subprocess.run([str(exe), "--version"], capture_output=True, text=True, check=True)
    assert done.stdout.startswith("sheetsales ")


# --- check says what ingest will do ------------------------------------------------------------
def _check_json(path: Path, *extra: str) -> tuple[int, dict]:
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["check", str(path), "--json", "--as-of", WEEK1.isoformat(), *extra])
    return code, json.loads(out.getvalue())


def _recorded(ws: Workspace, label: str) -> list[tuple[str, str]]:
    from sheetsales.ingest import ingest

    result = ingest(ws, WEEK1)
    return [(i.cell, i.code) for p in result.files if p.label == label for i in p.issues]


def test_check_reports_what_ingest_records_for_a_workbook_naming_someone_else(workspace: Workspace) -> None:
    from sheetsales.fill import fill_table
    from sheetsales.specs import MPC_TABLE

    forged = workspace.inbox / "R01" / "李娜的表.xlsx"
    fill_table(mpc_path(workspace, "R02"), MPC_TABLE, [deal("乙公司", amount=-1)], out=forged)
    code, report = _check_json(forged)
    assert code == 1 and report["readable"] is False
    checked = [(i["cell"], i["code"]) for i in report["issues"]]
    assert checked == [("", "foreign-workbook")] == _recorded(workspace, "R01/李娜的表.xlsx")


def test_check_reports_a_save_as_copy_as_ingest_does(workspace: Workspace) -> None:
    real = save_mpc(workspace, "R03", [deal("甲公司", amount=-5)])
    copy = real.with_name("MPC一览表_R03 - 副本.xlsx")
    copy.write_bytes(real.read_bytes())
    code, report = _check_json(copy)
    assert code == 1
    assert [(i["code"], i["message"]) for i in report["issues"]] == [(
        "duplicate-workbook", "文件夹里有两份MPC一览表:“MPC一览表_R03.xlsx”和“MPC一览表_R03 - 副本.xlsx”。"
        "系统只采用“MPC一览表_R03.xlsx”;“MPC一览表_R03 - 副本.xlsx”(例如“另存为”的副本)在删除之前被忽略。请删除多余的那一份。")]
    code, canonical = _check_json(real)
    assert code == 1 and [(i["cell"], i["code"]) for i in canonical["issues"]] == [("E4", "negative-amount")]
    from sheetsales.ingest import ingest

    recorded = {p.label: [(i.cell, i.code) for i in p.issues] for p in ingest(workspace, WEEK1).files}
    assert recorded["R03/MPC一览表_R03 - 副本.xlsx"] == [(i["cell"], i["code"]) for i in report["issues"]]
    assert recorded["R03/MPC一览表_R03.xlsx"] == [(i["cell"], i["code"]) for i in canonical["issues"]]


def test_check_turns_an_internal_failure_into_file_failed(workspace: Workspace, monkeypatch, capsys) -> None:
    from sheetsales import ingest as ingest_module

    def broken(*args, **kwargs):  # noqa: ANN002, ANN003 - a seam for an internal error
        raise ZeroDivisionError("division by zero")

    path = save_mpc(workspace, "R01", [deal("甲公司")])
    monkeypatch.setattr(ingest_module, "_read_mpc", broken)
    assert main(["check", str(path), "--lang", "en"]) == 1
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    assert out.splitlines() == [
        "R01/MPC一览表_R01.xlsx  [file-failed] An internal error occurred while processing this file "
        "(ZeroDivisionError: division by zero). Nothing of it was recorded and everyone else's files were; it is "
        "skipped until its content changes. Check the cells you changed last and save again; if it persists, "
        "tell a manager (details are in the log)."]
    assert _recorded(workspace, "R01/MPC一览表_R01.xlsx") == [("", "file-failed")]


def test_check_and_ingest_apply_the_playbooks_limits(workspace: Workspace) -> None:
    import openpyxl

    from sheetsales.ingest import ingest

    wb = openpyxl.load_workbook(workspace.playbook_path)
    for row in wb["设置"].iter_rows():
        if row[0].value == "max_rows":
            row[1].value = 10
    wb.save(workspace.playbook_path)
    assert ingest(workspace, WEEK1).playbook_issues == []  # the edited playbook is in force
    path = save_mpc(workspace, "R01", [deal(f"客户{n}") for n in range(12)])
    code, report = _check_json(path)
    checked = [(i["sheet"], i["cell"], i["code"]) for i in report["issues"]]
    assert code == 1 and ("MPC一览表", "", "too-many-rows") in checked
    result = ingest(workspace, WEEK1)
    assert [(i.sheet, i.cell, i.code) for p in result.files if "MPC" in p.label for i in p.issues] == checked
