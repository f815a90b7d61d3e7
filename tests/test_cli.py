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
