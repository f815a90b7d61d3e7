"""Live Excel (the ``excel`` extra): check the open workbook and refresh the summary from inside Excel.

A thin adapter over the file-based path. :func:`check_book` saves a copy of the live workbook to a
temporary file, validates it with the same :func:`sheetsales.storage.ingest.read_file` that ingest and
``sheetsales check`` run, and marks every issue on its cell (a note with the messages, and a
fill: red for an error, amber for a warning), after removing the marks of the previous check.
Issues about the file as a whole are returned for a message box. :func:`refresh_book` runs
ingest and the reports for the workspace the workbook belongs to; a generated workbook that is
open (the summary, a feedback workbook) is closed for the rewrite and opened again.

Everything here works through the small :class:`Book` interface; :class:`XlwingsBook` implements
it with xlwings, which is imported only when Excel is used (Windows or macOS, ``pip install
"sheetsales[excel]"``). The tests drive the same functions with a fake book.

From Excel (with the xlwings add-in, or a button in the personal macro workbook)::

    RunPython "import sheetsales.service.excel as s; s.xl_check()"
    RunPython "import sheetsales.service.excel as s; s.xl_refresh()"

or from a terminal, on the workbook active in Excel: ``python -m sheetsales.service.excel check|refresh``.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ..i18n import t
from ..issues import ERROR, Issue
from ..method.playbook import Playbook
from ..outputs.report import ReportResult, run_report
from ..storage.ingest import ingest, load_playbook, read_file
from .workspace import CONFIG, Workspace

MARK = "sheetsales"  # first line of every note sheetsales writes: how its own marks are found again
FILLS = {ERROR: (255, 199, 206), "warning": (255, 235, 156)}  # Excel's "bad" red and "neutral" amber


class Book(Protocol):
    """What the adapter needs of an open workbook."""

    name: str  # the file name, e.g. MPC一览表_R01.xlsx
    path: Path | None  # where it is saved; None for a workbook never saved

    def save_copy(self, dest: Path) -> None:
        """Write the workbook as it is now (unsaved edits included) to ``dest``; the book stays as it is."""

    def marked_cells(self) -> list[tuple[str, str]]:
        """(sheet, cell) of every cell carrying a sheetsales note."""

    def mark(self, sheet: str, cell: str, note: str, fill: tuple[int, int, int]) -> None:
        """Put ``note`` on the cell and colour it, remembering the fill it had."""

    def unmark(self, sheet: str, cell: str) -> None:
        """Remove the sheetsales note and restore the cell's previous fill."""

    def close(self) -> None: ...

    def reopen(self) -> None: ...


@dataclass(frozen=True)
class Mark:
    sheet: str
    cell: str
    note: str
    fill: tuple[int, int, int]


@dataclass
class CheckResult:
    issues: list[Issue]
    marks: list[Mark]
    file_issues: list[Issue] = field(default_factory=list)  # no cell to mark: shown in a message

    def message(self, lang: str) -> str:
        lines = [t("excel.marked", lang, count=len(self.issues))] if self.issues else []
        if self.file_issues:
            lines.append(t("excel.file_issues", lang))
            lines += [f"• {i.message(lang)}" for i in self.file_issues]
        return "\n".join(lines) or t("cli.check_ok", lang, file="")


def find_workspace(path: Path | None) -> Workspace | None:
    """The workspace a workbook lies in (its folder or a parent holds ``sheetsales.toml``)."""
    if path is None:
        return None
    for parent in [path.resolve().parent, *path.resolve().parents]:
        if (parent / CONFIG).is_file():
            return Workspace.open(parent)
    return None


def plan_marks(issues: Sequence[Issue], lang: str) -> tuple[list[Mark], list[Issue]]:
    """One mark per cell (all its messages in one note, red if any is an error); the rest is file-wide."""
    by_cell: dict[tuple[str, str], list[Issue]] = {}
    file_wide = []
    for issue in issues:
        if issue.sheet and issue.cell:
            by_cell.setdefault((issue.sheet, issue.cell), []).append(issue)
        else:
            file_wide.append(issue)
    marks = []
    for (sheet, cell), found in by_cell.items():
        note = "\n".join([MARK, *(f"[{i.code}] {i.message(lang)}" for i in found)])
        severity = ERROR if any(i.severity == ERROR for i in found) else "warning"
        marks.append(Mark(sheet, cell, note, FILLS[severity]))
    return marks, file_wide


def apply_marks(book: Book, marks: Sequence[Mark]) -> None:
    """Remove the previous check's marks, then mark the cells of this one."""
    for sheet, cell in book.marked_cells():
        book.unmark(sheet, cell)
    for m in marks:
        book.mark(m.sheet, m.cell, m.note, m.fill)


def check_book(book: Book, lang: str = "") -> CheckResult:
    """Validate the live workbook with the file-based checks and mark what they find."""
    ws = find_workspace(book.path)
    playbook, folder_rep, workspace_id, in_inbox = Playbook(), "", "", False
    if ws is not None:
        store = ws.store()
        try:
            playbook, _ = load_playbook(ws, store, _today())
        finally:
            store.close()
        lang = lang or ws.lang
        workspace_id = ws.workspace_id
        try:
            rel = book.path.resolve().relative_to(ws.inbox.resolve())  # type: ignore[union-attr]
            folder_rep = rel.parts[0] if len(rel.parts) > 1 else ""
            in_inbox = True
        except ValueError:
            pass
    lang = lang or "zh-CN"
    with tempfile.TemporaryDirectory(prefix="sheetsales-") as tmp:
        copy = Path(tmp) / (Path(book.name).stem + ".xlsx")
        book.save_copy(copy)
        # The same isolated read as ingest: whatever the content does, an issue comes back (file-failed).
        parsed = read_file(None, copy, book.name, "", playbook, lang, folder_rep=folder_rep, in_inbox=in_inbox,
                           workspace_id=workspace_id, as_of=_today())
    marks, file_wide = plan_marks(parsed.issues, lang)
    apply_marks(book, marks)
    return CheckResult(parsed.issues, marks, file_wide)


def refresh_book(book: Book) -> ReportResult:
    """Ingest and regenerate the reports of the workbook's workspace, from inside Excel."""
    ws = find_workspace(book.path)
    if ws is None:
        raise LookupError(f"{book.name} is not inside a sheetsales workspace")
    generated = book.path is not None and ws.reports.resolve() in book.path.resolve().parents
    if generated:
        book.close()  # Excel on Windows holds an open workbook locked: it could not be replaced
    try:
        today = _today()
        with ws.lock(command="sheetsales excel refresh"):  # one writer: waits for a run under way
            ingest(ws, today)
            return run_report(ws, today)
    finally:
        if generated:
            book.reopen()


def _today() -> Any:
    import datetime as dt

    return dt.date.today()


# --------------------------------------------------------------------------------------------
# xlwings (Windows and macOS only)
# --------------------------------------------------------------------------------------------
def _xlwings() -> Any:
    if sys.platform not in ("win32", "darwin"):
        raise RuntimeError(t("excel.unavailable", "en"))
    try:
        import xlwings
    except ImportError:
        raise RuntimeError(t("excel.unavailable", "en")) from None
    return xlwings


class XlwingsBook:
    """:class:`Book` over an xlwings ``Book``. The previous fill of a marked cell is kept in its note."""

    def __init__(self, book: Any) -> None:
        self.book = book
        self.app = book.app
        self.name = book.name
        full = Path(book.fullname)
        self.path: Path | None = full if full.is_absolute() and full.exists() else None

    def save_copy(self, dest: Path) -> None:
        if sys.platform == "win32":
            self.book.api.SaveCopyAs(str(dest))  # the open book keeps its name and unsaved state
        elif self.path is not None:  # Excel for Mac has no "save a copy": check the file as last saved
            import shutil

            shutil.copyfile(self.path, dest)
        else:
            raise RuntimeError("save the workbook once before checking it")

    def marked_cells(self) -> list[tuple[str, str]]:
        out = []
        for sheet in self.book.sheets:
            for comment in _comments(sheet):
                if str(comment.Text()).startswith(MARK):
                    out.append((sheet.name, comment.Parent.Address.replace("$", "")))
        return out

    def mark(self, sheet: str, cell: str, note: str, fill: tuple[int, int, int]) -> None:
        rng = self.book.sheets[sheet][cell]
        before = rng.color
        previous = "none" if before is None else "#" + "".join(f"{c:02X}" for c in before)
        if rng.note is not None:
            rng.note.delete()
        rng.api.AddComment(f"{note}\n({MARK}: {previous})")
        rng.color = fill

    def unmark(self, sheet: str, cell: str) -> None:
        rng = self.book.sheets[sheet][cell]
        note = rng.note
        text = note.text if note is not None else ""
        previous = text.rsplit(f"({MARK}: ", 1)[-1].rstrip(")") if f"({MARK}: " in text else "none"
        if note is not None:
            note.delete()
        rng.color = None if previous == "none" else tuple(int(previous[i:i + 2], 16) for i in (1, 3, 5))

    def close(self) -> None:
        self._reopen_path = self.book.fullname
        self.book.close()

    def reopen(self) -> None:
        self.book = self.app.books.open(self._reopen_path)


def _comments(sheet: Any) -> list[Any]:
    try:
        comments = sheet.api.Comments
        return [comments.Item(i) for i in range(1, comments.Count + 1)]
    except Exception:  # Excel for Mac's scripting differs: no marks found, none removed
        return []


def _active() -> XlwingsBook:
    xw = _xlwings()
    return XlwingsBook(xw.books.active)


def xl_check() -> CheckResult:
    """Check the workbook active in Excel and mark its issues (for RunPython or a ribbon button)."""
    book = _active()
    result = check_book(book)
    ws = find_workspace(book.path)
    book.app.alert(result.message(ws.lang if ws else "zh-CN"), title="sheetsales")
    return result


def xl_refresh() -> ReportResult:
    """Ingest and regenerate the reports for the workbook active in Excel."""
    book = _active()
    result = refresh_book(book)
    ws = find_workspace(book.path)
    book.app.alert(t("excel.refreshed", ws.lang if ws else "zh-CN", path=result.summary_path), title="sheetsales")
    return result


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args not in (["check"], ["refresh"]):
        print("usage: python -m sheetsales.service.excel check|refresh", file=sys.stderr)
        return 2
    try:
        if args == ["check"]:
            result = xl_check()
            return 1 if any(i.severity == ERROR for i in result.issues) else 0
        xl_refresh()
        return 0
    except RuntimeError as exc:
        print(exc, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
