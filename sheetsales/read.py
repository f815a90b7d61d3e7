"""Read workbooks safely and fast.

``open_workbook`` first checks what the file really is (an OLE file is a legacy
``.xls`` or an encrypted workbook, a CSV renamed ``.xlsx`` is not a zip, a
truncated zip does not open) and bounds what it may cost: the number of archive
entries, their uncompressed size and compression ratio, measured while
streaming, and XML entity declarations are refused. Only then are values read
with python-calamine. Formulas are found by streaming the sheet XML, because a
value reader does not report them.

Nothing here raises on bad user files: every problem is an :class:`Issue`.
"""

from __future__ import annotations

import datetime as dt
import posixpath
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import python_calamine
from defusedxml import ElementTree as DefusedET

from .issues import Issue
from .specs import HEADER_ROW, META_SHEET, Form, Table

# Bounds for what one workbook may cost. A rep's workbook is well under 5 MB.
MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_ENTRIES = 2_000
MAX_UNCOMPRESSED = 200 * 1024 * 1024
MAX_RATIO = 200  # per entry, for entries over RATIO_FLOOR bytes
RATIO_FLOOR = 1024 * 1024
_CHUNK = 1 << 16

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
MACRO_CONTENT_TYPE = b"macroEnabled"

_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG_REL_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"

Cell = Any  # str | float | int | bool | date | datetime | time | timedelta


def ignored_name(name: str) -> bool:
    """Lock files, temporary files and anything that is not a workbook candidate."""
    lower = name.lower()
    if name.startswith(("~$", ".~lock.", ".")) or lower.endswith(("#", ".tmp", ".osl-tmp", "~")):
        return True
    suffix = Path(lower).suffix
    return suffix not in (".xlsx", ".xlsm", ".xls", ".csv")


@dataclass
class RawWorkbook:
    """Values of a workbook, read once. Rows are 0-based lists from A1."""

    path: Path
    label: str  # how the file is named in issues (relative to the inbox)
    sheets: dict[str, list[list[Cell]]]
    visible: dict[str, bool]
    formulas: dict[str, set[tuple[int, int]]] = field(default_factory=dict)  # 0-based (row, col)

    def sheet(self, *names: str) -> tuple[str, list[list[Cell]]] | None:
        """The first sheet whose name matches one of ``names`` (case- and space-insensitive)."""
        wanted = {_norm(n) for n in names}
        for name, rows in self.sheets.items():
            if _norm(name) in wanted:
                return name, rows
        return None


def _norm(text: str) -> str:
    return re.sub(r"[\s*]+", "", str(text)).casefold()


def sniff(path: Path, label: str) -> list[Issue]:
    """Cheap checks on what a file is, before anything parses it."""
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            head = fh.read(8)
    except OSError as exc:
        return [Issue("file-unreadable", label, params={"detail": exc.strerror or str(exc)})]
    suffix = path.suffix.lower()
    if size > MAX_FILE_BYTES:
        return [Issue("workbook-too-large", label, params={"detail": f"{size // 1024 // 1024} MB"})]
    if head.startswith(OLE_MAGIC):
        data = path.read_bytes()
        if "EncryptedPackage".encode("utf-16-le") in data:
            return [Issue("encrypted-workbook", label)]
        return [Issue("legacy-xls", label)]
    if suffix == ".xls":
        return [Issue("legacy-xls", label)]
    if not head.startswith(ZIP_MAGIC):
        return [Issue("not-a-workbook", label)]
    if suffix == ".xlsm":
        return [Issue("macro-workbook", label)]
    if suffix == ".csv":
        return [Issue("not-a-workbook", label)]
    return []


def check_archive(path: Path, label: str) -> list[Issue]:
    """Open the zip and stream every entry with hard bounds (zip bombs, XML bombs)."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            if len(infos) > MAX_ENTRIES:
                return [Issue("workbook-too-large", label, params={"detail": f"{len(infos)} entries"})]
            names = {i.filename for i in infos}
            if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
                return [Issue("not-a-workbook", label)]
            total = 0
            for info in infos:
                if info.flag_bits & 0x1:
                    return [Issue("encrypted-workbook", label)]
                declared = info.file_size
                if declared > RATIO_FLOOR and info.compress_size and declared / info.compress_size > MAX_RATIO:
                    return [Issue("workbook-too-large", label,
                                  params={"detail": f"{info.filename} ×{declared // max(info.compress_size, 1)}"})]
                seen = 0
                is_xml = info.filename.endswith((".xml", ".rels"))
                tail = b""
                with zf.open(info) as fh:
                    while chunk := fh.read(_CHUNK):
                        seen += len(chunk)
                        total += len(chunk)
                        if total > MAX_UNCOMPRESSED:
                            return [Issue("workbook-too-large", label,
                                          params={"detail": f"> {MAX_UNCOMPRESSED // 1024 // 1024} MB"})]
                        if seen > RATIO_FLOOR and seen / max(info.compress_size, 1) > MAX_RATIO:
                            return [Issue("workbook-too-large", label,
                                          params={"detail": f"{info.filename} ×{seen // max(info.compress_size, 1)}"})]
                        if is_xml:
                            window = tail + chunk
                            if b"<!ENTITY" in window or b"<!DOCTYPE" in window:
                                return [Issue("corrupt-workbook", label,
                                              params={"detail": "XML DTD/ENTITY"})]
                            tail = chunk[-16:]
                if info.filename == "[Content_Types].xml":
                    with zf.open(info) as fh:
                        if MACRO_CONTENT_TYPE in fh.read():
                            return [Issue("macro-workbook", label)]
    except zipfile.BadZipFile as exc:
        return [Issue("corrupt-workbook", label, params={"detail": str(exc)})]
    except (zipfile.LargeZipFile, EOFError, ValueError, NotImplementedError) as exc:
        return [Issue("corrupt-workbook", label, params={"detail": type(exc).__name__})]
    except OSError as exc:
        return [Issue("file-unreadable", label, params={"detail": exc.strerror or str(exc)})]
    except Exception as exc:  # zlib.error and friends from a damaged stream
        return [Issue("corrupt-workbook", label, params={"detail": type(exc).__name__})]
    return []


def _sheet_paths(zf: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> part name inside the zip, from workbook.xml and its relationships."""
    rels_root = DefusedET.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
    targets = {}
    for rel in rels_root.iter(f"{_PKG_REL_NS}Relationship"):
        target = rel.get("Target", "")
        if target.startswith("/"):
            part = target.lstrip("/")
        else:
            part = posixpath.normpath(posixpath.join("xl", target))
        targets[rel.get("Id")] = part
    wb_root = DefusedET.fromstring(zf.read("xl/workbook.xml"))
    out = {}
    for sheet in wb_root.iter(f"{_NS}sheet"):
        rid = sheet.get(f"{_REL_NS}id")
        if rid in targets:
            out[sheet.get("name", "")] = targets[rid]
    return out


def formula_cells(path: Path, sheet_names: list[str]) -> dict[str, set[tuple[int, int]]]:
    """(row, col) of every cell holding a formula, per sheet, by streaming the sheet XML."""
    out: dict[str, set[tuple[int, int]]] = {}
    with zipfile.ZipFile(path) as zf:
        try:
            parts = _sheet_paths(zf)
        except (KeyError, DefusedET.ParseError):
            return out
        for name in sheet_names:
            part = parts.get(name)
            if not part or part not in zf.namelist():
                continue
            cells: set[tuple[int, int]] = set()
            ref = None
            with zf.open(part) as fh:
                for event, elem in DefusedET.iterparse(fh, events=("start", "end")):
                    tag = elem.tag
                    if event == "start" and tag == f"{_NS}c":
                        ref = elem.get("r")
                    elif event == "end" and tag == f"{_NS}f":
                        if ref:
                            cells.add(parse_ref(ref))
                    elif event == "end" and tag == f"{_NS}row":
                        elem.clear()
            out[name] = cells
    return out


_REF = re.compile(r"^([A-Z]+)(\d+)$")


def parse_ref(ref: str) -> tuple[int, int]:
    m = _REF.match(ref)
    if not m:
        return (-1, -1)
    col = 0
    for ch in m.group(1):
        col = col * 26 + (ord(ch) - 64)
    return int(m.group(2)) - 1, col - 1


def col_letter(col: int) -> str:
    """0-based column index -> letters."""
    s = ""
    col += 1
    while col:
        col, rem = divmod(col - 1, 26)
        s = chr(65 + rem) + s
    return s


def cell_ref(row: int, col: int) -> str:
    """0-based row/col -> A1."""
    return f"{col_letter(col)}{row + 1}"


def open_workbook(path: Path, label: str | None = None) -> tuple[RawWorkbook | None, list[Issue]]:
    """Read every sheet's values; ``None`` with issues when the file is not a usable workbook."""
    label = label or path.name
    issues = sniff(path, label)
    if issues:
        return None, issues
    issues = check_archive(path, label)
    if issues:
        return None, issues
    try:
        wb = python_calamine.CalamineWorkbook.from_path(str(path))
        sheets: dict[str, list[list[Cell]]] = {}
        visible: dict[str, bool] = {}
        for meta in wb.sheets_metadata:
            if str(meta.typ) != "SheetTypeEnum.WorkSheet":
                continue
            sheets[meta.name] = wb.get_sheet_by_name(meta.name).to_python(skip_empty_area=False)
            visible[meta.name] = str(meta.visible) == "SheetVisibleEnum.Visible"
        wb.close()
    except python_calamine.PasswordError:
        return None, [Issue("encrypted-workbook", label)]
    except Exception as exc:  # calamine reports damaged files with several error types
        return None, [Issue("corrupt-workbook", label, params={"detail": str(exc).splitlines()[0][:120]})]
    try:
        formulas = formula_cells(path, list(sheets))
    except Exception as exc:
        return None, [Issue("corrupt-workbook", label, params={"detail": type(exc).__name__})]
    return RawWorkbook(path=path, label=label, sheets=sheets, visible=visible, formulas=formulas), []


# --------------------------------------------------------------------------------------------
# Locating tables, forms and the hidden meta sheet by their specs.
# --------------------------------------------------------------------------------------------
@dataclass
class RawRow:
    row: int  # 0-based sheet row
    values: dict[str, Cell]  # column key -> raw value
    cols: dict[str, int]  # column key -> 0-based column
    formulas: set[str]  # column keys whose cell holds a formula


@dataclass
class RawTable:
    sheet: str
    rows: list[RawRow]


def read_meta(raw: RawWorkbook) -> dict[str, str]:
    found = raw.sheet(META_SHEET)
    if not found:
        return {}
    meta = {}
    for row in found[1]:
        if len(row) >= 2 and row[0] not in ("", None):
            meta[str(row[0]).strip()] = "" if row[1] is None else _text(row[1])
    return meta


def _text(value: Cell) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime) and value.time() == dt.time(0):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def _find_header(rows: list[list[Cell]], labels: dict[str, str]) -> tuple[int, dict[int, str]]:
    """The row (0-based) whose cells match most column labels, scanning the first rows."""
    best = (-1, 0)
    for r, row in enumerate(rows[:12]):
        hits = sum(1 for v in row if isinstance(v, str) and _norm(v) in labels)
        if hits > best[1]:
            best = (r, hits)
    if best[0] < 0:
        return HEADER_ROW - 1, {}
    row = rows[best[0]]
    return best[0], {c: v for c, v in enumerate(row) if isinstance(v, str) and v.strip()}


def read_table(raw: RawWorkbook, table: Table) -> tuple[RawTable | None, list[Issue]]:
    """Find ``table``'s sheet and header, map columns by label, return its non-empty rows."""
    found = raw.sheet(table.zh, table.en)
    if not found:
        return None, [Issue("missing-sheet", raw.label, table.zh, params={"sheet": f"{table.zh} / {table.en}"})]
    sheet, rows = found
    labels = {}
    for col in table.columns:
        labels[_norm(col.zh)] = col.key
        labels[_norm(col.en)] = col.key
    header_row, headers = _find_header(rows, labels)
    cols: dict[str, int] = {}
    issues: list[Issue] = []
    for c, text in headers.items():
        key = labels.get(_norm(text))
        if key and key not in cols:
            cols[key] = c
        elif not key:
            issues.append(Issue("unknown-column", raw.label, sheet, cell_ref(header_row, c), {"header": text}))
    for col in table.columns:
        if col.key not in cols:
            # Without a required column the sheet cannot be used; an optional one is just empty.
            issues.append(Issue("missing-column", raw.label, sheet, f"{header_row + 1}:{header_row + 1}",
                                {"column": col.zh if _is_zh(headers) else col.en, "row": header_row + 1},
                                severity="error" if col.required else "warning"))
    formulas = raw.formulas.get(sheet, set())
    out = []
    for r in range(header_row + 1, len(rows)):
        row = rows[r]
        values = {k: (row[c] if c < len(row) else "") for k, c in cols.items()}
        fcols = {k for k, c in cols.items() if (r, c) in formulas}
        if all(_blank(v) for v in values.values()) and not fcols:
            continue
        out.append(RawRow(row=r, values=values, cols=cols, formulas=fcols))
    return RawTable(sheet=sheet, rows=out), issues


def _is_zh(headers: dict[int, str]) -> bool:
    return any(re.search(r"[\u4e00-\u9fff]", h) for h in headers.values()) or not headers


def _blank(value: Cell) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def read_form(raw: RawWorkbook, form: Form) -> tuple[str, dict[str, Cell], dict[str, str]] | None:
    """Labelled values of a form sheet: (sheet, key -> value, key -> cell)."""
    found = raw.sheet(form.zh, form.en)
    if not found:
        return None
    sheet, rows = found
    labels = {}
    for f in form.fields:
        labels[_norm(f.zh)] = f.key
        labels[_norm(f.en)] = f.key
    values: dict[str, Cell] = {}
    cells: dict[str, str] = {}
    for r, row in enumerate(rows):
        for c, v in enumerate(row[:-1]):
            if isinstance(v, str) and _norm(v) in labels:
                key = labels[_norm(v)]
                values[key] = row[c + 1]
                cells[key] = cell_ref(r, c + 1)
                break
    return sheet, values, cells
