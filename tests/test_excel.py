"""The live-Excel adapter, through the interface it shares with the file-based path (a fake book).

xlwings itself needs Excel on Windows or macOS; here the same functions run on a fake book whose
"live" state is a workbook file with unsaved edits, and their findings are compared with what
``sheetsales check`` says about the same workbook.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sys
from pathlib import Path

import pytest
from conftest import WEEK1, deal, mpc_path, save_mpc

from sheetsales.issues import Issue
from sheetsales.reading.fill import fill_table
from sheetsales.reading.specs import MPC_TABLE
from sheetsales.service import excel
from sheetsales.service.cli import main
from sheetsales.service.excel import FILLS, MARK, check_book, plan_marks, refresh_book
from sheetsales.service.workspace import Workspace
from sheetsales.storage.ingest import ingest


class FakeBook:
    """An open workbook: saved at ``path``, with its current (maybe unsaved) state in ``live``."""

    def __init__(self, path: Path, live: Path | None = None, fills: dict | None = None) -> None:
        self.name = path.name
        self.path = path
        self.live = live or path
        self.fills: dict[tuple[str, str], tuple | None] = dict(fills or {})
        self.notes: dict[tuple[str, str], str] = {}
        self.calls: list[str] = []

    def save_copy(self, dest: Path) -> None:
        self.calls.append("save_copy")
        shutil.copyfile(self.live, dest)

    def marked_cells(self) -> list[tuple[str, str]]:
        return [k for k, note in self.notes.items() if note.startswith(MARK)]

    def mark(self, sheet: str, cell: str, note: str, fill: tuple[int, int, int]) -> None:
        self.notes[(sheet, cell)] = note
        self._before = getattr(self, "_before", {})
        self._before.setdefault((sheet, cell), self.fills.get((sheet, cell)))
        self.fills[(sheet, cell)] = fill

    def unmark(self, sheet: str, cell: str) -> None:
        del self.notes[(sheet, cell)]
        self.fills[(sheet, cell)] = self._before.pop((sheet, cell))

    def close(self) -> None:
        self.calls.append("close")

    def reopen(self) -> None:
        self.calls.append("reopen")


def cli_check(path: Path, capsys: pytest.CaptureFixture) -> list[tuple[str, str, str]]:
    main(["check", str(path), "--json"])
    return [(i["sheet"], i["cell"], i["code"]) for i in json.loads(capsys.readouterr().out)["issues"]]


def test_the_open_workbook_is_checked_with_its_unsaved_edits_and_its_cells_marked(
        workspace: Workspace, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    saved = save_mpc(workspace, "R01", [deal("大庆石化机械厂")])
    live = fill_table(saved, MPC_TABLE, [deal("大庆石化机械厂", amount=-5, sign="下个月"),
                                         deal("天津港务集团", stage="随便")], out=tmp_path / "live.xlsx")
    book = FakeBook(saved, live)
    result = check_book(book)
    found = [(i.sheet, i.cell, i.code) for i in result.issues]
    assert found == cli_check(live, capsys)  # the same checks as the file-based path
    assert {code for *_, code in found} >= {"negative-amount", "text-date", "unknown-stage"}
    assert cli_check(saved, capsys) == []  # what is saved is fine: the edits were not
    marked = {cell: note for (_, cell), note in book.notes.items()}
    assert set(marked) == {cell for _, cell, _ in found}
    for _, cell, code in found:
        assert marked[cell].startswith(MARK + "\n") and f"[{code}]" in marked[cell]
        assert book.fills[("MPC一览表", cell)] == FILLS["error"]
    amount = next(i.cell for i in result.issues if i.code == "negative-amount")
    assert "预计合同金额" in marked[amount]  # the message, in the workspace language
    assert result.file_issues == [] and "3" in result.message("zh-CN")


def test_fixed_cells_lose_their_marks_and_get_their_colour_back(workspace: Workspace, tmp_path: Path) -> None:
    saved = save_mpc(workspace, "R01", [deal("大庆石化机械厂", amount=-5)])
    [issue] = check_book(FakeBook(saved)).issues
    cell = (issue.sheet, issue.cell)
    book = FakeBook(saved, fills={cell: (221, 235, 247)})  # a cell the rep had coloured
    check_book(book)
    assert book.marked_cells() == [cell] and book.fills[cell] == FILLS["error"]
    save_mpc(workspace, "R01", [deal("大庆石化机械厂", amount=5)])  # the rep fixes it
    result = check_book(book)
    assert result.issues == [] and book.marked_cells() == []
    assert book.fills[cell] == (221, 235, 247)


def test_issues_without_a_cell_are_reported_for_the_whole_file(workspace: Workspace, tmp_path: Path) -> None:
    import openpyxl

    stray = workspace.inbox / "R01" / "随便.xlsx"
    wb = openpyxl.Workbook()
    wb.active["A1"] = "hello"
    wb.save(stray)
    book = FakeBook(stray)
    result = check_book(book)
    assert [i.code for i in result.file_issues] == ["unknown-workbook"] and result.marks == []
    assert "模板" in result.message("zh-CN")


def test_several_issues_in_one_cell_are_one_mark_red_if_any_is_an_error() -> None:
    issues = [Issue("date-outside-week", "f.xlsx", "工作日志", "A6", {"value": "x", "week": "w", "start": 1, "end": 2}),
              Issue("missing-value", "f.xlsx", "工作日志", "A6", {"column": "日期"}),
              Issue("date-outside-week", "f.xlsx", "工作日志", "A7", {"value": "x", "week": "w", "start": 1, "end": 2}),
              Issue("missing-meta", "f.xlsx", params={"kind": "mpc"})]
    marks, file_wide = plan_marks(issues, "en")
    assert [(m.cell, m.fill, m.note.count("\n")) for m in marks] == [("A6", FILLS["error"], 2),
                                                                     ("A7", FILLS["warning"], 1)]
    assert [i.code for i in file_wide] == ["missing-meta"]


def test_refresh_from_the_open_summary_closes_it_for_the_rewrite(workspace: Workspace) -> None:
    save_mpc(workspace, "R01", [deal("大庆石化机械厂")])
    ingest(workspace, WEEK1)
    from sheetsales.outputs.report import run_report

    summary = run_report(workspace, WEEK1).summary_path
    book = FakeBook(summary)
    result = refresh_book(book)
    assert book.calls == ["close", "reopen"] and result.summary_path == summary
    rep_book = FakeBook(mpc_path(workspace, "R01"))
    refresh_book(rep_book)
    assert rep_book.calls == []  # a rep's own workbook stays open: it is only read
    with pytest.raises(LookupError):
        refresh_book(FakeBook(Path("/nowhere/book.xlsx")))


@pytest.mark.skipif(sys.platform in ("win32", "darwin"), reason="Excel may be there")
def test_without_excel_the_adapter_says_what_it_needs(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(RuntimeError, match=r"sheetsales\[excel\]"):
        excel._xlwings()
    assert excel.main(["check"]) == 2
    assert "Windows or macOS" in capsys.readouterr().err
    assert excel.main(["nonsense"]) == 2
    assert "xlwings" not in sys.modules


def test_check_book_without_a_workspace_uses_the_default_playbook(tmp_path: Path, workspace: Workspace) -> None:
    outside = tmp_path / "elsewhere" / "MPC.xlsx"
    outside.parent.mkdir()
    shutil.copyfile(save_mpc(workspace, "R01", [deal("大庆石化机械厂", sign=dt.date(2026, 12, 1))]), outside)
    result = check_book(FakeBook(outside), lang="en")
    assert [i.code for i in result.issues] == []


def test_an_internal_error_while_checking_the_open_workbook_is_an_issue_not_a_crash(
        workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    """Excel shows a message instead of a Python traceback, like `sheetsales check` (file-failed)."""
    saved = save_mpc(workspace, "R01", [deal("大庆石化机械厂")])

    def broken(*_args: object, **_kwargs: object) -> None:  # the seam: an internal error in the reader
        raise RuntimeError("reader bug")

    monkeypatch.setattr("sheetsales.storage.ingest.parse_input", broken)
    result = check_book(FakeBook(saved))
    assert [i.code for i in result.issues] == ["file-failed"]
    assert [i.code for i in result.file_issues] == ["file-failed"]
    assert "RuntimeError" in result.message("en")
