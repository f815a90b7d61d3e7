"""Fuzzing the reader with genuine files damaged the ways files go wrong (issue 13 §3, §4).

Every example starts from a workbook made from the project's templates and filled as a person
would (an MPC list, a weekly report, a supervisor's decisions), then damages it: truncated and
bit-flipped zips, missing and duplicated parts, XML that is not well formed or carries a DTD,
far-away and malformed cell references, duplicated cells, wrong cell types, extreme numbers and
dates, huge strings, many rows and columns, a renamed or deleted header row, a damaged hidden
``_sheetsales`` sheet. For each: ``sheetsales check`` exits 0, 1 or 2 without a traceback, in
bounded time; what ``check`` reports is what ``ingest`` records; an ingest with the file among
good files records every good file.

``make test`` runs a few examples with a fixed seed; ``make fuzz`` (``FUZZ_EXAMPLES=n``) runs as
many as asked, and every failing example is kept in ``tests/fuzz_regressions/``, which every test
run replays.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import os
import re
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import badfiles
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sheetsales.reading.read import col_letter
from sheetsales.service.cli import main
from sheetsales.service.workspace import Workspace, init_workspace
from sheetsales.storage.ingest import check_file, ingest

REGRESSIONS = Path(__file__).parent / "fuzz_regressions"
pytestmark = pytest.mark.filterwarnings("ignore:Duplicate name")  # the duplicated-part damage
FUZZING = "FUZZ_EXAMPLES" in os.environ
AS_OF = dt.date(2026, 11, 4)
SECONDS = 20  # per check, in process, on a loaded two-core machine


def _settings(examples: int) -> settings:
    return settings(max_examples=int(os.environ.get("FUZZ_EXAMPLES", examples)), derandomize=not FUZZING,
                    deadline=None, database=None, print_blob=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.function_scoped_fixture])


# --- genuine files -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def originals(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    folder = tmp_path_factory.mktemp("genuine")
    return {kind: badfiles.genuine(folder, kind).read_bytes() for kind in ("mpc", "weekly", "decisions")}


# --- damage ------------------------------------------------------------------------------
def _parts(data: bytes) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return [(i.filename, zf.read(i)) for i in zf.infolist()]


def _zip(parts: list[tuple[str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf, contextlib.suppress(Exception):
        for name, data in parts:
            zf.writestr(zipfile.ZipInfo(name, (2026, 11, 2, 0, 0, 0)), data)
    return buf.getvalue()


def _sheets(parts: list[tuple[str, bytes]]) -> list[int]:
    return [i for i, (n, _) in enumerate(parts) if n.startswith("xl/worksheets/")] or [0]


def _on_sheet(draw: st.DrawFn, data: bytes, change) -> bytes:
    parts = _parts(data)
    i = draw(st.sampled_from(_sheets(parts)))
    parts[i] = (parts[i][0], change(parts[i][1]))
    return _zip(parts)


def _ref(draw: st.DrawFn, far: bool = False) -> str:
    row = draw(st.one_of(st.integers(1, 40), st.integers(1, 1_048_576)) if not far else st.integers(20_000, 1_048_576))
    col = draw(st.one_of(st.integers(0, 25), st.integers(0, 16_383)))
    return f"{col_letter(col)}{row}"




NUMBERS = ["NaN", "nan", "INF", "-inf", "1e308", "-1e308", "1e999", "60", "59", "0", "-5", "2958466", "46577.5",
           "1e23", "9e307", "abc", "", " 7 ", "0x10", "1,5"]


@st.composite
def damaged(draw: st.DrawFn, originals: dict[str, bytes]) -> bytes:
    data = originals[draw(st.sampled_from(sorted(originals)))]
    for _ in range(draw(st.integers(1, 3))):
        how = draw(st.sampled_from([
            "truncate", "bitflip", "drop-part", "duplicate-part", "xml-cut", "xml-garbage", "dtd", "far-cell",
            "malformed-ref", "duplicate-cell", "wrong-type", "extreme-number", "huge-string", "many-rows",
            "many-columns", "header", "meta", "no-refs", "prefix"]))
        try:
            parts = _parts(data)
        except Exception:  # already not a zip: only bytes damage applies
            parts = None
            how = draw(st.sampled_from(["truncate", "bitflip"]))
        if how == "truncate":
            data = data[: draw(st.integers(0, max(len(data) - 1, 0)))]
        elif how == "bitflip":
            flips = draw(st.lists(st.integers(0, max(len(data) - 1, 0)), min_size=1, max_size=8))
            buf = bytearray(data)
            for pos in flips:
                if buf:
                    buf[pos] ^= 1 << draw(st.integers(0, 7))
            data = bytes(buf)
        elif how == "drop-part":
            parts.pop(draw(st.integers(0, len(parts) - 1)))
            data = _zip(parts)
        elif how == "duplicate-part":
            parts.append(parts[draw(st.integers(0, len(parts) - 1))])
            data = _zip(parts)
        elif how in ("xml-cut", "xml-garbage", "dtd"):
            i = draw(st.integers(0, len(parts) - 1))
            name, xml = parts[i]
            if how == "xml-cut":
                xml = xml[: draw(st.integers(0, len(xml)))]
            elif how == "xml-garbage":
                at = draw(st.integers(0, len(xml)))
                xml = xml[:at] + draw(st.sampled_from([b"<", b"&", b"</x>", b"\x00", b"\xff\xfe", b"<!-- c -->",
                                                       b"<![CDATA[<c r=\"XFD9\">]]>"])) + xml[at:]
            else:
                xml = re.sub(rb"^(<\?xml[^>]*\?>)?", lambda m: (m.group(0) or b"") + draw(st.sampled_from([
                    b'<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">]>', b'<!DOCTYPE x SYSTEM "file:///etc/passwd">',
                    b'<!DOCTYPE x [<!ENTITY % p SYSTEM "http://example.com/x">%p;]>'])), xml, count=1)
            parts[i] = (name, xml)
            data = _zip(parts)
        elif how == "far-cell":
            ref = _ref(draw, far=draw(st.booleans()))
            data = _on_sheet(draw, data, lambda x, r=ref: badfiles.set_cells(x, {r: badfiles.number_cell(r, "1")}))
        elif how == "malformed-ref":
            bad = draw(st.sampled_from(["A0", "$A$1", "", "1A", "A1B2", " B2", "ZZZZZZ1", "A99999999999", "a5", "é1"]))
            data = _on_sheet(draw, data, lambda x, b=bad: x.replace(b'<c r="A4"', f'<c r="{b}"'.encode(), 1))
        elif how == "duplicate-cell":
            data = _on_sheet(draw, data, lambda x: re.sub(rb'(<c r="[A-Z]+4".*?</c>)', rb"\1\1", x, count=2, flags=re.S))
        elif how == "wrong-type":
            cell = draw(st.sampled_from([b'<c r="E4" t="b"><v>7</v></c>', b'<c r="E4" t="n"><v>abc</v></c>',
                                         b'<c r="D4" t="s"><v>99999</v></c>', b'<c r="F4" t="d"><v>2026-13-45</v></c>',
                                         b'<c r="E4" t="e"><v>#DIV/0!</v></c>', b'<c r="D4" t="inlineStr"><is/></c>',
                                         b'<c r="F4" t="str"><v>NaN</v></c>']))
            data = _on_sheet(draw, data, lambda x, c=cell: badfiles.set_cells(x, {c.split(b'"')[1].decode(): c}))
        elif how == "extreme-number":
            ref = draw(st.sampled_from(["E4", "F4", "G5", "I4", "A4", "H4", "B2", "E5"]))
            style = draw(st.sampled_from([None, 0, 1, 2, 3, 4, 5]))
            number = draw(st.sampled_from(NUMBERS))
            data = _on_sheet(draw, data, lambda x, r=ref, n=number, s=style: badfiles.set_cells(
                x, {r: badfiles.number_cell(r, n, s)}))
        elif how == "huge-string":
            size = draw(st.sampled_from([1_000, 40_000, 2_000_000]))
            ref = draw(st.sampled_from(["D4", "K4", "A1", "B3"]))
            cell = f'<c r="{ref}" t="inlineStr"><is><t>{"客" * size}</t></is></c>'.encode()
            data = _on_sheet(draw, data, lambda x, r=ref, c=cell: badfiles.set_cells(x, {r: c}))
        elif how == "many-rows":
            count = draw(st.sampled_from([500, 19_990, 20_500]))
            data = _on_sheet(draw, data, lambda x, n=count: badfiles.add_rows(x, badfiles.rows_xml(400, n, "A C",
                                                                                                   varied=True)))
        elif how == "many-columns":
            count = draw(st.sampled_from([300, 5_000, 16_384]))
            row = b'<row r="300">' + b"".join(b'<c r="%s300"><v>%d</v></c>' % (col_letter(c).encode(), c)
                                              for c in range(count)) + b"</row>"
            data = _on_sheet(draw, data, lambda x, r=row: badfiles.add_rows(x, r))
        elif how == "header":
            if draw(st.booleans()):
                data = _on_sheet(draw, data, lambda x: re.sub(rb'<row r="3".*?</row>', b"", x, count=1, flags=re.S))
            else:
                data = _on_sheet(draw, data, lambda x: badfiles.set_cells(x, {"B3": b'<c r="B3" t="inlineStr"><is>'
                                                                                    b"<t>Renamed</t></is></c>"}))
        elif how == "meta":
            i = next((k for k, (n, d) in enumerate(parts) if n.startswith("xl/worksheets/") and b"workspace" in d),
                     None)
            if i is None:
                continue
            name, xml = parts[i]
            xml = draw(st.sampled_from([
                xml.replace(b"R01", b"R99"), xml.replace(b"mpc", b"xyz"), xml.replace(b"S01", b"R02"),
                re.sub(rb"<sheetData>.*</sheetData>", b"<sheetData/>", xml, flags=re.S), xml[: len(xml) // 3]]))
            parts[i] = (name, xml)
            data = _zip(parts)
        elif how == "no-refs":
            data = _on_sheet(draw, data, lambda x: re.sub(rb' r="[A-Z]+\d+"', b"", x))
        elif how == "prefix":
            data = _on_sheet(draw, data, lambda x: re.sub(rb"<(/?)(row|c|v|f|is|t)([\s>/])", rb"<\1x:\2\3", x)
                             .replace(b"<worksheet ", b'<worksheet xmlns:x="' + badfiles.MAIN_NS + b'" ', 1))
    return data


# --- the properties ------------------------------------------------------------------------
def check_in_process(path: Path) -> tuple[int, dict | None, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            rc = main(["check", "--json", "--as-of", AS_OF.isoformat(), str(path)])
        except SystemExit as exc:  # argparse
            rc = exc.code if isinstance(exc.code, int) else 2
    text = out.getvalue()
    try:
        report = json.loads(text)
    except ValueError:
        report = None
    return rc, report, err.getvalue()


def _keep(data: bytes, test: str) -> None:
    """Keep a failing example where every later test run replays it (``make fuzz`` only)."""
    if FUZZING:
        REGRESSIONS.mkdir(exist_ok=True)
        (REGRESSIONS / f"{test}-{os.getpid()}.xlsx").write_bytes(data)  # the last, shrunk, example stays


def assert_check_behaves(path: Path) -> dict:
    start = time.monotonic()
    rc, report, err = check_in_process(path)
    seconds = time.monotonic() - start
    assert rc in (0, 1, 2), (rc, err)
    assert "Traceback" not in err, err
    assert seconds < SECONDS, seconds
    assert report is not None and {"issues", "readable"} <= set(report), report
    return report


@given(data=st.data())
@_settings(30)
def test_check_survives_every_damaged_file(originals: dict[str, bytes], data: st.DataObject,
                                           tmp_path_factory: pytest.TempPathFactory) -> None:
    blob = data.draw(damaged(originals))
    path = tmp_path_factory.mktemp("fuzz") / "MPC一览表_R01.xlsx"
    path.write_bytes(blob)
    try:
        assert_check_behaves(path)
    except BaseException:
        _keep(blob, "check")
        raise


@pytest.fixture(scope="module")
def workspace_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace whose reps R01 and R03 saved good lists, ingested once."""
    root = tmp_path_factory.mktemp("wst") / "ws"
    ws = init_workspace(root, lang="zh-CN", as_of=AS_OF, sample=True)
    from conftest import deal, save_mpc

    save_mpc(ws, "R01", [deal("上海精工"), deal("苏州恒达", stage="初步接触")])
    save_mpc(ws, "R03", [deal("无锡机床")])
    ingest(ws, AS_OF)
    return root


def _recorded(ws: Workspace, label: str) -> list[tuple[str, str]]:
    store = ws.store()
    try:
        return sorted((i["code"], i["cell"] or "") for i in store.current_issues(AS_OF + dt.timedelta(days=1))
                      if i.get("path") == label)
    finally:
        store.close()


@given(data=st.data())
@_settings(6)
def test_check_says_what_ingest_does_and_good_files_are_recorded(
        originals: dict[str, bytes], workspace_template: Path, data: st.DataObject,
        tmp_path_factory: pytest.TempPathFactory) -> None:
    blob = data.draw(damaged(originals))
    root = tmp_path_factory.mktemp("fuzzws") / "ws"
    shutil.copytree(workspace_template, root)
    ws = Workspace.open(root)
    from conftest import deal, save_mpc

    # R03 saves a change at the same time as R02's damaged file arrives.
    save_mpc(ws, "R03", [deal("无锡机床", amount=2_345_678)])
    bad = ws.inbox / "R02" / "MPC一览表_R02.xlsx"
    bad.write_bytes(blob)
    label = bad.relative_to(ws.inbox).as_posix()
    try:
        checked = check_file(bad, ws, AS_OF + dt.timedelta(days=1), ws.lang)
        result = ingest(ws, AS_OF + dt.timedelta(days=1))
        store = ws.store()
        try:
            versions = store.latest_mpc_versions(AS_OF + dt.timedelta(days=1))
            amounts = [o["amount"] for o in store.opportunities_of([versions["R03"]["id"]])]
        finally:
            store.close()
        assert amounts == [2_345_678], "R03's save was not recorded"
        assert "R01" in versions
        assert sorted((i.code, i.cell or "") for i in checked.issues) == _recorded(ws, label)
        assert result.seen >= 3
    except BaseException:
        _keep(blob, "ingest")
        raise


# --- pathological cases, measured in a real process ----------------------------------------
_MEASURED = """
import json, resource, sys, time
from sheetsales.service.cli import main
start = time.monotonic()
rc = main(sys.argv[1:])
print(json.dumps({"rc": rc, "seconds": time.monotonic() - start,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


@pytest.mark.parametrize("case", ["far-corner", "wide-row", "huge-string", "no-refs-far"])
def test_pathological_files_in_a_real_process(case: str, originals: dict[str, bytes], tmp_path: Path) -> None:
    """No abort (rc 134), bounded time and memory: the 512 GB allocation of today's reader."""
    src = tmp_path / "src.xlsx"
    src.write_bytes(originals["mpc"])
    change = {
        "far-corner": lambda x: badfiles.set_cells(x, {"XFD1048576": badfiles.number_cell("XFD1048576", "1")}),
        "wide-row": lambda x: badfiles.add_rows(x, b'<row r="19999">' + b"".join(
            b'<c r="%s19999"><v>1</v></c>' % col_letter(c).encode() for c in range(0, 16_384, 7)) + b"</row>"),
        "huge-string": lambda x: badfiles.set_cells(x, {"D4": b'<c r="D4" t="inlineStr"><is><t>'
                                                             + b"x" * 30_000_000 + b"</t></is></c>"}),
        "no-refs-far": lambda x: re.sub(rb' r="[A-Z]+\d+"', b"", x).replace(
            b"</sheetData>", b'<row r="1048576"><c><v>1</v></c></row></sheetData>'),
    }[case]
    path = badfiles.patch(src, tmp_path / "bad.xlsx", badfiles.sheet_part(src, "MPC一览表"), change)
    done = subprocess.run([sys.executable, "-c", _MEASURED, "check", "--json", str(path)], capture_output=True,
                          text=True, timeout=120)
    assert "Traceback" not in done.stderr and done.returncode in (0, 1, 2), done.stderr[-2000:]
    run = json.loads(done.stdout.strip().splitlines()[-1])
    assert run["seconds"] < 30 and run["rss_mb"] < 400, run


# --- kept failing examples ------------------------------------------------------------------
def test_kept_fuzz_examples_are_handled() -> None:
    """Every example ``make fuzz`` kept is replayed (the folder holds its README when none is kept)."""
    assert (REGRESSIONS / "README.md").is_file()
    for path in sorted(REGRESSIONS.glob("*.xlsx")):
        assert_check_behaves(path)
