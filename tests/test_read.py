"""Reading workbooks safely: what is not a usable workbook gets an issue, never a crash or a hang."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path

import pytest
import xlsxwriter

from sheetsales import read
from sheetsales.issues import flat
from sheetsales.read import ignored_name, open_workbook, parse_ref


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
