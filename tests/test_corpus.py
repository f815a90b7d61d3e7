"""The corpus of bad files handled well: each keeps its issue code, whatever reader comes next.

Every file is made from the project's own workbooks at test time (damaged at the byte, zip, XML or
cell level), except two only another program makes, committed under ``tests/corpus/``.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable
from pathlib import Path

import badfiles
import pytest

from sheetsales.method.playbook import Playbook
from sheetsales.storage.ingest import parse_input

ENC = "EncryptedPackage".encode("utf-16-le")


def _damaged(change: Callable[[bytes], bytes]) -> Callable[[Path], Path]:
    def build(tmp: Path) -> Path:
        out = tmp / "bad.xlsx"
        out.write_bytes(change(badfiles.genuine(tmp / "src", "mpc").read_bytes()))
        return out
    return build


def _part(part: str, change: Callable[[bytes], bytes], name: str = "bad.xlsx") -> Callable[[Path], Path]:
    def build(tmp: Path) -> Path:
        src = badfiles.genuine(tmp / "src", "mpc")
        real = badfiles.sheet_part(src, "MPC一览表") if part == "sheet" else part
        return badfiles.patch(src, tmp / name, real, change)
    return build


def _cells(cells: dict[str, bytes], sheet: str = "MPC一览表") -> Callable[[Path], Path]:
    def build(tmp: Path) -> Path:
        return badfiles.with_cells(badfiles.genuine(tmp / "src", "mpc"), tmp / "bad.xlsx", sheet, cells)
    return build


def _committed(name: str) -> Callable[[Path], Path]:
    return lambda _tmp: badfiles.CORPUS / name


def _zip_bomb(tmp: Path) -> Path:
    src = badfiles.genuine(tmp / "src", "mpc")
    out = tmp / "bomb.xlsx"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            zout.writestr(item.filename, zin.read(item))
        with zout.open("xl/media/padding.bin", "w") as fh:
            for _ in range(300):
                fh.write(b"\x00" * (1 << 20))
    return out


def _macro(tmp: Path) -> Path:
    return badfiles.patch(badfiles.genuine(tmp / "src", "mpc"), tmp / "macro.xlsx", "[Content_Types].xml",
                          lambda x: x.replace(b"sheet.main+xml", b"sheet.macroEnabled.main+xml"))


def _strict(tmp: Path) -> Path:
    return _strict_from(badfiles.genuine(tmp / "src", "mpc"), tmp / "strict.xlsx")


def _strict_from(src: Path, out: Path) -> Path:
    """ISO 29500 Strict: the same parts under the purl.oclc.org namespaces."""
    swaps = [(b"http://schemas.openxmlformats.org/spreadsheetml/2006/main", b"http://purl.oclc.org/ooxml/spreadsheetml/main"),
             (b"http://schemas.openxmlformats.org/officeDocument/2006/relationships",
              b"http://purl.oclc.org/ooxml/officeDocument/relationships")]
    parts = []
    for name, data in badfiles.read_parts(src):
        for old, new in swaps:
            data = data.replace(old, new)
        parts.append((name, data))
    return badfiles.write_parts(out, parts)


def _many_rows(tmp: Path) -> Path:
    return _part("sheet", lambda x: badfiles.add_rows(x, badfiles.rows_xml(10, 20_001, "A D", varied=True)))(tmp)


LAUGHS = (b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
          + b"".join(b'<!ENTITY lol%d "%s">' % (i, b"&lol%d;" % (i - 1) * 10 if i > 1 else b"&lol;" * 10)
                     for i in range(1, 10))
          + b']>\n<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>&lol9;</t></si></sst>')
XXE = (b'<?xml version="1.0"?>\n<!DOCTYPE sst [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
       b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>&xxe;</t></si></sst>')

# name -> (how it is made, the error codes check and ingest give it)
CORPUS: dict[str, tuple[Callable[[Path], Path], set[str]]] = {
    "truncated": (_damaged(lambda b: b[: len(b) // 2]), {"corrupt-workbook"}),
    "truncated-end": (_damaged(lambda b: b[:-30]), {"corrupt-workbook"}),
    "not-a-zip": (_damaged(lambda b: bytes(range(256)) * 4), {"not-a-workbook"}),
    "empty": (_damaged(lambda _b: b""), {"not-a-workbook"}),
    "csv-renamed": (_damaged(lambda _b: "客户名称,预计合同金额\n上海精工,100\n".encode()), {"not-a-workbook"}),
    "zip-not-a-workbook": (_part("xl/workbook.xml", lambda x: x, name="bad.xlsx"), set()),  # control: unchanged
    "legacy-xls": (_committed("legacy.xls"), {"legacy-xls"}),
    "encrypted": (_committed("encrypted.xlsx"), {"encrypted-workbook"}),
    "macro-content-type": (_macro, {"macro-workbook"}),
    "zip-bomb": (_zip_bomb, {"workbook-too-large"}),
    "billion-laughs": (_part("xl/styles.xml", lambda _x: LAUGHS), {"corrupt-workbook"}),
    "external-entity": (_part("sheet", lambda _x: XXE), {"corrupt-workbook"}),
    "sheet-not-well-formed": (_part("sheet", lambda x: x.replace(b"</row>", b"</rows>", 1)), {"corrupt-workbook"}),
    "workbook-xml-damaged": (_part("xl/workbook.xml", lambda x: x[:-40]), {"corrupt-workbook"}),
    "strict-ooxml": (_strict, set()),  # read as a transitional file is (its formulas found too)
    "lone-value-far-out": (_cells({"XFD1048576": badfiles.number_cell("XFD1048576", "1")}), {"sheet-too-large"}),
    "too-many-rows": (_many_rows, {"too-many-rows"}),
    "nan-amount": (_cells({"E4": badfiles.number_cell("E4", "NaN")}), {"not-a-number"}),
    "infinite-amount": (_cells({"E5": badfiles.number_cell("E5", "-INF")}), {"not-a-number"}),
    "huge-amount": (_cells({"E4": badfiles.number_cell("E4", "1e23")}), {"amount-out-of-range"}),
    "the-29th-of-february-1900": (_cells({"F4": badfiles.number_cell("F4", "60", 0)}), {"impossible-date"}),
    "header-row-deleted": (_part("sheet", lambda x: re.sub(rb'<row r="3".*?</row>', b"", x, count=1, flags=re.S)),
                           {"missing-column"}),
    "meta-sheet-gone": (_part("xl/workbook.xml", lambda x: re.sub(rb'<sheet name="_sheetsales"[^>]*/>', b"", x)),
                        set()),  # recognised by its sheets: a warning (missing-meta), no error
}


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_each_bad_file_keeps_its_code(name: str, tmp_path: Path) -> None:
    build, expected = CORPUS[name]
    path = build(tmp_path)
    parsed = parse_input(path, f"R01/{path.name}", Playbook(), "zh-CN", folder_rep="R01")
    assert {i.code for i in parsed.errors} == expected, [i.render("en") for i in parsed.issues]
    for issue in parsed.issues:  # every message renders in both languages, placeholders filled
        assert "{" not in issue.message("zh-CN") and "{" not in issue.message("en")


def test_the_committed_files_are_what_they_claim() -> None:
    encrypted = (badfiles.CORPUS / "encrypted.xlsx").read_bytes()
    assert encrypted.startswith(b"\xd0\xcf\x11\xe0") and ENC in encrypted and b"EncryptionInfo".decode().encode(
        "utf-16-le") in encrypted
    legacy = (badfiles.CORPUS / "legacy.xls").read_bytes()
    assert legacy.startswith(b"\xd0\xcf\x11\xe0") and "Workbook".encode("utf-16-le") in legacy and ENC not in legacy
    assert all(p.stat().st_size < 32_000 for p in badfiles.CORPUS.iterdir())


def test_a_strict_file_has_its_formulas_found(tmp_path: Path) -> None:
    """The previous reader found no sheet of a Strict file, so a formula there passed as a value."""
    from sheetsales.reading.fill import fill_table
    from sheetsales.reading.specs import MPC_TABLE

    src = badfiles.genuine(tmp_path / "src", "mpc")
    fill_table(src, MPC_TABLE, [{**badfiles.DEALS[0], "amount": "=1000*2"}])
    strict = _strict_from(src, tmp_path / "strict.xlsx")
    parsed = parse_input(strict, "R01/strict.xlsx", Playbook(), "zh-CN", folder_rep="R01")
    assert [(i.cell, i.code) for i in parsed.errors] == [("E4", "formula-in-cell")]
