"""The command line, as a manager types it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conftest import WEEK1, deal, mpc_path, save_mpc

from sheetsales.service.cli import main
from sheetsales.service.workspace import Workspace


def test_init_creates_the_workspace(tmp_path: Path, capsys) -> None:
    root = tmp_path / "sales"
    assert main(["init", str(root), "--lang", "en", "--sample", "--as-of", "2026-11-23"]) == 0
    out = capsys.readouterr().out
    assert "Workspace created" in out
    assert (root / "playbook.xlsx").is_file() and (root / "sheetsales.db").is_file()
    assert (root / "reports").is_dir() and (root / "archive").is_dir()
    assert sorted(p.name for p in (root / "inbox").iterdir()) == ["D01", "R01", "R02", "R03", "S01"]
    assert {"MPC_list_R02.xlsx", "Weekly_report_R02_2026-W48.xlsx"} <= {p.name for p in (root / "inbox" / "R02").iterdir()}
    # Supervisors fill no sales templates (MPC list, weekly report), and they decide.
    for boss in ("S01", "D01"):
        names = {p.name for p in (root / "inbox" / boss).iterdir()}
        assert f"Decisions_{boss}.xlsx" in names and not any(n.startswith(("MPC", "Weekly")) for n in names)
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
    assert main(["ingest", str(workspace.root), "--as-of", WEEK1.isoformat(), "-q"]) == 1  # a file has errors
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
    from sheetsales.storage.ingest import ingest

    result = ingest(ws, WEEK1)
    return [(i.cell, i.code) for p in result.files if p.label == label for i in p.issues]


def test_check_reports_what_ingest_records_for_a_workbook_naming_someone_else(workspace: Workspace) -> None:
    from sheetsales.reading.fill import fill_table
    from sheetsales.reading.specs import MPC_TABLE

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
    from sheetsales.storage.ingest import ingest

    recorded = {p.label: [(i.cell, i.code) for i in p.issues] for p in ingest(workspace, WEEK1).files}
    assert recorded["R03/MPC一览表_R03 - 副本.xlsx"] == [(i["cell"], i["code"]) for i in report["issues"]]
    assert recorded["R03/MPC一览表_R03.xlsx"] == [(i["cell"], i["code"]) for i in canonical["issues"]]


def test_check_turns_an_internal_failure_into_file_failed(workspace: Workspace, monkeypatch, capsys) -> None:
    from sheetsales.storage import ingest as ingest_module

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

    from sheetsales.storage.ingest import ingest

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


# --- exit codes and messages of issue 11 -----------------------------------------------------------
def test_ingest_exits_1_on_errors_and_its_last_line_counts_what_is_still_open(workspace: Workspace, capsys) -> None:
    root, week = str(workspace.root), WEEK1.isoformat()
    save_mpc(workspace, "R01", [deal("甲公司", amount=-1), deal("乙公司", amount=-2)])
    assert main(["ingest", root, "--as-of", week, "-q"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[-2].endswith("2 个错误,0 个警告。")  # what this run read
    assert lines[-1] == "目前未解决:2 个错误,0 个警告(见汇总的“数据问题”表)。"
    # Nothing new: exit 0, and the last line still counts the two open errors.
    assert main(["ingest", root, "--as-of", week, "-q"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "0 个错误" in lines[-2] and lines[-1].startswith("目前未解决:2 个错误")
    # A warning alone is no failure; the fixed list closes the errors.
    save_mpc(workspace, "R01", [deal("甲公司")])
    assert main(["ingest", root, "--as-of", week, "-q"]) == 0
    assert capsys.readouterr().out.splitlines()[-1].startswith("目前未解决:0 个错误")


def test_every_argument_has_help_text() -> None:
    import argparse

    from sheetsales.service.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    missing = [f"{name} {'/'.join(a.option_strings) or a.dest}" for name, sp in sub.choices.items()
               for a in sp._actions if not isinstance(a, argparse._HelpAction) and not a.help]
    assert missing == []
    assert all(sp.description for sp in sub.choices.values())


def test_a_plain_init_has_no_sample_team_and_says_what_to_do_next(tmp_path: Path, capsys) -> None:
    from sheetsales.method.playbook import read_playbook

    root = tmp_path / "sales"
    assert main(["init", str(root), "--lang", "en", "--as-of", "2026-11-23"]) == 0
    out = capsys.readouterr().out
    assert "Next:" in out and "Team sheet" in out and f"sheetsales ingest {root}" in out
    assert list((root / "inbox").iterdir()) == []
    # The Team sheet is the managers' to fill: until then ingest says so (exit 1) and hands out nothing.
    assert main(["ingest", str(root), "--as-of", "2026-11-23", "-q"]) == 1
    out = capsys.readouterr().out
    assert "playbook.xlsx!Team!A4  [missing-value]" in out and "[playbook-rejected-first]" in out
    assert list((root / "inbox").iterdir()) == []
    import openpyxl

    wb = openpyxl.load_workbook(root / "playbook.xlsx")
    wb["Team"].append(["E07", "Wendy", "East", "East team", "", 2])
    wb.save(root / "playbook.xlsx")
    assert main(["ingest", str(root), "--as-of", "2026-11-23", "-q"]) == 0
    assert {"MPC_list_E07.xlsx", "Weekly_report_E07_2026-W48.xlsx"} <= {p.name for p in (root / "inbox" / "E07").iterdir()}
    playbook, issues = read_playbook(root / "playbook.xlsx", "en")
    assert issues == [] and [p.id for p in playbook.team] == ["E07"]


def test_user_errors_are_messages_not_tracebacks(tmp_path: Path, capsys) -> None:
    afile = tmp_path / "notes.txt"
    afile.write_text("x", encoding="utf-8")
    assert main(["init", str(afile)]) == 2
    assert capsys.readouterr().err == f"error: {afile} 是一个文件,不是文件夹。请为工作区指定一个文件夹。\n"
    assert main(["init", str(afile / "ws"), "--lang", "en"]) == 2  # a file on the way
    err = capsys.readouterr().err
    assert err.startswith(f"error: Cannot create the folder {afile / 'ws'}") and "Traceback" not in err
    assert main(["check", str(tmp_path / "absent.xlsx")]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main(["check", str(tmp_path)]) == 2
    assert capsys.readouterr().err == f"error: {tmp_path} is a folder; give a workbook (.xlsx)\n"
    from sheetsales.service.workspace import init_workspace

    ws = init_workspace(tmp_path / "ws", as_of=WEEK1, sample=True)
    assert main(["template", "mpc", "--rep", "R01", "-o", str(tmp_path / "nowhere" / "x.xlsx"), "-w", str(ws.root)]) == 2
    assert capsys.readouterr().err == f"error: no such folder: {tmp_path / 'nowhere'}\n"
    import pytest

    with pytest.raises(SystemExit) as exited:  # argparse's usage error: exit 2, no traceback
        main(["template", "weekly", "--rep", "R01", "--week", "bogus", "-w", str(ws.root)])
    assert exited.value.code == 2 and "not an ISO week (yyyy-Www, e.g. 2026-W48): 'bogus'" in capsys.readouterr().err
    (ws.root / "sheetsales.toml").write_text('language = "en\n', encoding="utf-8")  # a quote left open
    assert main(["report", str(ws.root)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {ws.root / 'sheetsales.toml'} cannot be read (") and "Traceback" not in err


def test_not_a_workspace_never_invites_init_at_a_mistyped_path(tmp_path: Path, capsys, monkeypatch) -> None:
    from sheetsales.service.workspace import init_workspace

    init_workspace(tmp_path / "sales-east", as_of=WEEK1)
    monkeypatch.chdir(tmp_path)
    assert main(["report", "sales-eats"]) == 2  # mistyped
    err = capsys.readouterr().err
    assert err == ("error: no such folder: sales-eats. Give the workspace folder, the one that holds "
                   "sheetsales.toml. Did you mean sales-east?\n")
    assert main(["ingest", "sales-east/inbox"]) == 2  # a folder inside the workspace
    err = capsys.readouterr().err
    assert "sales-east/inbox is not a sheetsales workspace" in err and "Did you mean sales-east?" in err
    assert "init" not in err
    (tmp_path / "empty").mkdir()
    assert main(["report", "empty"]) == 2  # an empty folder: that one may become a workspace
    assert capsys.readouterr().err.endswith("To make this empty folder a workspace: sheetsales init empty\n")
    (tmp_path / "papers").mkdir()
    (tmp_path / "papers" / "a.txt").write_text("x", encoding="utf-8")
    assert main(["report", "papers"]) == 2
    assert "init" not in capsys.readouterr().err


def test_a_closed_pipe_ends_the_command_quietly(workspace: Workspace) -> None:
    from sheetsales.storage.ingest import ingest

    save_mpc(workspace, "R01", [deal(f"客户{n:03d}", amount=100_000 + n) for n in range(300)])
    ingest(workspace, WEEK1)  # JSON of some 300 KB: far more than a pipe holds, so the writer meets the closed end
    exe = Path(sys.executable).with_name("sheetsales")
    proc = subprocess.Popen([str(exe), "report", str(workspace.root), "--json", "--no-write", "--as-of",
                             WEEK1.isoformat()], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()  # `| head -1`
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert first == b"{\n", err
    assert proc.wait(timeout=120) == 141
    assert err == ""


def test_progress_is_a_bar_on_a_terminal_and_plain_lines_in_a_pipe(monkeypatch, capsys) -> None:
    from sheetsales.service import cli

    monkeypatch.setattr(sys.stderr, "isatty", lambda: False)
    show = cli._progress()
    for n in range(1, 121):
        show(n, 120, f"R{n:03d}/MPC.xlsx")
    assert capsys.readouterr().err.splitlines() == ["[50/120] R050/MPC.xlsx", "[100/120] R100/MPC.xlsx",
                                                    "[120/120] R120/MPC.xlsx"]
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    monkeypatch.setattr(cli, "PROGRESS_DELAY", 0)
    show = cli._progress()
    for n in range(1, 121):
        show(n, 120, f"R{n:03d}/MPC.xlsx")
    err = capsys.readouterr().err
    assert "\r" in err and "/120 [" in err and "file/s" in err  # tqdm's bar, redrawn in place


def test_report_tells_its_progress_output_by_output(workspace: Workspace, monkeypatch, capsys) -> None:
    from sheetsales.method.playbook import read_playbook
    from sheetsales.outputs.report import run_report

    seen: list[tuple[int, int, str]] = []
    run_report(workspace, WEEK1, progress=lambda n, total, label: seen.append((n, total, label)))
    people = len(read_playbook(workspace.playbook_path, workspace.lang)[0].team)
    assert [n for n, _, _ in seen] == list(range(1, people + 2))  # the summary, then each person's feedback
    assert {total for _, total, _ in seen} == {people + 1}
    assert seen[0][2] == "summary.xlsx" and all(label.startswith("feedback/") for _, _, label in seen[1:])
    capsys.readouterr()
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False)  # piped: the last line says it is done
    assert main(["report", str(workspace.root), "--as-of", WEEK1.isoformat()]) == 0
    assert capsys.readouterr().err.splitlines()[-1].startswith(f"[{people + 1}/{people + 1}] feedback/")
    assert main(["report", str(workspace.root), "--as-of", WEEK1.isoformat(), "-q"]) == 0
    assert "[" not in capsys.readouterr().err


# --- check outside a workspace ----------------------------------------------------------------------
def _english_copy(ws: Workspace, dest: Path, **values: object) -> Path:
    import datetime as dt

    from sheetsales.reading.fill import fill_table
    from sheetsales.reading.specs import MPC_TABLE

    row = {"customer": "Acme", "stage": "Solution design", "amount": 100_000, "sign_date": dt.date(2026, 12, 15),
           "category": "CNC machine", **values}
    return fill_table(mpc_path(ws, "R01"), MPC_TABLE, [row], out=dest)


def test_check_finds_the_workspace_a_copy_comes_from(workspace_en: Workspace, tmp_path: Path, monkeypatch,
                                                     capsys) -> None:
    import openpyxl

    # The workspace sells its own products: a copy mailed elsewhere is checked against them.
    wb = openpyxl.load_workbook(workspace_en.playbook_path)
    wb["Products"].append(["Robot cell", "RC-1"])
    wb.save(workspace_en.playbook_path)
    elsewhere = tmp_path / "mail"
    elsewhere.mkdir()
    copy = _english_copy(workspace_en, elsewhere / "MPC from Zhang.xlsx", category="Robot cell", amount=-5)
    monkeypatch.chdir(elsewhere)
    assert main(["check", str(copy), "--as-of", WEEK1.isoformat()]) == 1
    out, err = capsys.readouterr()
    assert out.splitlines() == ["MPC from Zhang.xlsx!MPC list!E4  [negative-amount] 'Expected amount' cannot "
                                "be negative (-5)."]  # Robot cell is one of the workspace's products
    assert err == (f"Checked against the playbook of the workspace {workspace_en.root.resolve()} (found by the "
                   "workbook's hidden sheet).\n")
    assert main(["check", str(copy), "--lang", "zh-CN", "--as-of", WEEK1.isoformat()]) == 1
    out, err = capsys.readouterr()
    assert "“预计合同金额”不能为负数(-5)" in out and err.startswith("按工作区")
    # --workspace names it outright; a folder that is no workspace is an error.
    assert main(["check", str(copy), "--workspace", str(workspace_en.root), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert [i["code"] for i in report["issues"]] == ["negative-amount"]
    assert report["workspace"] == str(workspace_en.root.resolve())
    assert main(["check", str(copy), "--workspace", str(tmp_path / "nowhere")]) == 2
    assert "no such folder" in capsys.readouterr().err
    # Where no workspace is known, a template handed out after Robot cell was added still offers it
    # in its drop-down (its hidden list sheet): that category counts; the older copy's does not.
    from sheetsales.service.workspace import REGISTRY_ENV

    monkeypatch.setenv(REGISTRY_ENV, str(tmp_path / "nobody-knows.json"))
    fresh = elsewhere / "fresh.xlsx"
    assert main(["template", "mpc", "--rep", "R02", "-o", str(fresh), "-w", str(workspace_en.root)]) == 0
    from sheetsales.reading.fill import fill_table
    from sheetsales.reading.specs import MPC_TABLE

    row = {"customer": "Acme", "stage": "Solution design", "amount": 5, "category": "Robot cell", "sign_date": WEEK1}
    fill_table(fresh, MPC_TABLE, [row])
    capsys.readouterr()
    assert main(["check", str(fresh)]) == 0
    assert main(["check", str(copy)]) == 1
    assert "[unknown-category]" in capsys.readouterr().out


def test_check_without_a_workspace_knows_the_sample_products_of_both_languages(
        workspace: Workspace, workspace_en: Workspace, tmp_path: Path, monkeypatch, capsys) -> None:
    from sheetsales.reading.fill import fill_table
    from sheetsales.reading.specs import MPC_TABLE
    from sheetsales.service.workspace import REGISTRY_ENV

    monkeypatch.setenv(REGISTRY_ENV, str(tmp_path / "nobody-knows.json"))  # a machine that never saw them
    monkeypatch.chdir(tmp_path)
    english = _english_copy(workspace_en, tmp_path / "en.xlsx")
    assert main(["check", str(english)]) == 0
    out, err = capsys.readouterr()
    assert out == "en.xlsx: no errors found.\n" and err.startswith("Not in any workspace")
    chinese = save_mpc(workspace, "R01", [deal("甲公司", category="激光切割机")])
    mixed = tmp_path / "zh.xlsx"
    mixed.write_bytes(chinese.read_bytes())
    assert main(["check", str(mixed), "--lang", "en"]) == 0  # the English messages of a Chinese workbook
    assert capsys.readouterr().out == "zh.xlsx: no errors found.\n"
    unknown = _english_copy(workspace_en, tmp_path / "unknown.xlsx", category="Spaceship")
    assert main(["check", str(unknown)]) == 1
    assert "[unknown-category]" in capsys.readouterr().out
    # A real team's workbook: its rep is nobody of the sample team, and is still checked cell by cell.
    import openpyxl

    wb = openpyxl.load_workbook(workspace_en.playbook_path)
    wb["Team"].append(["E042", "Wendy Wu", "East", "East team", "S01", 2])
    wb.save(workspace_en.playbook_path)
    from sheetsales.storage.ingest import ingest

    ingest(workspace_en, WEEK1)  # hands out E042's templates
    theirs = tmp_path / "e042.xlsx"
    fill_table(mpc_path(workspace_en, "E042"), MPC_TABLE, [{"customer": "Acme", "stage": "Solution design",
                                                            "amount": -7, "category": "CNC machine", "sign_date": WEEK1}],
               out=theirs)
    assert main(["check", str(theirs), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert (report["rep"], report["workspace"]) == ("E042", None)
    assert [i["code"] for i in report["issues"]] == ["negative-amount"]


def test_people_removed_from_the_playbook_get_nothing_new_and_are_reported(workspace: Workspace, capsys) -> None:
    import openpyxl

    save_mpc(workspace, "R03", [deal("甲公司")])
    root, week = str(workspace.root), WEEK1.isoformat()
    assert main(["ingest", root, "--as-of", week, "-q"]) == 0
    assert main(["report", root, "--as-of", week]) == 0
    feedback = (workspace.reports / "feedback" / "R03.xlsx").read_bytes()
    wb = openpyxl.load_workbook(workspace.playbook_path)
    team = wb["团队"]
    team.delete_rows(next(r[0].row for r in team.iter_rows() if r[0].value == "R03"))
    wb.save(workspace.playbook_path)
    files = sorted(p.name for p in (workspace.inbox / "R03").iterdir())
    capsys.readouterr()
    next_week = (WEEK1 + __import__("datetime").timedelta(days=7)).isoformat()
    assert main(["ingest", root, "--as-of", next_week, "-q"]) == 0
    out = capsys.readouterr().out
    assert (f"inbox/R03:R03 已不在作战手册的团队表中。此文件夹及其 {len(files)} 个文件保持原样,"
            "不再为其生成模板或反馈。") in out.splitlines()
    assert sorted(p.name for p in (workspace.inbox / "R03").iterdir()) == files  # kept, no new weekly report
    assert (workspace.inbox / "R01" / "工作周报_R01_2026-W46.xlsx").is_file()  # the others get theirs
    assert main(["report", root, "--as-of", next_week]) == 0
    assert "(4 人)" in capsys.readouterr().out  # D01, S01, R01, R02
    assert (workspace.reports / "feedback" / "R03.xlsx").read_bytes() == feedback  # kept, not rewritten
    assert main(["init", root, "--as-of", next_week]) == 0
    assert "inbox/R03:R03 已不在作战手册的团队表中" in capsys.readouterr().out
