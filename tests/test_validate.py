"""Cell-level validation: every problem is an issue with a stable code at its cell."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import badfiles

from sheetsales.issues import Issue, flat
from sheetsales.method.playbook import Playbook
from sheetsales.reading.fill import fill_table
from sheetsales.reading.specs import MPC_TABLE
from sheetsales.reading.templates import build_template
from sheetsales.storage.ingest import parse_input

PB = Playbook()
GOOD = {"category": "数控机床", "customer": "上海精工机械有限公司", "amount": 1_000_000,
        "sign_date": dt.date(2026, 12, 20), "stage": "方案设计"}


def _mpc(tmp_path: Path, rows: list[dict], lang: str = "zh-CN") -> Path:
    path = build_template(tmp_path / "mpc.xlsx", "mpc", PB, lang, rep=PB.person("R01"))
    return fill_table(path, MPC_TABLE, rows)


def _check(tmp_path: Path, rows: list[dict], lang: str = "zh-CN"):
    path = _mpc(tmp_path, rows, lang)
    return parse_input(path, "R01/mpc.xlsx", PB, lang)


def test_good_rows_become_records(tmp_path: Path) -> None:
    parsed = _check(tmp_path, [GOOD, {**GOOD, "customer": "苏州恒达", "stage": "5", "win_rate": 0.5,
                                      "status": "已签约", "amount": "500,000"}])
    assert parsed.issues == []
    assert parsed.kind == "mpc" and parsed.rep == "R01" and parsed.readable
    first, second = (r.values for r in parsed.tables["mpc"])
    assert first["stage"] == 3 and first["amount"] == 1_000_000.0 and first["sign_date"] == dt.date(2026, 12, 20)
    assert first["status"] == "open"
    assert second["stage"] == 5 and second["status"] == "won" and second["amount"] == 500_000.0
    assert second["win_rate"] == 0.5


def test_each_bad_cell_has_its_code_and_address(tmp_path: Path) -> None:
    rows = [
        GOOD,
        {**GOOD, "customer": "A", "amount": -5},  # row 5
        {**GOOD, "customer": "B", "sign_date": "2026年12月底"},  # row 6
        {**GOOD, "customer": "C", "stage": "谈恋爱"},  # row 7
        {**GOOD, "customer": "D", "category": "飞机"},  # row 8
        {**GOOD, "customer": None},  # row 9
        {**GOOD, "customer": "E", "amount": "=1000*2"},  # row 10
        {**GOOD, "customer": "F", "amount": "一百万"},  # row 11
        {**GOOD, "customer": "G", "win_rate": 1.5 * 100},  # row 12: 150%
        {**GOOD, "customer": "上海精工机械 有限公司"},  # row 13: same customer as row 4 once normalised
        {**GOOD, "customer": "H", "status": "暂停"},  # row 14
        {**GOOD, "customer": "I", "no": 1.5},  # row 15
    ]
    parsed = _check(tmp_path, rows)
    assert flat(parsed.issues) == [
        ("E5", "negative-amount"),
        ("F6", "text-date"),
        ("H7", "unknown-stage"),
        ("B8", "unknown-category"),
        ("D9", "missing-value"),
        ("E10", "formula-in-cell"),
        ("E11", "wrong-type"),
        ("I12", "out-of-range"),
        ("D13", "duplicate-row"),
        ("J14", "unknown-choice"),
        ("A15", "wrong-type"),
    ]
    # The bad rows are kept out, the good row of the same file counts.
    assert [r.values["customer"] for r in parsed.tables["mpc"]] == ["上海精工机械有限公司"]
    assert parsed.readable
    assert all(i.position.startswith("R01/mpc.xlsx!MPC一览表!") for i in parsed.issues)


def test_messages_in_both_languages_say_how_to_fix(tmp_path: Path) -> None:
    zh = _check(tmp_path, [{**GOOD, "sign_date": "下周"}]).issues[0]
    assert zh.code == "text-date" and "yyyy-mm-dd" in zh.message("zh-CN") and "文本" in zh.message("zh-CN")
    assert "Type it again as yyyy-mm-dd" in zh.message("en")
    stage = Issue("unknown-stage", "f.xlsx", "S", "H4", {"value": "x", "allowed": "a / b"})
    assert stage.render("en") == "f.xlsx!S!H4  [unknown-stage] Sales stage 'x' is not in the playbook. " \
                                 "Pick one from the drop-down: a / b."


def test_english_workbook_with_english_labels(tmp_path: Path) -> None:
    parsed = _check(tmp_path, [{**GOOD, "category": "数控机床", "stage": "Solution design", "status": "Won"}], "en")
    assert parsed.issues == []
    assert parsed.tables["mpc"][0].values["stage"] == 3
    assert parsed.tables["mpc"][0].values["status"] == "won"


def test_percent_forms(tmp_path: Path) -> None:
    parsed = _check(tmp_path, [{**GOOD, "customer": "a", "win_rate": "30%"}, {**GOOD, "customer": "b", "win_rate": 40},
                               {**GOOD, "customer": "c", "win_rate": 0.6}])
    assert [r.values["win_rate"] for r in parsed.tables["mpc"]] == [0.3, 0.4, 0.6]


def test_stage_eight_means_won(tmp_path: Path) -> None:
    parsed = _check(tmp_path, [{**GOOD, "stage": "签约成交"}])
    assert parsed.tables["mpc"][0].values["status"] == "won"


# --- values no real list can hold (issue 13 §2), in real workbooks written with raw XML ---------------
def _raw_mpc(tmp_path: Path, cells: dict[str, bytes], rows: list[dict] | None = None) -> Path:
    src = _mpc(tmp_path, rows or [GOOD, {**GOOD, "customer": "苏州恒达"}])
    return badfiles.with_cells(src, tmp_path / "raw.xlsx", "MPC一览表", cells)


def test_nan_and_infinite_numbers_are_not_a_number_at_their_cell(tmp_path: Path) -> None:
    path = _raw_mpc(tmp_path, {"E4": badfiles.number_cell("E4", "NaN"), "E5": badfiles.number_cell("E5", "INF"),
                               "I4": badfiles.number_cell("I4", "-inf")})
    parsed = parse_input(path, "R01/mpc.xlsx", PB, "zh-CN")
    assert flat(parsed.issues) == [("E4", "not-a-number"), ("I4", "not-a-number"), ("E5", "not-a-number")]
    assert parsed.tables["mpc"] == []  # both rows kept out, nothing non-finite reaches the store


def test_nan_in_a_date_formatted_cell_and_the_day_that_never_was(tmp_path: Path) -> None:
    src = _mpc(tmp_path, [GOOD, {**GOOD, "customer": "苏州恒达"}, {**GOOD, "customer": "无锡"}])
    style = badfiles.cell_style(zipfile_xml(src, "MPC一览表"), "F4")
    assert style is not None  # the template formats the signing date as a date
    path = badfiles.with_cells(src, tmp_path / "raw.xlsx", "MPC一览表", {
        "F4": badfiles.number_cell("F4", "NaN", style), "F5": badfiles.number_cell("F5", "60", style),
        "F6": badfiles.number_cell("F6", "59", style)})
    parsed = parse_input(path, "R01/mpc.xlsx", PB, "zh-CN")
    assert flat(parsed.issues) == [("F4", "not-a-number"), ("F5", "impossible-date"), ("F6", "date-implausible")]
    assert [r.values["sign_date"] for r in parsed.tables["mpc"]] == [dt.date(1900, 2, 28)]


def zipfile_xml(path: Path, sheet: str) -> bytes:
    import zipfile

    with zipfile.ZipFile(path) as zf:
        return zf.read(badfiles.sheet_part(path, sheet))


def test_a_number_in_a_date_column_is_an_excel_serial_even_without_styles(tmp_path: Path) -> None:
    src = _raw_mpc(tmp_path, {"F4": badfiles.number_cell("F4", "46577"), "F5": badfiles.number_cell("F5", "46012.75")})
    path = badfiles.without_styles(src, tmp_path / "nostyles.xlsx")
    assert b"styles.xml" not in b"".join(n.encode() for n, _ in badfiles.read_parts(path))
    parsed = parse_input(path, "R01/mpc.xlsx", PB, "zh-CN")
    assert parsed.issues == []
    assert [r.values["sign_date"] for r in parsed.tables["mpc"]] == [dt.date(2027, 7, 9), dt.date(2025, 12, 21)]


def test_excel_serials_of_the_1900_date_system() -> None:
    from sheetsales.reading.validate import excel_serial_date

    assert excel_serial_date(1) == dt.date(1900, 1, 1)
    assert excel_serial_date(59) == dt.date(1900, 2, 28)
    assert excel_serial_date(60) is None  # 1900-02-29 never existed
    assert excel_serial_date(61) == dt.date(1900, 3, 1)
    assert excel_serial_date(45963.99) == dt.date(2025, 11, 2)
    assert excel_serial_date(2_958_465) == dt.date(9999, 12, 31)
    for impossible in (0, 0.5, -3, 2_958_466, float("nan"), float("inf")):
        assert excel_serial_date(impossible) is None


def test_dates_outside_what_excel_shows_are_impossible(tmp_path: Path) -> None:
    path = _raw_mpc(tmp_path, {"F4": badfiles.number_cell("F4", "2958466"), "F5": badfiles.number_cell("F5", "0")})
    parsed = parse_input(path, "R01/mpc.xlsx", PB, "zh-CN")
    assert flat(parsed.issues) == [("F4", "impossible-date"), ("F5", "impossible-date")]
    assert "9999-12-31" in parsed.issues[0].message("zh-CN")


def test_amounts_above_the_playbooks_limit(tmp_path: Path) -> None:
    path = _raw_mpc(tmp_path, {"E4": badfiles.number_cell("E4", "1e20"), "E5": badfiles.number_cell("E5", "9e307")})
    parsed = parse_input(path, "R01/mpc.xlsx", PB, "zh-CN")
    assert flat(parsed.issues) == [("E4", "amount-out-of-range"), ("E5", "amount-out-of-range")]
    assert "10,000,000,000" in parsed.issues[0].message("zh-CN") and "10,000,000,000" in parsed.issues[0].message("en")
    assert parsed.tables["mpc"] == []


def test_a_category_can_have_its_own_amount_limit(tmp_path: Path) -> None:
    strict = Playbook(amount_limits=(("数控机床", 2_000_000.0),))
    path = _mpc(tmp_path, [GOOD, {**GOOD, "customer": "苏州恒达", "amount": 3_000_000},
                           {**GOOD, "customer": "无锡", "category": "激光切割机", "amount": 3_000_000}])
    parsed = parse_input(path, "R01/mpc.xlsx", strict, "zh-CN")
    assert flat(parsed.issues) == [("E5", "amount-out-of-range")]
    assert "2,000,000" in parsed.issues[0].message("en")
    assert strict.amount_limit("激光切割机") == 10_000_000_000 == PB.amount_limit()


def test_amount_limits_live_in_the_playbook_workbook(tmp_path: Path) -> None:
    from sheetsales.method.playbook import read_playbook, write_playbook

    for lang in ("zh-CN", "en"):
        pb = Playbook(amount_limits=((PB.categories[1], 5_000_000.0),))
        path = tmp_path / f"playbook.{lang}.xlsx"
        write_playbook(path, pb, lang)
        back, issues = read_playbook(path, lang)
        assert issues == [] and back is not None
        assert back.amount_limit(PB.categories[1]) == 5_000_000 and back.amount_limit(PB.categories[0]) == 10**10
        assert back.max_rows == 20_000 and back.date_horizon_years == 5
        assert Playbook.from_json(back.to_json()) == back


def test_signing_dates_far_from_the_day_of_the_run_are_flagged_not_refused(tmp_path: Path) -> None:
    from sheetsales.reading.read import open_workbook, read_table
    from sheetsales.reading.validate import validate_table

    path = _mpc(tmp_path, [{**GOOD, "sign_date": dt.date(2031, 12, 1)}, {**GOOD, "customer": "B", "delivery_date":
                                                                         dt.date(2020, 1, 1)}])
    raw, _ = open_workbook(path)
    table, _ = read_table(raw, MPC_TABLE)
    records, issues = validate_table(table, MPC_TABLE, "f.xlsx", PB, "zh-CN", as_of=dt.date(2026, 11, 2))
    assert flat(issues) == [("F4", "date-implausible"), ("G5", "date-implausible")]
    assert all(i.severity == "warning" for i in issues) and len(records) == 2
    records, issues = validate_table(table, MPC_TABLE, "f.xlsx", PB, "zh-CN", as_of=dt.date(2027, 1, 1))
    assert flat(issues) == [("G5", "date-implausible")]


def test_huge_whole_numbers_and_non_finite_text_cells(tmp_path: Path) -> None:
    path = _raw_mpc(tmp_path, {"A4": badfiles.number_cell("A4", "1e300"), "D5": badfiles.number_cell("D5", "nan")})
    parsed = parse_input(path, "R01/mpc.xlsx", PB, "zh-CN")
    assert flat(parsed.issues) == [("A4", "out-of-range"), ("D5", "not-a-number")]


def test_replayed_run_judges_dates_from_its_own_date(tmp_path: Path) -> None:
    """`--as-of` replays a week: a signing date five and a half years after that week is implausible
    then, although it is only three and a half years from today."""
    path = _mpc(tmp_path, [{**GOOD, "sign_date": dt.date(2030, 6, 1)}])
    replay = parse_input(path, "R01/mpc.xlsx", PB, "zh-CN", as_of=dt.date(2024, 11, 4))
    assert flat(replay.issues) == [("F4", "date-implausible")]
    assert replay.readable and len(replay.tables["mpc"]) == 1  # a warning: the deal still counts
    assert parse_input(path, "R01/mpc.xlsx", PB, "zh-CN", as_of=dt.date(2026, 12, 2)).issues == []
