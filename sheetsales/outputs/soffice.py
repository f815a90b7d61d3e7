"""Headless LibreOffice, for tests and tools: convert, recalculate, export CSV, render pictures.

Every run gets a throw-away user profile (``-env:UserInstallation`` pointing into a
temporary folder), so parallel runs never collide and ``~/.config`` is never
touched. With ``recalc=True`` that profile tells Calc to recalculate every
formula of an OOXML or ODF file on load (``Formula/Load/OOXMLRecalcMode = 0``),
so what comes out is what LibreOffice computes, not the values cached in the
file; with ``recalc=False`` it is told never to recalculate, so the cached values
come out. ``tests/test_libreoffice.py`` checks that both really happen.

Nothing here is needed to run sheetsales itself.
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import signal
import subprocess
import tempfile
import zipfile
from collections.abc import Sequence
from pathlib import Path
from xml.sax.saxutils import escape

# Export every sheet (sheet number -1, LibreOffice 7.2+) as UTF-8 CSV, comma separated,
# double-quoted, raw values rather than formatted text, no formulas.
CSV_ALL_SHEETS = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1"
XLSX = "xlsx:Calc MS Excel 2007 XML"
# The import filter of .xlsx files: named outright, so that a file that only claims to be a workbook
# fails to load instead of being opened as text by Writer (where LibreOffice Writer is installed, its
# type detection would turn a text file named .xlsx into a one-page text document).
XLSX_IMPORT = "Calc MS Excel 2007 XML"
PDF = "pdf:calc_pdf_Export"

_RECALC_ALWAYS, _RECALC_NEVER = 0, 1


class SofficeError(RuntimeError):
    """LibreOffice is missing, failed, produced nothing or timed out."""


class SofficeNotFoundError(SofficeError):
    """No LibreOffice binary (``soffice``/``libreoffice``) could be found."""


def find_soffice() -> str | None:
    """The LibreOffice binary: ``$SHEETSALES_SOFFICE``, then ``soffice``/``libreoffice`` on PATH,
    then the usual install locations; None when there is none."""
    env = os.environ.get("SHEETSALES_SOFFICE")
    if env and Path(env).is_file():
        return env
    for name in ("soffice", "libreoffice"):
        found = shutil.which(name)
        if found:
            return found
    for candidate in ("/usr/lib/libreoffice/program/soffice", "/opt/libreoffice/program/soffice",
                      "/Applications/LibreOffice.app/Contents/MacOS/soffice",
                      r"C:\Program Files\LibreOffice\program\soffice.exe"):
        if Path(candidate).is_file():
            return candidate
    return None


def _binary() -> str:
    found = find_soffice()
    if found is None:
        raise SofficeNotFoundError("LibreOffice (soffice) is not installed or not on PATH; "
                                   "install it (Debian: apt-get install libreoffice-calc-nogui) "
                                   "or set SHEETSALES_SOFFICE to the soffice binary")
    return found


def soffice_version() -> tuple[int, ...]:
    """LibreOffice's version, e.g. (7, 4, 7, 2)."""
    out = _run_process([_binary(), "--version"], timeout=60).stdout
    match = re.search(r"(\d+(?:\.\d+)+)", out)
    if not match:
        raise SofficeError(f"cannot read the LibreOffice version from {out!r}")
    return tuple(int(p) for p in match.group(1).split("."))


def _write_profile(profile: Path, recalc: bool) -> None:
    """A fresh user profile whose Calc settings force (or forbid) recalculation on load."""
    mode = _RECALC_ALWAYS if recalc else _RECALC_NEVER
    items = "".join(
        f'<item oor:path="/org.openoffice.Office.Calc/Formula/Load">'
        f'<prop oor:name="{name}" oor:op="fuse"><value>{mode}</value></prop></item>\n'
        for name in ("OOXMLRecalcMode", "ODFRecalcMode")
    )
    user = profile / "user"
    user.mkdir(parents=True, exist_ok=True)
    (user / "registrymodifications.xcu").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<oor:items xmlns:oor="http://openoffice.org/2001/registry" '
        'xmlns:xs="http://www.w3.org/2001/XMLSchema" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n' + items + "</oor:items>\n",
        encoding="utf-8")


def _run_process(args: Sequence[str], timeout: float, env: dict[str, str] | None = None,
                 ) -> subprocess.CompletedProcess[str]:
    """Run ``args`` in its own process group; on timeout kill the whole group (soffice forks)."""
    try:
        proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                                start_new_session=True)
    except OSError as exc:
        raise SofficeError(f"cannot start {args[0]}: {exc}") from exc
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            proc.kill()
        proc.communicate()
        raise SofficeError(f"{Path(args[0]).name} timed out after {timeout:g} s: {' '.join(args[1:])}") from None
    return subprocess.CompletedProcess(args, proc.returncode, out, err)


def convert_many(sources: Sequence[Path], fmt: str, outdir: Path, *, recalc: bool = False,
                 timeout: float = 120) -> list[Path]:
    """Convert several files in one LibreOffice run; every file written into ``outdir``.

    ``fmt`` is what ``--convert-to`` takes: ``"pdf"``, ``"csv"``, ``XLSX``, ``CSV_ALL_SHEETS``….
    Returns the files the run produced (new or rewritten), sorted. Raises :class:`SofficeError`
    when LibreOffice fails, times out or produces nothing for some source.
    """
    binary = _binary()
    sources = [Path(s).resolve() for s in sources]
    for src in sources:
        if not src.is_file():
            raise SofficeError(f"no such file: {src}")
    outdir = Path(outdir).resolve()
    outdir.mkdir(parents=True, exist_ok=True)
    ext = fmt.split(":", 1)[0]
    for src in sources:
        if src.parent == outdir and src.suffix.lstrip(".").lower() == ext.lower():
            raise SofficeError(f"converting {src.name} to {ext} in its own folder would overwrite it")
    before = {p: p.stat().st_mtime_ns for p in outdir.iterdir()}
    with tempfile.TemporaryDirectory(prefix="sheetsales-lo-") as tmp:
        profile = Path(tmp) / "profile"
        _write_profile(profile, recalc)
        env = dict(os.environ, HOME=tmp)  # belt and braces: nothing lands in the real home
        args = [binary, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--invisible",
                "--norestore", "--nologo", "--nodefault", "--nolockcheck",
                *([f"--infilter={XLSX_IMPORT}"] if all(s.suffix.lower() == ".xlsx" for s in sources) else []),
                "--convert-to", fmt, "--outdir", str(outdir), *map(str, sources)]
        done = _run_process(args, timeout, env)
    produced = sorted(p for p in outdir.iterdir()
                      if p.suffix.lower() == f".{ext.lower()}" and before.get(p) != p.stat().st_mtime_ns)
    detail = (done.stderr.strip() or done.stdout.strip())[-2000:]
    if done.returncode != 0:
        raise SofficeError(f"soffice exited with {done.returncode} converting to {ext}: {detail}")
    missing = [s.name for s in sources if not any(p.stem == s.stem or p.stem.startswith(s.stem + "-")
                                                  for p in produced)]
    if missing or re.search(r"^Error:", done.stderr + done.stdout, re.M):  # "Error: source file could not be loaded"
        raise SofficeError(f"soffice did not convert {', '.join(missing) or 'every file'} to {ext}: {detail}")
    return produced


def convert(src: Path, fmt: str, outdir: Path, *, recalc: bool = False, timeout: float = 120) -> Path:
    """Convert ``src`` with headless LibreOffice into ``outdir``; the path of the converted file.

    ``recalc=True`` recalculates every formula on load (otherwise the file's cached values are
    kept). Raises :class:`SofficeError` (:class:`SofficeNotFoundError` when LibreOffice is missing).
    """
    src = Path(src)
    produced = convert_many([src], fmt, outdir, recalc=recalc, timeout=timeout)
    ext = fmt.split(":", 1)[0]
    exact = [p for p in produced if p.name == f"{src.stem}.{ext}"]
    return exact[0] if exact else produced[0]


def read_csv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return [row for row in csv.reader(fh)]


def export_csv_sheets(src: Path, outdir: Path, recalc: bool = True, timeout: float = 120,
                      ) -> dict[str, list[list[str]]]:
    """Every sheet of ``src`` as CSV rows (raw values, not formatted text), keyed by sheet name.

    Needs LibreOffice 7.2 or later (sheet number ``-1`` in the CSV filter options); the files
    are left in ``outdir`` as ``<stem>-<sheet>.csv``.
    """
    src = Path(src)
    version = soffice_version()
    if version < (7, 2):
        raise SofficeError(f"exporting every sheet to CSV needs LibreOffice 7.2+, found {version}")
    produced = convert_many([src], CSV_ALL_SHEETS, outdir, recalc=recalc, timeout=timeout)
    prefix = src.stem + "-"
    sheets = {p.stem[len(prefix):]: read_csv(p) for p in produced if p.stem.startswith(prefix)}
    if not sheets:
        raise SofficeError(f"LibreOffice exported no sheet of {src.name}")
    return sheets


# --------------------------------------------------------------------------------------------
# Pictures
# --------------------------------------------------------------------------------------------
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def _sheet_parts(files: dict[str, bytes]) -> list[tuple[str, str]]:
    """(sheet name, part path inside the zip), in workbook order."""
    workbook = files["xl/workbook.xml"].decode("utf-8")
    rels = files["xl/_rels/workbook.xml.rels"].decode("utf-8")
    targets = {}
    for rel in re.findall(r"<Relationship\b[^>]*>", rels):
        rid = re.search(r'\bId="([^"]+)"', rel)
        target = re.search(r'\bTarget="([^"]+)"', rel)
        if rid and target:
            t = target.group(1)
            targets[rid.group(1)] = t.lstrip("/") if t.startswith("/") else "xl/" + t
    out = []
    for tag in re.findall(r"<sheet\b[^>]*/>", workbook):
        name = re.search(r'\bname="([^"]*)"', tag)
        rid = re.search(r'\br:id="([^"]+)"', tag) or re.search(r'\bid="([^"]+)"', tag)
        if name and rid:
            out.append((_unescape(name.group(1)), targets.get(rid.group(1), "")))
    return out


def _unescape(text: str) -> str:
    return (text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&apos;", "'")
            .replace("&amp;", "&"))


def _set_attr(tag: str, name: str, value: str | None) -> str:
    """``tag`` (an XML start tag) with attribute ``name`` set to ``value`` (removed when None)."""
    tag = re.sub(rf'\s{name}="[^"]*"', "", tag)
    if value is None:
        return tag
    end = "/>" if tag.endswith("/>") else ">"
    return f'{tag[: -len(end)].rstrip()} {name}="{value}"{end}'


def page_copy(src: Path, dst: Path, sheet: str, *, print_area: str | None = None, landscape: bool = True,
              fit_width: bool = True) -> Path:
    """Copy the workbook ``src`` to ``dst`` with only ``sheet`` visible and printable on its own.

    The copy's other sheets are hidden, ``sheet`` is active, printed landscape and fitted to one
    page wide (as tall as needed), limited to ``print_area`` (e.g. ``"A1:P30"``) when given.
    The XML is edited in place, so charts, tables and formats survive (openpyxl would drop charts).
    """
    with zipfile.ZipFile(src) as zin:
        infos = zin.infolist()
        files = {i.filename: zin.read(i.filename) for i in infos}
    parts = _sheet_parts(files)
    names = [n for n, _ in parts]
    if sheet not in names:
        raise KeyError(f"{src.name} has no sheet {sheet!r} (sheets: {names})")
    index = names.index(sheet)

    workbook = files["xl/workbook.xml"].decode("utf-8")

    def sheet_tag(match: re.Match[str]) -> str:
        tag = match.group(0)
        name = re.search(r'\bname="([^"]*)"', tag)
        if name and _unescape(name.group(1)) == sheet:
            return _set_attr(tag, "state", None)
        if 'state="veryHidden"' in tag:
            return tag
        return _set_attr(tag, "state", "hidden")

    workbook = re.sub(r"<sheet\b[^>]*/>", sheet_tag, workbook)
    workbook = re.sub(r"<workbookView\b[^>]*?/?>",
                      lambda m: _set_attr(_set_attr(m.group(0), "activeTab", str(index)), "firstSheet", None),
                      workbook)
    if print_area:
        cells = ":".join("$" + re.sub(r"(\d+)", r"$\1", c.upper()) for c in print_area.split(":"))
        quoted = "'" + sheet.replace("'", "''") + "'"
        defined = (f'<definedName name="_xlnm.Print_Area" localSheetId="{index}">'
                   f"{escape(quoted)}!{cells}</definedName>")
        workbook = re.sub(rf'<definedName name="_xlnm.Print_Area" localSheetId="{index}">.*?</definedName>',
                          "", workbook)
        if "<definedNames>" in workbook:
            workbook = workbook.replace("<definedNames>", "<definedNames>" + defined, 1)
        elif "<definedNames/>" in workbook:
            workbook = workbook.replace("<definedNames/>", f"<definedNames>{defined}</definedNames>", 1)
        else:
            workbook = workbook.replace("</sheets>", f"</sheets><definedNames>{defined}</definedNames>", 1)
    files["xl/workbook.xml"] = workbook.encode("utf-8")

    for i, (_, part) in enumerate(parts):
        if part not in files:
            continue
        xml = files[part].decode("utf-8")
        xml = re.sub(r"<sheetView\b[^>]*?/?>",
                     lambda m, i=i: _set_attr(m.group(0), "tabSelected", "1" if i == index else None), xml, count=1)
        if i == index:
            xml = _page_setup(xml, landscape, fit_width)
        files[part] = xml.encode("utf-8")

    dst.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in infos:
            zout.writestr(info, files[info.filename])
    return dst


def _page_setup(xml: str, landscape: bool, fit_width: bool) -> str:
    """A worksheet part's XML printing landscape and one page wide."""
    if fit_width:
        if re.search(r"<sheetPr\b[^>]*/>", xml):
            xml = re.sub(r"<sheetPr\b([^>]*)/>", r'<sheetPr\1><pageSetUpPr fitToPage="1"/></sheetPr>', xml, count=1)
        elif "<sheetPr" in xml:
            if "<pageSetUpPr" in xml:
                xml = re.sub(r"<pageSetUpPr\b[^>]*?/>", lambda m: _set_attr(m.group(0), "fitToPage", "1"), xml,
                             count=1)
            else:
                xml = xml.replace("</sheetPr>", '<pageSetUpPr fitToPage="1"/></sheetPr>', 1)
        else:
            xml = re.sub(r"(<worksheet\b[^>]*>)", r'\1<sheetPr><pageSetUpPr fitToPage="1"/></sheetPr>', xml, count=1)
    setup = '<pageSetup paperSize="9"'
    setup += ' orientation="landscape"' if landscape else ' orientation="portrait"'
    setup += ' fitToWidth="1" fitToHeight="0"/>' if fit_width else "/>"
    xml = re.sub(r"<pageSetup\b[^>]*?/>", "", xml)
    if re.search(r"<pageMargins\b[^>]*/>", xml):
        xml = re.sub(r"(<pageMargins\b[^>]*/>)", lambda m: m.group(1) + setup, xml, count=1)
    else:
        margins = '<pageMargins left="0.4" right="0.4" top="0.5" bottom="0.5" header="0.3" footer="0.3"/>'
        anchor = re.search(r"<(headerFooter|rowBreaks|colBreaks|drawing|legacyDrawing|tableParts|extLst)\b|</worksheet>",
                           xml)
        pos = anchor.start() if anchor else len(xml)
        xml = xml[:pos] + margins + setup + xml[pos:]
    return xml


def _content_box(pgm: Path, threshold: int = 245) -> tuple[int, int, int, int] | None:
    """(x, y, width, height) of the non-white pixels of a binary PGM (P5) image; None when blank."""
    data = pgm.read_bytes()
    fields = re.match(rb"P5\s+(\d+)\s+(\d+)\s+(\d+)\s", data)
    if not fields:
        raise SofficeError(f"unexpected pdftoppm output {pgm.name}")
    width, height = int(fields.group(1)), int(fields.group(2))
    pixels = data[fields.end():]
    ink = re.compile(rb"[\x00-" + bytes([threshold - 1]) + rb"]")
    top = bottom = None
    left, right = width, -1
    for y in range(height):
        row = pixels[y * width:(y + 1) * width]
        first = ink.search(row)
        if first is None:
            continue
        top = y if top is None else top
        bottom = y
        left = min(left, first.start())
        right = max(right, width - 1 - ink.search(row[::-1]).start())  # type: ignore[union-attr]
    if top is None or bottom is None:
        return None
    return left, top, right - left + 1, bottom - top + 1


def render_png(src: Path, out_png: Path, *, sheet: str | None = None, dpi: int = 110,
               print_area: str | None = None, crop: bool = True, margin: int = 16,
               timeout: float = 120) -> Path:
    """A PNG of the first printed page of ``src`` (of ``sheet`` alone when given), via PDF and pdftoppm.

    ``print_area`` (e.g. ``"A1:P30"``) limits what is printed; ``crop`` trims the white page
    around the content down to ``margin`` pixels. The workbook is never modified: a copy is
    made when a sheet or print area is chosen.
    """
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is None:
        raise SofficeError("pdftoppm is not installed (Debian: apt-get install poppler-utils)")
    src, out_png = Path(src), Path(out_png)
    with tempfile.TemporaryDirectory(prefix="sheetsales-png-") as tmp:
        work = Path(tmp)
        source = src
        if sheet is not None or print_area is not None:
            with zipfile.ZipFile(src) as z:
                first = _sheet_parts({n: z.read(n) for n in ("xl/workbook.xml", "xl/_rels/workbook.xml.rels")})
            source = page_copy(src, work / "copy" / src.name, sheet if sheet is not None else first[0][0],
                               print_area=print_area)
        pdf = convert(source, PDF, work / "pdf", recalc=True, timeout=timeout)
        page = [pdftoppm, "-r", str(dpi), "-f", "1", "-l", "1", "-singlefile"]
        box = None
        if crop:
            done = _run_process([*page, "-gray", str(pdf), str(work / "gray")], timeout)
            if done.returncode != 0:
                raise SofficeError(f"pdftoppm failed on {pdf.name}: {done.stderr.strip()}")
            box = _content_box(work / "gray.pgm")
        args = [*page, "-png"]
        if box is not None:
            x, y, w, h = box
            args += ["-x", str(max(x - margin, 0)), "-y", str(max(y - margin, 0)),
                     "-W", str(w + 2 * margin), "-H", str(h + 2 * margin)]
        done = _run_process([*args, str(pdf), str(work / "page")], timeout)
        png = work / "page.png"
        if done.returncode != 0 or not png.is_file():
            raise SofficeError(f"pdftoppm failed on {pdf.name}: {done.stderr.strip()}")
        out_png.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(png, out_png)
    return out_png
