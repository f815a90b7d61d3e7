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
import functools
import math
import posixpath
import re
import zipfile
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.parsers import expat

import python_calamine
from defusedxml import ElementTree as DefusedET

from ..issues import Issue
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


_NORM = re.compile(r"[\s*]+")


@functools.lru_cache(maxsize=8192)
def _norm(text: str) -> str:
    return _NORM.sub("", str(text)).casefold()


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


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _sheet_paths(zf: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> part name inside the zip, from workbook.xml and its relationships.

    Elements are matched by local name, so ISO 29500 Strict files (purl.oclc.org namespaces) are
    measured like transitional ones.
    """
    rels_root = DefusedET.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
    targets = {}
    for rel in rels_root.iter():
        if _local(rel.tag) != "Relationship":
            continue
        target = rel.get("Target", "")
        if target.startswith("/"):
            part = target.lstrip("/")
        else:
            part = posixpath.normpath(posixpath.join("xl", target))
        targets[rel.get("Id")] = part
    wb_root = DefusedET.fromstring(zf.read("xl/workbook.xml"))
    out = {}
    for sheet in wb_root.iter():
        if _local(sheet.tag) != "sheet":
            continue
        rid = next((v for k, v in sheet.attrib.items() if _local(k) == "id" and k.startswith("{")), None)
        if rid in targets:
            out[sheet.get("name", "")] = targets[rid]
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


# --------------------------------------------------------------------------------------------
# Measuring every sheet before a value reader allocates anything for it.
# --------------------------------------------------------------------------------------------
DEFAULT_MAX_ROWS = 20_000
# Cells per workbook, counted as a value reader materialises them (each sheet from A1 to its far
# corner). A full MPC list at the row limit (20,000 rows x 21 + 11 + 15 columns) is about 940,000.
DEFAULT_MAX_CELLS = 2_000_000
_SCAN_CHUNK = 1 << 20
_MAX_CARRY = 4 << 20
_ROW_BITS = 1 << 20  # Excel's last row; anything beyond it is beyond every limit
EXCEL_MAX_TEXT = 32_767  # characters in one cell; no text longer comes from Excel

# The one shape common writers give a cell (<c r="B7" s="3" t="s">), strictly: anything else (a
# prefix, a cell without its reference, an attribute in single quotes or holding '>') sends the
# sheet to the exact walk.
# Possessive quantifiers: each part's characters cannot start the next part, so giving one back
# never finds another match; they spare the engine the backtracking (a quarter of this pattern's time).
_CELL_TAG = re.compile(rb'<c r="([A-Za-z]++)([0-9]++)"(?:\s++[\w:.-]++="[^"<>]*+")*+\s*+(/?)>')
_CELL_OR_FORMULA = re.compile(rb'<c r="([A-Za-z]+)([0-9]+)"|<f[\s/>]')
_SPECIAL_HINT = re.compile(rb"<v>\s*(?:60(?:\.[0-9]*)?\s*<|-|\+?[nNiI])")
_SPECIAL_CELL = re.compile(rb'<c r="([A-Za-z]+)([0-9]+)"((?:\s+[\w:.-]+="[^"<>]*")*)\s*>'
                           rb"<v>(\s*(?:60(?:\.[0-9]*)?|-[^<]*|\+?[nNiI][^<]*)\s*)</v>")
_PREFIXED_ROOT = re.compile(rb"<[A-Za-z_][\w.-]*:worksheet[\s>]")
_PREFIXED_TAG = re.compile(rb"</?[A-Za-z_][\w.-]*+:")
_CELL_STARTS = tuple(b"<c" + sep for sep in (b" ", b">", b"/", b"\t", b"\n", b"\r"))
_REF_TEXT = re.compile(r"^([A-Za-z]+)([0-9]+)$")


class _NeedsExactWalk(Exception):
    pass


def _col_number(letters: str) -> int:
    """1-based column number of ``letters`` (any case)."""
    n = 0
    for ch in letters.upper():
        n = n * 26 + (ord(ch) - 64)
    return n


def _special_serial(attrs: str, text: str) -> float | None:
    """The raw number of a styled numeric cell that python-calamine would show as a wrong date.

    calamine shows the serial 60 (29 February 1900, a day that never existed) as 28 February,
    NaN as 30 December 1899 and a negative serial as midnight; the validators need the number.
    """
    if not re.search(r"""(?:^|\s)s\s*=""", attrs):
        return None
    t = re.search(r"""(?:^|\s)t\s*=\s*["']([^"']*)""", attrs)
    if t and t.group(1) != "n":
        return None
    try:
        number = float(text)
    except ValueError:
        return None
    if not math.isfinite(number) or number < 0 or 60 <= number < 61:
        return number
    return None


@dataclass
class SheetScan:
    """What one worksheet part holds, measured from its XML without building any of it."""

    cells: int = 0  # cells holding a value
    rows: int = 0  # distinct rows holding a value
    last_row: int = 0  # 1-based; 0 when the sheet is empty
    last_col: int = 0
    far_row_ref: str = ""  # a cell on the last row
    far_col_ref: str = ""  # a cell in the last column
    formulas: set[tuple[int, int]] = field(default_factory=set)  # 0-based (row, col)
    serials: dict[tuple[int, int], float] = field(default_factory=dict)  # 0-based (row, col) -> number
    bad_ref: str | None = None  # a cell reference no reader can place
    exact: bool = False  # measured by the exact walk
    seen_rows: bytearray = field(default_factory=bytearray, repr=False)  # grown as rows appear

    @property
    def area(self) -> int:
        """Cells a value reader materialises for this sheet: everything from A1 to the far corner."""
        return self.last_row * self.last_col

    def count_row(self, row: int) -> None:
        """Row ``row`` (1-based) holds a value: counted once (rows past Excel's last are counted as seen)."""
        if row > _ROW_BITS:
            self.rows += 1
            return
        seen = self.seen_rows
        if row >= len(seen):  # grown by doubling, up to Excel's last row: no megabyte per small sheet
            seen.extend(bytes(min(max(row + 1, 2 * len(seen), 1024), _ROW_BITS + 1) - len(seen)))
        if not seen[row]:
            seen[row] = 1
            self.rows += 1

    def add(self, row: int, col: int, ref: str) -> None:
        """A cell holding a value at 1-based (row, col)."""
        self.cells += 1
        self.count_row(row)
        if row > self.last_row:
            self.last_row, self.far_row_ref = row, ref
        if col > self.last_col:
            self.last_col, self.far_col_ref = col, ref


def _chunks(fh: Any, parser: Any) -> Any:
    """The part's bytes in chunks, each also fed to expat, which raises when it is not well formed."""
    while True:
        chunk = fh.read(_SCAN_CHUNK)
        parser.Parse(chunk, not chunk)
        if not chunk:
            return
        yield chunk


def _expat() -> Any:
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)

    def refuse(*_args: Any) -> None:
        raise expat.ExpatError("DTD or entity declaration")

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    return parser


def _fast_scan(fh: Any, max_formulas: int) -> SheetScan:
    """Measure a sheet with byte-level regular expressions over streamed chunks (about 20 times
    faster than an XML parser); raises :class:`_NeedsExactWalk` at anything unusual."""
    scan = SheetScan()
    carry = b""
    first = True
    ended = False
    last_cell: tuple[int, int] | None = None
    for chunk in _chunks(fh, _expat()):
        if ended:
            if b"sheetData" in carry + chunk:
                raise _NeedsExactWalk  # a second sheetData: the exact walk reads them all
            carry = chunk[-16:]
            continue
        buf = carry + chunk
        body = 0
        if first:
            first = False
            if _PREFIXED_ROOT.search(buf, 0, 4096):
                raise _NeedsExactWalk
            if buf.startswith(b"<?"):
                body = buf.find(b"?>") + 2
        end = buf.find(b"</sheetData>")
        if end >= 0:
            part, carry, ended = buf[:end], buf[end + 12:], True
            if b"sheetData" in carry:
                raise _NeedsExactWalk
        else:
            cut = buf.rfind(b"<c")
            if cut < 0:
                cut = buf.rfind(b"<")
            if cut < 0 or len(buf) - cut > _MAX_CARRY:
                raise _NeedsExactWalk  # a cell of several megabytes: let the parser take it
            part, carry = buf[:cut], buf[cut:]
        if part.find(b"<!", body) >= 0 or part.find(b"<?", body) >= 0 or (
                b":" in part and _PREFIXED_TAG.search(part)):  # a prefixed tag holds a colon
            raise _NeedsExactWalk  # comments, CDATA, processing instructions, prefixed tags
        tags = _CELL_TAG.findall(part)
        # Every cell start must be a cell the pattern read. "<c" counts them all when nothing else
        # starts so (the usual sheetData); otherwise only "<c" followed by a separator is a cell.
        if len(tags) != part.count(b"<c") and len(tags) != sum(part.count(s) for s in _CELL_STARTS):
            raise _NeedsExactWalk
        valued = [(letters, digits) for letters, digits, empty in tags if not empty]
        if valued:
            scan.cells += len(valued)
            top = 0
            for digits in {d for _, d in valued}:
                row = int(digits)
                if row == 0:
                    raise _NeedsExactWalk  # no reader can place it: the exact walk names it
                top = max(top, row)
                scan.count_row(row)
            if top > scan.last_row:
                letters = next(c for c, d in reversed(valued) if int(d) == top)
                scan.last_row, scan.far_row_ref = top, f"{letters.decode().upper()}{top}"
            for letters in {c for c, _ in valued}:
                col = _col_number(letters.decode())
                if col > scan.last_col:
                    digits = next(d for c, d in valued if c == letters)
                    scan.last_col, scan.far_col_ref = col, f"{letters.decode().upper()}{int(digits)}"
        if b"<f" in part:
            for m in _CELL_OR_FORMULA.finditer(part):
                if m.group(1):
                    last_cell = (int(m.group(2)) - 1, _col_number(m.group(1).decode()) - 1)
                elif last_cell is not None and len(scan.formulas) <= max_formulas:
                    scan.formulas.add(last_cell)
        elif tags:
            last_cell = (int(tags[-1][1]) - 1, _col_number(tags[-1][0].decode()) - 1)
        if _SPECIAL_HINT.search(part):
            for m in _SPECIAL_CELL.finditer(part):
                number = _special_serial(m.group(3).decode("utf-8", "replace"), m.group(4).decode("utf-8", "replace"))
                if number is not None:
                    scan.serials[(int(m.group(2)) - 1, _col_number(m.group(1).decode()) - 1)] = number
    return scan


def _exact_scan(fh: Any, max_formulas: int) -> SheetScan:
    """Measure a sheet with expat's events, placing cells and rows without a reference as a value
    reader does (the next row, the next column). Slower; for sheets the fast scan declines."""
    scan = SheetScan(exact=True)
    parser = _expat()
    state: dict[str, Any] = {"row": 0, "crow": 0, "col": 0, "cell": None, "valued": False, "attrs": "",
                             "text": None, "in_data": 0, "run": 0}

    names: dict[str, str] = {}

    def local(name: str) -> str:
        tag = names.get(name)
        if tag is None:
            tag = names[name] = name.rsplit(" ", 1)[-1].rsplit(":", 1)[-1]
        return tag

    def start(name: str, attrs: dict[str, str]) -> None:
        tag = local(name)
        state["run"] = 0
        if tag == "sheetData":
            state["in_data"] += 1
        elif not state["in_data"]:
            return
        elif tag == "row":
            r = attrs.get("r")
            if r is None:
                state["row"] += 1
            elif r.isdigit() and int(r) > 0:
                state["row"] = int(r)
            else:
                scan.bad_ref = scan.bad_ref or f"row {r!r}"
            state["crow"], state["col"] = max(state["row"], 1), 0
        elif tag == "c":
            r = attrs.get("r")
            if r is None:  # the next column of the last cell's row, as a value reader places it
                row, col = max(state["crow"], 1), state["col"] + 1
            else:
                m = _REF_TEXT.match(r)
                if not m or int(m.group(2)) == 0:
                    scan.bad_ref = scan.bad_ref or r
                    row, col = max(state["crow"], 1), state["col"] + 1
                else:
                    row, col = int(m.group(2)), _col_number(m.group(1))
            state["crow"], state["col"] = row, col
            state["cell"] = (row, col)
            state["valued"] = False
            state["attrs"] = " ".join(f'{local(k)}="{v}"' for k, v in attrs.items())
        elif state["cell"] is not None and tag in ("v", "is"):
            state["valued"] = True
            state["text"] = [] if tag == "v" else None
        elif state["cell"] is not None and tag == "f" and len(scan.formulas) <= max_formulas:
            row, col = state["cell"]
            scan.formulas.add((row - 1, col - 1))

    def end(name: str) -> None:
        tag = local(name)
        state["run"] = 0
        if tag == "sheetData":
            state["in_data"] -= 1
        elif tag == "v" and state["text"] is not None and state["cell"] is not None:
            number = _special_serial(" " + state["attrs"], "".join(state["text"]))
            if number is not None:
                row, col = state["cell"]
                scan.serials[(row - 1, col - 1)] = number
            state["text"] = None
        elif tag == "c" and state["cell"] is not None:
            if state["valued"]:
                row, col = state["cell"]
                scan.add(row, col, cell_ref(row - 1, col - 1) if row > 0 and col > 0 else "?")
            state["cell"] = None

    def text(data: str) -> None:
        state["run"] += len(data)
        if state["run"] > EXCEL_MAX_TEXT and state["in_data"]:
            scan.bad_ref = scan.bad_ref or f"{cell_ref(state['cell'][0] - 1, state['cell'][1] - 1) if state['cell'] else '?'}: text longer " \
                                           f"than Excel's {EXCEL_MAX_TEXT} characters"
        if state["text"] is not None and sum(map(len, state["text"])) < 64:
            state["text"].append(data)

    parser.buffer_text = True
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    while True:
        chunk = fh.read(_SCAN_CHUNK)
        parser.Parse(chunk, not chunk)
        if not chunk:
            break
    return scan


def scan_sheet(zf: zipfile.ZipFile, part: str, max_formulas: int = DEFAULT_MAX_CELLS) -> SheetScan:
    """Measure one worksheet part: its extent, rows and cells holding values, formula cells and the
    raw numbers calamine would misread as dates. Raises ``expat.ExpatError`` on XML that is not well
    formed."""
    try:
        with zf.open(part) as fh:
            return _fast_scan(fh, max_formulas)
    except _NeedsExactWalk:
        with zf.open(part) as fh:
            return _exact_scan(fh, max_formulas)


def formula_cells(path: Path, sheet_names: list[str]) -> dict[str, set[tuple[int, int]]]:
    """(row, col) of every cell holding a formula, per sheet, by streaming the sheet XML."""
    with zipfile.ZipFile(path) as zf:
        parts = _sheet_paths(zf)
        return {name: scan_sheet(zf, parts[name]).formulas for name in sheet_names if parts.get(name) in zf.namelist()}


def measure(path: Path, label: str, max_rows: int = DEFAULT_MAX_ROWS,
            max_cells: int = DEFAULT_MAX_CELLS, only: Collection[str] | None = None,
            ) -> tuple[dict[str, SheetScan], list[Issue]]:
    """Every sheet (or the sheets named in ``only``) measured (see :func:`scan_sheet`), and the issues
    of a workbook past the limits: ``too-many-rows`` (rows holding values), ``sheet-too-large`` (a
    cell far out: the sheet would cost more than the limits to read) and ``too-many-cells`` (all
    sheets together)."""
    scans: dict[str, SheetScan] = {}
    row_limit = max_rows + HEADER_ROW  # ``max_rows`` counts data rows: the title, hint and header come on top
    try:
        with zipfile.ZipFile(path) as zf:
            try:
                parts = _sheet_paths(zf)
            except (KeyError, DefusedET.ParseError) as exc:
                return {}, [Issue("corrupt-workbook", label, params={"detail": f"workbook.xml: {type(exc).__name__}"})]
            names = set(zf.namelist())
            for name, part in parts.items():
                if part in names and (only is None or name in only):
                    scans[name] = scan_sheet(zf, part, max_formulas=max_cells)
    except expat.ExpatError as exc:
        return {}, [Issue("corrupt-workbook", label, params={"detail": f"XML: {exc}"[:120]})]
    except (zipfile.BadZipFile, EOFError, ValueError, NotImplementedError, RuntimeError) as exc:
        return {}, [Issue("corrupt-workbook", label, params={"detail": type(exc).__name__})]
    except Exception as exc:  # zlib.error and friends from a damaged stream
        return {}, [Issue("corrupt-workbook", label, params={"detail": type(exc).__name__})]
    issues: list[Issue] = []
    total = 0
    for name, s in scans.items():
        if s.bad_ref is not None:
            return scans, [Issue("corrupt-workbook", label, name, params={"detail": f"{name}!{s.bad_ref}"[:120]})]
        if s.rows > row_limit:
            issues.append(Issue("too-many-rows", label, name,
                                params={"sheet": name, "rows": s.rows - HEADER_ROW, "limit": max_rows}))
        elif s.last_row > row_limit:
            issues.append(_too_large(label, name, s.far_row_ref, f"max_rows = {max_rows}"))
        elif s.area > max_cells:
            if s.cells > max_cells:
                issues.append(Issue("too-many-cells", label, name, params={"cells": s.cells, "limit": max_cells}))
            else:
                issues.append(_too_large(label, name, s.far_col_ref, f"max_cells = {max_cells}"))
        total += s.area
    if not issues and total > max_cells:
        issues.append(Issue("too-many-cells", label, params={"cells": total, "limit": max_cells}))
    return scans, issues


def _too_large(label: str, sheet: str, ref: str, limit: str) -> Issue:
    row, col = parse_ref(ref)
    return Issue("sheet-too-large", label, sheet, ref,
                 {"sheet": sheet, "cell": ref, "row": row + 1, "col": col + 1, "limit": limit})


def open_workbook(path: Path, label: str | None = None, *, max_rows: int = DEFAULT_MAX_ROWS,
                  max_cells: int = DEFAULT_MAX_CELLS, only: Collection[str] | None = None,
                  ) -> tuple[RawWorkbook | None, list[Issue]]:
    """Read every sheet's values (or only the sheets named in ``only``, each measured first like every
    sheet); ``None`` with issues when the file is not a usable workbook.

    ``max_rows`` (rows holding values, per sheet) and ``max_cells`` (cells a reader materialises,
    per workbook) are the playbook's settings of the same names; callers that know the playbook
    pass them.
    """
    label = label or path.name
    issues = sniff(path, label)
    if issues:
        return None, issues
    issues = check_archive(path, label)
    if issues:
        return None, issues
    scans, issues = measure(path, label, max_rows, max_cells, only)
    if issues:
        return None, issues
    try:
        wb = python_calamine.CalamineWorkbook.from_path(str(path))
        sheets: dict[str, list[list[Cell]]] = {}
        visible: dict[str, bool] = {}
        for meta in wb.sheets_metadata:
            if str(meta.typ) != "SheetTypeEnum.WorkSheet" or (only is not None and meta.name not in only):
                continue
            scan = scans.get(meta.name)
            if scan is None:  # a sheet the measure could not find: never read what was not measured
                wb.close()
                return None, [Issue("corrupt-workbook", label, params={"detail": f"{meta.name}: part not found"[:120]})]
            rows = wb.get_sheet_by_name(meta.name).to_python(skip_empty_area=False)
            for (r, c), number in scan.serials.items():
                if r < len(rows) and c < len(rows[r]) and isinstance(rows[r][c], dt.date | dt.time):
                    rows[r][c] = number
            sheets[meta.name] = rows
            visible[meta.name] = str(meta.visible) == "SheetVisibleEnum.Visible"
        wb.close()
    except python_calamine.PasswordError:
        return None, [Issue("encrypted-workbook", label)]
    except Exception as exc:  # calamine reports damaged files with several error types
        return None, [Issue("corrupt-workbook", label, params={"detail": (str(exc).splitlines() or [""])[0][:120]})]
    formulas = {name: scans[name].formulas for name in sheets}
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
    pairs = list(cols.items())
    width = max(cols.values(), default=-1) + 1
    for r in range(header_row + 1, len(rows)):
        row = rows[r]
        if len(row) >= width:
            values = {k: row[c] for k, c in pairs}
        else:
            values = {k: (row[c] if c < len(row) else "") for k, c in pairs}
        fcols = {k for k, c in pairs if (r, c) in formulas} if formulas else set()
        if not fcols and all(v is None or (isinstance(v, str) and not v.strip()) for v in values.values()):
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
