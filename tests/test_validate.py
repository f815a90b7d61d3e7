"""Cell-level validation: every problem is an issue with a stable code at its cell."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sheetsales.fill import fill_table
from sheetsales.ingest import parse_input
from sheetsales.issues import Issue, flat
from sheetsales.playbook import Playbook
from sheetsales.specs import MPC_TABLE
from sheetsales.templates import build_template

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
