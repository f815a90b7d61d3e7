"""Reading workbooks safely: what is not a usable workbook gets an issue, never a crash or a hang."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from pathlib import Path

import pytest
import xlsxwriter

from sheetsales.issues import flat
from sheetsales.reading import read
from sheetsales.reading.read import ignored_name, measure, open_workbook, parse_ref


def _xlsx(path: Path) -> Path:
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("S")
    ws.write_string("A1", "text")
    ws.write_number("B2", 12.5)
    ws.write_datetime("C3", dt.datetime(2026, 11, 2), wb.add_format({"num_format": "yyyy-mm-dd"}))
    ws.write_formula("D4", "=B2*2", None, 25)
    wb.close()
    return path


def _codes(path: Path) -> list[str]:
    raw, issues = open_workbook(path)
    assert raw is None or not issues
    return [code for _, code in flat(issues)]


def test_values_and_formulas_are_read(tmp_path: Path) -> None:
    raw, issues = open_workbook(_xlsx(tmp_path / "ok.xlsx"))
    assert issues == []
    rows = raw.sheets["S"]
    assert rows[0][0] == "text" and rows[1][1] == 12.5 and rows[2][2] == dt.date(2026, 11, 2)
    assert rows[3][3] == 25
    assert raw.formulas["S"] == {(3, 3)}


@pytest.mark.parametrize(
    "name, ignored",
    [("~$MPC.xlsx", True), (".~lock.MPC.xlsx#", True), ("x.tmp", True), ("x.osl-tmp", True), ("noext", True),
     (".hidden.xlsx", True), ("report.docx", True), ("MPC.xlsx", False), ("old.xls", False), ("m.xlsm", False),
     ("data.csv", False)],
)
def test_lock_and_temp_files_are_ignored(name: str, ignored: bool) -> None:
    assert ignored_name(name) is ignored


def test_csv_renamed_to_xlsx(tmp_path: Path) -> None:
    p = tmp_path / "fake.xlsx"
    p.write_text("customer,amount\nA,1\n", encoding="utf-8")
    assert _codes(p) == ["not-a-workbook"]


def test_plain_csv(tmp_path: Path) -> None:
    p = tmp_path / "list.csv"
    p.write_text("a,b\n", encoding="utf-8")
    assert _codes(p) == ["not-a-workbook"]


def test_legacy_xls_and_encrypted_workbooks(tmp_path: Path) -> None:
    ole = read.OLE_MAGIC + b"\x00" * 504
    legacy = tmp_path / "old.xls"
    legacy.write_bytes(ole + "Workbook".encode("utf-16-le") + b"\x00" * 1000)
    assert _codes(legacy) == ["legacy-xls"]
    encrypted = tmp_path / "secret.xlsx"  # Excel stores a password-protected xlsx as an OLE file
    encrypted.write_bytes(ole + "EncryptedPackage".encode("utf-16-le") + b"\x00" * 1000)
    assert _codes(encrypted) == ["encrypted-workbook"]


def test_macro_workbook(tmp_path: Path) -> None:
    src = _xlsx(tmp_path / "ok.xlsx")
    p = tmp_path / "macro.xlsm"
    p.write_bytes(src.read_bytes())
    assert _codes(p) == ["macro-workbook"]
    # The same content renamed to .xlsx but declaring macros is refused too.
    q = tmp_path / "renamed.xlsx"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(q, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item)
            if item.filename == "[Content_Types].xml":
                data = data.replace(b"sheet.main+xml", b"sheet.macroEnabled.main+xml")
            zout.writestr(item, data)
    assert _codes(q) == ["macro-workbook"]


def test_truncated_zip(tmp_path: Path) -> None:
    data = _xlsx(tmp_path / "ok.xlsx").read_bytes()
    p = tmp_path / "half.xlsx"
    p.write_bytes(data[: len(data) // 2])
    assert _codes(p) == ["corrupt-workbook"]


def test_zip_bomb_is_refused_without_inflating_it(tmp_path: Path) -> None:
    src = _xlsx(tmp_path / "ok.xlsx")
    p = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            zout.writestr(item.filename, zin.read(item))
        # 300 MB of zeros compresses to about 300 KB.
        with zout.open("xl/media/padding.bin", "w") as fh:
            chunk = b"\x00" * (1 << 20)
            for _ in range(300):
                fh.write(chunk)
    assert p.stat().st_size < 2 * 1024 * 1024
    assert _codes(p) == ["workbook-too-large"]


def test_zip_bomb_with_a_lying_header_is_caught_while_streaming(tmp_path: Path, monkeypatch) -> None:
    """A bound smaller than the real content trips on the bytes actually inflated."""
    monkeypatch.setattr(read, "MAX_UNCOMPRESSED", 1024)
    monkeypatch.setattr(read, "MAX_RATIO", 10**9)
    assert _codes(_xlsx(tmp_path / "ok.xlsx")) == ["workbook-too-large"]


def test_xml_bomb_is_refused(tmp_path: Path) -> None:
    src = _xlsx(tmp_path / "ok.xlsx")
    p = tmp_path / "laughs.xlsx"
    bomb = (b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
            + b"".join(b'<!ENTITY lol%d "%s">' % (i, b"&lol%d;" % (i - 1) * 10 if i else b"&lol;" * 10)
                       for i in range(1, 10))
            + b']>\n<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>&lol9;</t></si></sst>')
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item)
            if item.filename == "xl/sharedStrings.xml":
                data = bomb
            zout.writestr(item.filename, data)
    assert _codes(p) == ["corrupt-workbook"]


def test_too_many_entries(tmp_path: Path) -> None:
    src = _xlsx(tmp_path / "ok.xlsx")
    p = tmp_path / "many.xlsx"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(p, "w") as zout:
        for item in zin.infolist():
            zout.writestr(item.filename, zin.read(item))
        for i in range(read.MAX_ENTRIES + 1):
            zout.writestr(f"xl/junk/{i}.txt", b"")
    assert _codes(p) == ["workbook-too-large"]


def test_a_zip_that_is_not_a_workbook(tmp_path: Path) -> None:
    p = tmp_path / "docs.xlsx"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("readme.txt", "hello")
    p.write_bytes(buf.getvalue())
    assert _codes(p) == ["not-a-workbook"]


def test_empty_file(tmp_path: Path) -> None:
    p = tmp_path / "empty.xlsx"
    p.write_bytes(b"")
    assert _codes(p) == ["not-a-workbook"]


def test_missing_file_is_an_issue_not_an_exception(tmp_path: Path) -> None:
    assert _codes(tmp_path / "gone.xlsx") == ["file-unreadable"]


def test_cell_references() -> None:
    assert parse_ref("A1") == (0, 0)
    assert parse_ref("AB12") == (11, 27)
    assert read.cell_ref(11, 27) == "AB12"
    assert read.col_letter(0) == "A" and read.col_letter(25) == "Z" and read.col_letter(26) == "AA"


# --- extent before values (issue 7 §5, §6) -------------------------------------------------------
import json  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402

import badfiles  # noqa: E402

from sheetsales.reading.specs import MPC_TABLE  # noqa: E402

_MEASURED = """
import json, resource, sys, time
from sheetsales.service.cli import main
start = time.monotonic()
rc = main(sys.argv[1:])
print(json.dumps({"rc": rc, "seconds": time.monotonic() - start,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def measured_check(path: Path, timeout: float = 60) -> tuple[dict, str]:
    """``sheetsales check --json`` in its own process: exit status, seconds, peak RSS, and its output."""
    done = subprocess.run([sys.executable, "-c", _MEASURED, "check", "--json", str(path)], capture_output=True,
                          text=True, timeout=timeout)
    assert "Traceback" not in done.stderr, done.stderr
    lines = done.stdout.strip().splitlines()
    return json.loads(lines[-1]), "\n".join(lines[:-1])


def _mpc_list(tmp_path: Path) -> Path:
    return badfiles.genuine(tmp_path / "src", "mpc")


def test_a_lone_value_on_the_last_row_and_column_is_refused_cheaply(tmp_path: Path) -> None:
    """Today python-calamine allocates 512 GB for A1:XFD1048576 and the process aborts (rc 134)."""
    path = badfiles.with_cells(_mpc_list(tmp_path), tmp_path / "far.xlsx", "MPC一览表",
                               {"XFD1048576": badfiles.number_cell("XFD1048576", "1")})
    run, out = measured_check(path)
    assert run["rc"] == 1 and run["seconds"] < 10 and run["rss_mb"] < 250, run
    issues = json.loads(out)["issues"]
    assert [(i["code"], i["cell"]) for i in issues] == [("sheet-too-large", "XFD1048576")]
    assert "XFD1048576" in issues[0]["message"] and "删除" in issues[0]["message"]


def test_rows_beyond_the_limit_are_refused_with_the_limit_in_the_message(tmp_path: Path) -> None:
    src = _mpc_list(tmp_path)
    part = badfiles.sheet_part(src, "MPC一览表")
    path = badfiles.patch(src, tmp_path / "long.xlsx", part, lambda x: badfiles.add_rows(x, badfiles.rows_xml(10, 60)))
    raw, issues = open_workbook(path, max_rows=60)
    assert raw is None and [(i.code, i.sheet) for i in issues] == [("too-many-rows", "MPC一览表")]
    assert "60" in issues[0].message("zh-CN") and "max_rows" in issues[0].message("en")
    raw, issues = open_workbook(path, max_rows=200)
    assert issues == [] and len(raw.sheets["MPC一览表"]) == 69


def test_a_far_cell_beyond_max_rows_is_named(tmp_path: Path) -> None:
    path = badfiles.with_cells(_mpc_list(tmp_path), tmp_path / "far.xlsx", "资格审查",
                               {"C5000": badfiles.number_cell("C5000", "7")})
    raw, issues = open_workbook(path, max_rows=1000)
    assert raw is None and [(i.code, i.sheet, i.cell) for i in issues] == [("sheet-too-large", "资格审查", "C5000")]
    assert "max_rows = 1000" in issues[0].message("en") and "row 5000, column 3" in issues[0].message("en")
    assert open_workbook(path)[1] == []  # within the default limit it is read


def test_cells_beyond_the_limit(tmp_path: Path) -> None:
    src = _mpc_list(tmp_path)
    wide = badfiles.with_cells(src, tmp_path / "wide.xlsx", "MPC一览表", {"XFD5": badfiles.number_cell("XFD5", "1")})
    raw, issues = open_workbook(wide, max_cells=50_000)
    assert raw is None and [(i.code, i.cell) for i in issues] == [("sheet-too-large", "XFD5")]
    scans, _ = measure(src, "mpc.xlsx")
    total = sum(s.area for s in scans.values())  # every sheet's area: the template's size
    assert total > 200
    raw, issues = open_workbook(src, max_cells=200)
    assert raw is None and [i.code for i in issues] == ["too-many-cells"]
    assert issues[0].params["cells"] == total and str(total) in issues[0].message("zh-CN")


def test_a_malformed_cell_reference_or_xml_is_a_damaged_file(tmp_path: Path) -> None:
    src = _mpc_list(tmp_path)
    part = badfiles.sheet_part(src, "MPC一览表")
    for n, change in enumerate([lambda x: x.replace(b'<c r="D4"', b'<c r="D0"', 1),
                                lambda x: x.replace(b'<c r="D4"', b'<c r="$D$4"', 1),
                                lambda x: x.replace(b"</row>", b"</rowx>", 1),
                                lambda x: x[: len(x) // 2]]):
        path = badfiles.patch(src, tmp_path / f"bad{n}.xlsx", part, change)
        raw, issues = open_workbook(path)
        assert raw is None and [i.code for i in issues] == ["corrupt-workbook"], n


def _unusual(xml: bytes) -> bytes:
    """The same sheet as some other programs write it: prefixed tags, a comment, no cell references."""
    xml = xml.replace(b"<sheetData>", b"<sheetData><!-- written by another program -->")
    xml = re.sub(rb'(<row r="\d+"[^>]*>)<c r="A\d+"', rb"\1<c", xml)  # first cell of a row: no reference
    xml = re.sub(rb"<(/?)(worksheet|sheetData|row|c|v|f|is|t)([\s>/])", rb"<\1x:\2\3", xml)
    return xml.replace(b"<x:worksheet ", b'<x:worksheet xmlns:x="' + badfiles.MAIN_NS + b'" ', 1)


def test_formulas_and_extent_are_found_in_xml_written_by_other_programs(tmp_path: Path) -> None:
    src = badfiles.genuine(tmp_path / "src", "mpc")
    filled = fill_formula(src, tmp_path / "formula.xlsx")
    part = badfiles.sheet_part(filled, "MPC一览表")
    for change in (lambda x: x, _unusual):
        path = badfiles.patch(filled, tmp_path / "unusual.xlsx", part, change)
        raw, issues = open_workbook(path)
        assert issues == [] and raw.formulas["MPC一览表"] == {(3, 4)}
        far = badfiles.patch(filled, tmp_path / "unusual-far.xlsx", part,
                             lambda x, c=change: c(badfiles.set_cells(x, {"B900000": b'<c r="B900000"><v>1</v></c>'})))
        assert [(i.code, i.cell) for i in open_workbook(far)[1]] == [("sheet-too-large", "B900000")]


def fill_formula(src: Path, out: Path) -> Path:
    from sheetsales.reading.fill import fill_table

    return fill_table(src, MPC_TABLE, [{**badfiles.DEALS[0], "amount": "=1000*2"}], out=out)


def test_the_fast_and_the_exact_scan_agree(tmp_path: Path) -> None:
    import zipfile

    src = badfiles.genuine(tmp_path / "src", "weekly")
    with zipfile.ZipFile(src) as zf:
        for name, part in read._sheet_paths(zf).items():
            with zf.open(part) as fh:
                fast = read._fast_scan(fh, 10**6)
            with zf.open(part) as fh:
                exact = read._exact_scan(fh, 10**6)
            keys = ("cells", "rows", "last_row", "last_col", "far_col_ref", "formulas", "serials")
            assert {k: getattr(fast, k) for k in keys} == {k: getattr(exact, k) for k in keys}, name


def test_reading_a_list_at_the_row_limit_stays_small_and_quick(tmp_path: Path) -> None:
    src = _mpc_list(tmp_path)
    part = badfiles.sheet_part(src, "MPC一览表")
    big = badfiles.patch(src, tmp_path / "big.xlsx", part,
                         lambda x: badfiles.add_rows(x, badfiles.rows_xml(10, 100_000, "A D E", varied=True)))
    run, out = measured_check(big)
    assert run["rc"] == 1 and run["rss_mb"] < 300, run
    assert [i["code"] for i in json.loads(out)["issues"]] == ["too-many-rows"]


def test_max_rows_counts_the_data_rows_under_the_title_hint_and_header(workspace) -> None:
    """A list of exactly ``max_rows`` deals is read; one deal more is refused, and the message
    counts the deals, not the three rows above them."""
    from conftest import deal, save_mpc

    path = save_mpc(workspace, "R01", [deal(f"客户{n}") for n in range(12)])
    raw, issues = open_workbook(path, max_rows=12)
    assert issues == [] and raw is not None
    raw, issues = open_workbook(path, max_rows=11)
    assert raw is None and [(i.code, i.sheet) for i in issues] == [("too-many-rows", "MPC一览表")]
    assert "有 12 行数据" in issues[0].message("zh-CN") and "11" in issues[0].message("zh-CN")
