"""Render the README pictures into docs/images/ with headless LibreOffice.

    .venv/bin/python tools/screenshots.py [--out docs/images] [--as-of 2026-11-20] [--lang zh-CN]

Builds the demo workspace (``sheetsales.service.demo.run_demo``) in a temporary folder and renders:

* ``summary-overview.png``      the summary's Overview sheet: headline, one row per person, deals at risk;
* ``summary-funnel.png``        the summary's Funnel sheet: the funnel table and its chart;
* ``summary-opportunities.png`` the top of the summary's Opportunities sheet;
* ``feedback-rep.png``          a rep's feedback, first sheet: their week, to-do, a row kept out;
* ``template-mpc.png``          a rep's MPC list template filled with a few deals.

With ``--lang en`` the same pictures of the English demo, named ``*-en.png``.

Every picture is drawn from a COPY of the workbook: only the pictured sheet visible, landscape,
one page wide, limited to a print area. LibreOffice does not draw Excel's table styles (the
banded blue "Table Style Medium 2" the summary's tables carry), so the copy also paints that
style onto the table cells as plain cell formats; everything else (widths, number formats,
fonts, charts) is the workbook's own. The real outputs are never modified.

Needs LibreOffice (soffice), poppler-utils (pdftoppm) and a CJK font (Debian: fonts-noto-cjk).
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sheetsales.i18n import t  # noqa: E402
from sheetsales.method.playbook import Playbook  # noqa: E402
from sheetsales.outputs import soffice  # noqa: E402
from sheetsales.reading.fill import fill_table  # noqa: E402
from sheetsales.reading.specs import FIRST_DATA_ROW, MPC_TABLE  # noqa: E402
from sheetsales.reading.templates import build_template, template_filename  # noqa: E402

DEFAULT_AS_OF = dt.date(2026, 12, 2)

# "Table Style Medium 2" (Office theme): blue header with white bold text, light-blue bands,
# bold total row under a double blue line.
HEADER_FILL, BAND_FILL, ACCENT = "FF4472C4", "FFD9E1F2", "FF4472C4"


# --------------------------------------------------------------------------------------------
# Painting table styles as cell formats (on a copy)
# --------------------------------------------------------------------------------------------
def _col_index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def _col_letters(index: int) -> str:
    out = ""
    while index:
        index, rem = divmod(index - 1, 26)
        out = chr(65 + rem) + out
    return out


def _split_ref(ref: str) -> tuple[int, int]:
    m = re.fullmatch(r"([A-Z]+)(\d+)", ref)
    if not m:
        raise ValueError(ref)
    return _col_index(m.group(1)), int(m.group(2))


class _Styles:
    """Just enough of styles.xml to clone cell formats with another font, fill and border."""

    def __init__(self, xml: str) -> None:
        self.xml = xml
        self.fonts = re.findall(r"<font>.*?</font>|<font/>", self._section("fonts"))
        self.fills = re.findall(r"<fill>.*?</fill>|<fill/>", self._section("fills"))
        self.borders = re.findall(r"<border\b[^>]*?/>|<border\b.*?</border>", self._section("borders"))
        self.xfs = re.findall(r"<xf\b[^>]*?/>|<xf\b[^>]*?[^/]>.*?</xf>", self._section("cellXfs"))
        self.made: dict[tuple[int, str], int] = {}

    def _section(self, name: str) -> str:
        m = re.search(rf"<{name}\b[^>]*>(.*?)</{name}>", self.xml, re.S)
        return m.group(1) if m else ""

    @staticmethod
    def _attr(tag: str, name: str) -> str | None:
        m = re.search(rf'\b{name}="([^"]*)"', tag)
        return m.group(1) if m else None

    @staticmethod
    def _set(tag: str, name: str, value: str) -> str:
        head_end = tag.index(">") + 1
        head, rest = tag[:head_end], tag[head_end:]
        head = re.sub(rf'\s{name}="[^"]*"', "", head)
        close = "/>" if head.endswith("/>") else ">"
        return f'{head[: -len(close)]} {name}="{value}"{close}{rest}'

    def _add(self, kind: str, item: str) -> int:
        items = {"font": self.fonts, "fill": self.fills, "border": self.borders}[kind]
        if item in items:
            return items.index(item)
        items.append(item)
        return len(items) - 1

    def variant(self, xf_index: int, role: str) -> int:
        """The index of a cell format like ``xf_index`` painted for ``role`` (header, band, plain, total)."""
        key = (xf_index, role)
        if key in self.made:
            return self.made[key]
        xf = self.xfs[xf_index if xf_index < len(self.xfs) else 0]
        font = self.fonts[int(self._attr(xf, "fontId") or 0)]
        if role in ("header", "total") and "<b/>" not in font:
            font = font.replace("<font>", "<font><b/>", 1)
        if role == "header":
            font = re.sub(r"<color\b[^>]*/>", "", font).replace("</font>", '<color rgb="FFFFFFFF"/></font>')
        fill = {"header": HEADER_FILL, "band": BAND_FILL}.get(role)
        fill_xml = (f'<fill><patternFill patternType="solid"><fgColor rgb="{fill}"/><bgColor indexed="64"/>'
                    "</patternFill></fill>") if fill else None
        border_xml = (f'<border><left/><right/><top style="double"><color rgb="{ACCENT}"/></top><bottom/>'
                      "<diagonal/></border>") if role == "total" else None
        new = self._set(xf, "fontId", str(self._add("font", font)))
        new = self._set(new, "applyFont", "1")
        if fill_xml:
            new = self._set(self._set(new, "fillId", str(self._add("fill", fill_xml))), "applyFill", "1")
        if border_xml:
            new = self._set(self._set(new, "borderId", str(self._add("border", border_xml))), "applyBorder", "1")
        self.xfs.append(new)
        self.made[key] = len(self.xfs) - 1
        return self.made[key]

    def dump(self) -> str:
        xml = self.xml
        for name, items in (("fonts", self.fonts), ("fills", self.fills), ("borders", self.borders),
                            ("cellXfs", self.xfs)):
            xml = re.sub(rf"<{name}\b[^>]*>.*?</{name}>",
                         lambda _m, n=name, i=items: f'<{n} count="{len(i)}">{"".join(i)}</{n}>', xml,
                         count=1, flags=re.S)
        return xml


_ROW = re.compile(r'<row r="(\d+)"[^>]*/>|<row r="(\d+)"[^>]*>(.*?)</row>', re.S)
_CELL = re.compile(r'<c r="([A-Z]+)\d+"[^>]*/>|<c r="([A-Z]+)\d+"[^>]*>.*?</c>', re.S)


def _paint_rows(sheet_xml: str, cells: dict[tuple[int, int], str], styles: _Styles) -> str:
    """Give every (column, row) of ``cells`` the variant of its format for its role; missing cells are added."""
    by_row: dict[int, dict[int, str]] = {}
    for (col, row), role in cells.items():
        by_row.setdefault(row, {})[col] = role

    def paint_row(row_num: int, inner: str) -> str:
        roles = by_row[row_num]
        found = {_col_index(m.group(1) or m.group(2)): m.group(0) for m in _CELL.finditer(inner)}
        for col in roles:
            found.setdefault(col, f'<c r="{_col_letters(col)}{row_num}"/>')
        out = []
        for col in sorted(found):
            tag = found[col]
            if col in roles:
                head_end = tag.index(">")
                head, rest = tag[:head_end], tag[head_end:]
                closing = head.endswith("/")
                head = head.rstrip("/")
                old = re.search(r'\ss="(\d+)"', head)
                head = re.sub(r'\ss="\d+"', "", head)
                new = styles.variant(int(old.group(1)) if old else 0, roles[col])
                tag = f'{head} s="{new}"' + ("/" if closing else "") + rest
            out.append(tag)
        return "".join(out)

    done: set[int] = set()

    def row_sub(m: re.Match[str]) -> str:
        row_num = int(m.group(1) or m.group(2))
        if row_num not in by_row:
            return m.group(0)
        done.add(row_num)
        open_tag = m.group(0)[: m.group(0).index(">") + 1]
        open_tag = re.sub(r'\sspans="[^"]*"', "", open_tag)
        if open_tag.endswith("/>"):
            open_tag = open_tag[:-2] + ">"
        return f"{open_tag}{paint_row(row_num, m.group(3) or '')}</row>"

    sheet_xml = _ROW.sub(row_sub, sheet_xml)
    sheet_xml = sheet_xml.replace("<sheetData/>", "<sheetData></sheetData>")
    for row_num in sorted(set(by_row) - done):  # rows with no cell yet (an empty table body)
        new = f'<row r="{row_num}">{paint_row(row_num, "")}</row>'
        later = next((m for m in re.finditer(r'<row r="(\d+)"', sheet_xml) if int(m.group(1)) > row_num), None)
        pos = later.start() if later else sheet_xml.index("</sheetData>")
        sheet_xml = sheet_xml[:pos] + new + sheet_xml[pos:]
    return sheet_xml


def paint_table_styles(xlsx: Path) -> None:
    """Paint every named table's style onto its cells, in place (call it on a copy only)."""
    with zipfile.ZipFile(xlsx) as z:
        infos = z.infolist()
        files = {i.filename: z.read(i.filename) for i in infos}
    styles = _Styles(files["xl/styles.xml"].decode("utf-8"))
    for name in list(files):
        m = re.fullmatch(r"xl/worksheets/(sheet\d+\.xml)", name)
        rels_name = f"xl/worksheets/_rels/{m.group(1)}.rels" if m else ""
        if not m or rels_name not in files:
            continue
        rels = files[rels_name].decode("utf-8")
        cells: dict[tuple[int, int], str] = {}
        for target in re.findall(r'Type="[^"]*/table" Target="([^"]+)"', rels):
            table = files["xl/" + target.replace("../", "")].decode("utf-8")
            if 'showRowStripes="0"' in table:
                continue
            ref = re.search(r'\bref="([A-Z]+\d+):([A-Z]+\d+)"', table)
            if not ref:
                continue
            (c1, r1), (c2, r2) = _split_ref(ref.group(1)), _split_ref(ref.group(2))
            totals = int(re.search(r'totalsRowCount="(\d+)"', table).group(1)) if "totalsRowCount" in table else 0
            header = 'headerRowCount="0"' not in table
            body_first = r1 + (1 if header else 0)
            body_last = r2 - totals
            for col in range(c1, c2 + 1):
                if header:
                    cells[(col, r1)] = "header"
                for row in range(body_first, body_last + 1):
                    cells[(col, row)] = "band" if (row - body_first) % 2 == 0 else "plain"
                for row in range(body_last + 1, r2 + 1):
                    cells[(col, row)] = "total"
        if cells:
            files[name] = _paint_rows(files[name].decode("utf-8"), cells, styles).encode("utf-8")
    files["xl/styles.xml"] = styles.dump().encode("utf-8")
    with zipfile.ZipFile(xlsx, "w", zipfile.ZIP_DEFLATED) as z:
        for info in infos:
            z.writestr(info, files[info.filename])


# --------------------------------------------------------------------------------------------
# Pictures
# --------------------------------------------------------------------------------------------
def render(src: Path, out_png: Path, sheet: str, print_area: str | None, *, dpi: int, paint: bool) -> Path:
    """``sheet``'s ``print_area`` of a copy of ``src`` as a PNG."""
    with tempfile.TemporaryDirectory(prefix="sheetsales-shot-") as tmp:
        copy = Path(tmp) / src.name
        shutil.copyfile(src, copy)
        if paint:
            paint_table_styles(copy)
        started = time.perf_counter()
        soffice.render_png(copy, out_png, sheet=sheet, print_area=print_area, dpi=dpi)
        print(f"  {out_png.name}: {time.perf_counter() - started:.1f} s")
    return out_png


def table_ref(xlsx: Path, table_name: str) -> tuple[str, int, int, int, int]:
    """(sheet name, first column, first row, last column, last row) of a named table (1-based)."""
    import openpyxl

    wb = openpyxl.load_workbook(xlsx)
    for ws in wb.worksheets:
        if table_name in ws.tables:
            a, b = ws.tables[table_name].ref.split(":")
            (c1, r1), (c2, r2) = _split_ref(a), _split_ref(b)
            return ws.title, c1, r1, c2, r2
    raise KeyError(table_name)


def filled_mpc(folder: Path, lang: str) -> tuple[Path, str]:
    """A rep's MPC template filled with a few deals, as a rep would type them."""
    playbook = Playbook()
    rep = playbook.person("R01")
    path = build_template(folder / template_filename("mpc", lang, "R01"), "mpc", playbook, lang, rep=rep,
                          workspace="demo")
    zh = lang != "en"
    stages = {s.order: s.name(lang) for s in playbook.stages}
    cats = {c: c for c in playbook.categories}
    rows = [
        ("数控机床", "VMC-850", "华东精密机械有限公司", "East Precision Machinery Co.", 1_000_000, (2026, 12, 15),
         (2027, 2, 28), 3, 0.2, "方案初稿已提交,等待技术评审", "Draft solution sent; awaiting technical review",
         "张伟", "Zhang Wei", "应用工程师支持", "application engineer"),
        ("激光切割机", "LC-3015", "苏州新材料科技股份有限公司", "Suzhou New Materials Tech", 500_000, (2027, 1, 20),
         (2027, 3, 15), 5, 0.5, "技术方案已确认,进入商务报价", "Solution confirmed; quoting", "张伟", "Zhang Wei",
         "", ""),
        ("检测设备", "CMM-700", "宁波汽车零部件有限公司", "Ningbo Auto Parts Ltd.", 320_000, (2026, 12, 30), None, 4, 0.3,
         "已安排样件检测演示", "Sample measurement demo booked", "王经理", "Manager Wang", "演示样机", "demo unit"),
        ("自动化产线", "AL-200", "无锡重工集团", "Wuxi Heavy Industries", 2_400_000, (2027, 3, 31), None, 2, 0.1,
         "初次拜访设备处,了解扩产计划", "First visit; expansion plans discussed", "张伟", "Zhang Wei", "", ""),
        ("售后服务", "SVC-年保", "常州动力机械厂", "Changzhou Power Machinery", 85_000, (2026, 11, 28), None, 7, 0.8,
         "年保合同条款基本谈妥", "Service contract terms nearly agreed", "张伟", "Zhang Wei", "", "常州机电"),
    ]
    records = []
    for i, (cat, model, cust_zh, cust_en, amount, sign, deliver, stage, win, det_zh, det_en, own_zh, own_en,
            res, dist) in enumerate(rows, 1):
        records.append({
            "no": i, "category": cats.get(cat, cat), "model": model, "customer": cust_zh if zh else cust_en,
            "amount": amount, "sign_date": dt.date(*sign), "delivery_date": dt.date(*deliver) if deliver else None,
            "stage": stages[stage], "win_rate": win, "status": t("status.open", lang),
            "detail": det_zh if zh else det_en, "owner_name": own_zh if zh else own_en,
            "resources": res, "distributor": dist,
        })
    fill_table(path, MPC_TABLE, [{k: v for k, v in r.items() if v not in (None, "")} for r in records])
    last_col = _col_letters([c.key for c in MPC_TABLE.columns].index("detail") + 1)
    return path, f"A1:{last_col}{FIRST_DATA_ROW + len(records) + 1}"


def check_tools() -> None:
    missing = [name for name, ok in (("soffice (LibreOffice)", soffice.find_soffice()),
                                     ("pdftoppm (poppler-utils)", shutil.which("pdftoppm"))) if not ok]
    if missing:
        sys.exit(f"screenshots: missing {', '.join(missing)}")
    fonts = subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True).stdout if shutil.which(
        "fc-list") else ""
    if not fonts.strip():
        print("screenshots: warning: no CJK font found (Debian: apt-get install fonts-noto-cjk); "
              "Chinese text will show as boxes", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images")
    parser.add_argument("--as-of", type=dt.date.fromisoformat, default=DEFAULT_AS_OF)
    parser.add_argument("--lang", default="zh-CN", choices=("zh-CN", "en"))
    parser.add_argument("--weeks", type=int, default=8)
    parser.add_argument("--dpi", type=int, default=144)
    parser.add_argument("--feedback-rep", default="R05", help="whose feedback to picture (default R05)")
    parser.add_argument("--keep", type=Path, help="build the demo here (and keep it) instead of a temporary folder")
    args = parser.parse_args(argv)
    check_tools()
    from sheetsales.service.demo import run_demo

    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="sheetsales-demo-") as tmp:
        root = args.keep or Path(tmp) / "demo"
        demo = run_demo(root, args.as_of, lang=args.lang, weeks=args.weeks, out=lambda _line: None)
        print(f"demo built in {time.perf_counter() - started:.1f} s: {demo.summary_path}")
        summary = demo.summary_path
        out: Path = args.out
        out.mkdir(parents=True, exist_ok=True)

        suffix = "" if args.lang == "zh-CN" else "-en"
        sheet, c1, r1, c2, r2 = table_ref(summary, "OverviewByRep")
        render(summary, out / f"summary-overview{suffix}.png", t("sheet.overview", args.lang), None,
               dpi=args.dpi, paint=True)

        sheet, _c1, _r1, _c2, r2 = table_ref(summary, "Funnel")
        render(summary, out / f"summary-funnel{suffix}.png", sheet, f"A1:U{max(r2, 24) + 1}", dpi=args.dpi,
               paint=True)

        sheet, c1, r1, c2, r2 = table_ref(summary, "Opportunities")
        last = min(r2, r1 + 15)
        render(summary, out / f"summary-opportunities{suffix}.png", sheet, f"A1:{_col_letters(c2)}{last}",
               dpi=args.dpi * 2, paint=True)  # a wide sheet on one page: drawn finer to stay readable

        # A rep whose list has a row kept out: their feedback's first sheet.
        feedback = summary.parent / "feedback" / f"{args.feedback_rep}.xlsx"
        render(feedback, out / f"feedback-rep{suffix}.png", t("sheet.my_week", args.lang), None, dpi=args.dpi,
               paint=True)

        mpc, area = filled_mpc(Path(tmp), args.lang)
        render(mpc, out / f"template-mpc{suffix}.png", MPC_TABLE.name(args.lang), area, dpi=args.dpi, paint=False)
    print(f"done in {time.perf_counter() - started:.1f} s -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
