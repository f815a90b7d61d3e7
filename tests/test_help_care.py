"""Help alarms, customer cards, reminders, no-decider and referrals (help.py, care.py, referrals.py),
on known input: every figure below is computed by hand from the rows the test saves."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest
from conftest import WEEK1, deal, save_mpc

from sheetsales.analyses import care, help
from sheetsales.analyses.analyse import Summary
from sheetsales.outputs import soffice as lo
from sheetsales.outputs.report import build_summary, run_report
from sheetsales.reading.fill import fill_table
from sheetsales.reading.specs import (
    CARD_APPOINTMENTS_TABLE,
    CARD_CUSTOMERS_TABLE,
    CARD_PEOPLE_TABLE,
    HELP_ANSWERS_TABLE,
    HELP_REQUESTS_TABLE,
)
from sheetsales.reading.templates import template_filename
from sheetsales.service.workspace import Workspace
from sheetsales.storage.ingest import ingest

DAY = dt.timedelta(days=1)


def help_path(ws: Workspace, person: str) -> Path:
    return ws.inbox / person / template_filename("help", ws.lang, person)


def cards_path(ws: Workspace, rep: str) -> Path:
    return ws.inbox / rep / template_filename("cards", ws.lang, rep)


def ask(ws: Workspace, rep: str, rows: list[dict]) -> None:
    fill_table(help_path(ws, rep), HELP_REQUESTS_TABLE, rows)


def answer(ws: Workspace, person: str, rows: list[dict]) -> None:
    fill_table(help_path(ws, person), HELP_ANSWERS_TABLE, rows)


PRICE = {"no": 1, "customer": "大庆石化机械厂", "reason": "对手报价低 15%", "tried": "申请了 5% 折扣", "keyword": "价格"}
COACH = {"no": 2, "customer": "天津港务集团", "reason": "找不到决策人", "keyword": "关系"}


@pytest.fixture
def helped(workspace: Workspace) -> Workspace:
    """R01 asks on day 0 (two requests); R02 answers #1 on day 2, S01 answers #1 and R03 answers
    #2 on day 3; R01 marks R02's answer effective on day 6."""
    ws = workspace
    save_mpc(ws, "R01", [deal("大庆石化机械厂", stage="项目评估", amount=2_000_000), deal("天津港务集团")])
    ask(ws, "R01", [PRICE, COACH])
    ingest(ws, WEEK1)
    answer(ws, "R02", [{"request": "r01-1", "answer": "算全生命周期成本,别再降价"}])
    ingest(ws, WEEK1 + 2 * DAY)
    answer(ws, "S01", [{"request": "R01-01", "answer": "约对方总工一起做技术交流"}])
    answer(ws, "R03", [{"request": "R01-2", "answer": "通过设备科长引荐"}, {"request": "R09-7", "answer": "?"}])
    ingest(ws, WEEK1 + 3 * DAY)
    ask(ws, "R01", [{**PRICE, "effective": "r02"}, COACH])
    ingest(ws, WEEK1 + 6 * DAY)
    return ws


def test_a_request_answered_and_marked_effective_closes_with_its_times(helped: Workspace) -> None:
    summary = build_summary(helped, WEEK1 + 7 * DAY)
    h = summary.sections["help"]
    [closed] = h["pool"]
    assert (closed["request"], closed["helper"], closed["answer"]) == ("R01-1", "R02", "算全生命周期成本,别再降价")
    assert (closed["raised"], closed["first_answer"], closed["resolved"]) == (WEEK1, WEEK1 + 2 * DAY, WEEK1 + 6 * DAY)
    assert (closed["days_to_first_answer"], closed["days_to_resolve"]) == (2, 6)
    assert (closed["stage_order"], closed["amount"], closed["keyword"]) == (6, 2_000_000, "价格")
    [still] = h["open"]
    assert (still["request"], still["answers"], still["age_days"], still["days_to_first_answer"]) == ("R01-2", 1, 7, 3)
    # Two requests, both answered, one solved; first answers after 2 and 3 days, one resolution in 6.
    assert h["figures"] == [{"requests": 2, "open": 1, "closed": 1, "answered": 2, "support_rate": 1.0,
                             "resolution_rate": 0.5, "avg_days_to_first_answer": 2.5, "avg_days_to_resolve": 6.0}]
    assert [(r["rank"], r["author"], r["answers"], r["effective"]) for r in h["helpers"]] == [
        (1, "R02", 1, 1), (2, "R03", 1, 0), (3, "S01", 1, 0)]
    assert {a["request"]: a["status"] for a in h["answers"] if a["author"] == "R03"} == {"R01-2": "open",
                                                                                          "R09-7": "unknown"}
    assert [(i["code"], i["rep"], i["cell"]) for i in summary.issues if i["code"].startswith("help")] == [
        ("help-unknown-request", "R03", "A5")]
    assert [(s["stage_order"], s["requests"], s["open"], s["closed"]) for s in h["by_stage"]] == [(3, 1, 1, 0),
                                                                                                  (6, 1, 0, 1)]
    assert [(p["rep"], p["requests"], p["open"], p["closed"]) for p in h["by_person"]] == [("R01", 2, 1, 1)]
    # Replaying the week before the mark: nothing was solved then.
    before = build_summary(helped, WEEK1 + 5 * DAY).sections["help"]
    assert before["pool"] == [] and before["figures"][0]["resolution_rate"] == 0


def test_only_the_requesters_mark_of_an_actual_answer_counts(workspace: Workspace) -> None:
    ws = workspace
    save_mpc(ws, "R01", [deal("大庆石化机械厂")])
    ask(ws, "R01", [{**PRICE, "effective": "R03"}])  # R03 never answered
    answer(ws, "R01", [{"request": "R01-1", "answer": "自问自答"}])  # one's own answer does not count
    answer(ws, "R02", [{"request": "R01-1", "answer": "有效的方法"}])
    ingest(ws, WEEK1)
    h = build_summary(ws, WEEK1).sections["help"]
    assert h["pool"] == [] and h["open"][0]["answers"] == 1 and h["open"][0]["mark_problem"]
    assert {a["author"]: a["status"] for a in h["answers"]} == {"R01": "own", "R02": "open"}
    # The mark naming someone who never answered is a data issue at its cell of the requester's file.
    summary = build_summary(ws, WEEK1)
    assert [(i["code"], i["rep"], i["file"], i["cell"]) for i in summary.issues if i["code"].startswith("help")] == [
        ("help-effective-without-answer", "R01", "R01/困难报警_R01.xlsx", "G4")]


def test_help_unanswered_after_the_playbooks_days(workspace: Workspace) -> None:
    ws = workspace
    save_mpc(ws, "R01", [deal("天津港务集团")])
    ask(ws, "R01", [COACH])
    ingest(ws, WEEK1)
    # help_answer_days is 2: day 2 is still in time, day 3 is not.
    assert not [a for a in build_summary(ws, WEEK1 + 2 * DAY).alerts if a["code"] == "help-unanswered"]
    [alert] = [a for a in build_summary(ws, WEEK1 + 3 * DAY).alerts if a["code"] == "help-unanswered"]
    assert alert["people"] == ["R01"] and "R01-2" in alert["message"] and "3" in alert["message"]
    answer(ws, "R02", [{"request": "R01-2", "answer": "先找线人"}])
    ingest(ws, WEEK1 + 3 * DAY)
    assert not [a for a in build_summary(ws, WEEK1 + 3 * DAY).alerts if a["code"] == "help-unanswered"]


def test_feedback_lists_the_requests_each_person_could_answer_within_scope(helped: Workspace) -> None:
    run_report(helped, WEEK1 + 7 * DAY)

    def sheet_text(person: str) -> str:
        wb = openpyxl.load_workbook(helped.reports / "feedback" / f"{person}.xlsx")
        return "\n".join(str(v) for row in wb["困难报警"].iter_rows(values_only=True) for v in row if v is not None)

    r02, s01, r01 = sheet_text("R02"), sheet_text("S01"), sheet_text("R01")
    # R02 (a rep: own scope) may answer R01-2 but does not see whose customer it is.
    assert "R01-2" in r02 and "找不到决策人" in r02 and "天津港务集团" not in r02
    # S01 (R01's supervisor) sees the customer; R01 sees their own open request, not as answerable.
    assert "R01-2" in s01 and "天津港务集团" in s01
    assert "天津港务集团" in r01
    # The helper ranking: a rep (level 2: anonymised) sees their own place and the others' figures only;
    # a sales manager (level 5: named) sees every name.
    ranking = build_summary(helped, WEEK1 + 7 * DAY).sections["help"]["ranking"]
    assert [(r["rank"], r["author"], r["answers"], r["you"]) for r in ranking if r["reader"] == "R03"] == [
        (1, "", 1, False), (2, "R03", 1, True), (3, "", 1, False)]
    assert [r["author"] for r in ranking if r["reader"] == "S01"] == ["R02", "R03", "S01"]
    sheet = openpyxl.load_workbook(helped.reports / "feedback" / "R03.xlsx")["困难报警"]
    shown = [[c.value for c in row] for row in sheet[sheet.tables["HelpRanking"].ref]][1:4]
    assert [row[:3] for row in shown] == [[1, None, None], [2, "R03", "刘洋"], [3, None, None]]
    rows = build_summary(helped, WEEK1 + 7 * DAY).sections["help"]["answerable"]
    assert {r["reader"] for r in rows} == {"D01", "S01", "R02", "R03"}
    assert next(r for r in rows if r["reader"] == "R03")["answered_by_you"] is True


# --------------------------------------------------------------------------------------------
# Reminders
# --------------------------------------------------------------------------------------------
CARDS = {
    "card_customers": [
        {"rep": "R01", "customer": "甲厂", "customer_norm": "甲厂", "founded": dt.date(1998, 11, 5), "signed": None,
         "revisit_days": None},
        {"rep": "R01", "customer": "乙厂", "customer_norm": "乙厂", "founded": None, "signed": dt.date(2026, 9, 1),
         "revisit_days": 31},  # revisits 2 Oct, 2 Nov, 3 Dec …
    ],
    "card_people": [
        {"rep": "R02", "customer": "甲厂", "customer_norm": "甲厂", "name": "王总", "title": "院长", "role": "decider",
         "birthday": dt.date(1968, 11, 3)},
        {"rep": "R02", "customer": "甲厂", "customer_norm": "甲厂", "name": "闰日", "title": "", "role": "user",
         "birthday": dt.date(1980, 2, 29)},
    ],
    "card_appointments": [
        {"rep": "R01", "customer": "乙厂", "customer_norm": "乙厂", "date": dt.date(2026, 11, 4), "time": "10:00",
         "person": "李工", "purpose": "验收"},
    ],
}


def test_reminders_fall_on_the_right_days() -> None:
    due = care.reminders(CARDS, WEEK1, 3, "zh-CN")  # 2–5 November
    assert [(r["kind"], r["customer"], r["date"], r["in_days"], r["who"], r["years"]) for r in due] == [
        ("revisit", "乙厂", dt.date(2026, 11, 2), 0, "", None),
        ("birthday", "甲厂", dt.date(2026, 11, 3), 1, "王总", 58),
        ("appointment", "乙厂", dt.date(2026, 11, 4), 2, "李工", None),
        ("anniversary", "甲厂", dt.date(2026, 11, 5), 3, "", 28),
    ]
    assert care.reminders(CARDS, WEEK1 + DAY, 3, "zh-CN")[-1]["kind"] == "anniversary"  # 3–6 Nov
    assert [r["kind"] for r in care.reminders(CARDS, WEEK1 + 4 * DAY, 3, "zh-CN")] == []  # 6–9 Nov
    # 29 February is kept on the 28th in a common year; the window reaches into the next year.
    feb = care.reminders(CARDS, dt.date(2027, 2, 26), 3, "zh-CN")
    assert [(r["kind"], r["date"]) for r in feb] == [("birthday", dt.date(2027, 2, 28))]
    assert care.next_yearly(dt.date(1980, 2, 29), dt.date(2028, 1, 1)) == dt.date(2028, 2, 29)
    assert care.next_yearly(dt.date(1968, 11, 3), dt.date(2026, 12, 30)) == dt.date(2027, 11, 3)
    assert care.next_revisit(dt.date(2026, 9, 1), 31, dt.date(2026, 11, 3)) == dt.date(2026, 12, 3)


def test_cards_drive_reminders_no_decider_and_referrals(workspace: Workspace) -> None:
    ws = workspace
    save_mpc(ws, "R01", [deal("大庆石化机械厂", stage="项目评估"), deal("天津港务集团", stage="商务谈判"),
                         deal("青岛啤酒设备公司", stage="方案确认"),
                         deal("宁波港机集团", stage="签约成交", amount=600_000, status="已签约"),
                         deal("无锡重工", stage="商务谈判", category="检测设备")])
    fill_table(cards_path(ws, "R01"), CARD_CUSTOMERS_TABLE, [
        {"customer": "宁波港机集团", "founded": dt.date(2001, 11, 4), "signed": dt.date(2026, 10, 1), "revisit_days": 32},
        {"customer": "天津港务集团", "referred_by": "宁波港机集团"},
        {"customer": "大庆石化机械厂", "referred_by": "天津港务集团"},
    ])
    fill_table(cards_path(ws, "R01"), CARD_PEOPLE_TABLE, [
        {"customer": "天津港务集团", "name": "王主任", "role": "决定者", "birthday": dt.date(1970, 11, 3)},
        {"customer": "大庆石化机械厂", "name": "赵工", "role": "影响者"},
    ])
    fill_table(cards_path(ws, "R01"), CARD_APPOINTMENTS_TABLE, [
        {"customer": "天津港务集团", "date": WEEK1 + 3 * DAY, "person": "王主任", "purpose": "商务谈判"},
        {"customer": "天津港务集团", "date": WEEK1 + 4 * DAY, "person": "王主任", "purpose": "太远"},
    ])
    result = ingest(ws, WEEK1)
    assert not [i for f in result.files for i in f.errors]
    summary = build_summary(ws, WEEK1)
    codes = sorted((a["code"], a["customer"]) for a in summary.alerts if a["code"].startswith(("reminder", "no-dec")))
    # Revisit: 1 Oct + 32 days = 2 Nov (today); birthday 3 Nov; anniversary 4 Nov; appointment 5 Nov.
    # No decider: 大庆 is past the influence stage (5) with only an influencer; 天津 has its decider;
    # 青岛 is at the influence stage itself; 无锡重工 has no card at all.
    assert codes == [("no-decider", "大庆石化机械厂"), ("reminder-anniversary", "宁波港机集团"),
                     ("reminder-appointment", "天津港务集团"), ("reminder-birthday", "天津港务集团"),
                     ("reminder-revisit", "宁波港机集团")]
    refs = summary.sections["referrals"]
    assert [(e["referrer"], e["customer"], e["open"], e["open_amount"]) for e in refs["referrals"]] == [
        ("天津港务集团", "大庆石化机械厂", 1, 1_000_000), ("宁波港机集团", "天津港务集团", 1, 1_000_000)]
    assert [(n["customer"], n["depth"], n["won_amount"]) for n in refs["tree"]] == [
        ("宁波港机集团", 0, 600_000), ("天津港务集团", 1, 0), ("大庆石化机械厂", 2, 0)]
    cards = {c["customer"]: c for c in summary.sections["reminders"]["cards"]}
    assert (cards["天津港务集团"]["deciders"], cards["天津港务集团"]["next_appointment"]) == ("王主任", WEEK1 + 3 * DAY)
    # The digest and the rep's feedback both carry the reminders.
    digest = run_report(ws, WEEK1, digest=True).digest
    assert digest is not None
    html = digest.read_text(encoding="utf-8")
    assert "王主任" in html and "宁波港机集团" in html and "周年" in html and "回访" in html
    wb = openpyxl.load_workbook(ws.reports / "feedback" / "R01.xlsx")
    care_text = "\n".join(str(v) for row in wb["客户关怀"].iter_rows(values_only=True) for v in row if v)
    assert "王主任" in care_text and "宁波港机集团" in care_text
    assert {"客户关怀", "客户关系图", "困难报警"} <= set(wb.sheetnames)


def test_request_numbers_are_spelled_one_way() -> None:
    assert [help.request_id(x) for x in ("r01-3", " R01 - 03 ", "R01-3", "x")] == ["R01-3", "R01-3", "R01-3", "X"]


# --------------------------------------------------------------------------------------------
# LibreOffice: the new sheets render, and their totals recalculate to the records' figures
# --------------------------------------------------------------------------------------------
def test_new_sheets_recalculate_in_libreoffice(soffice: str, helped: Workspace, tmp_path: Path) -> None:
    as_of = WEEK1 + 7 * DAY
    result = run_report(helped, as_of)
    summary: Summary = result.summary
    computed = lo.export_csv_sheets(result.summary_path, tmp_path / "csv", recalc=True)
    assert {"困难报警", "经验池", "客户关怀", "客户关系图"} <= set(computed)
    wb = openpyxl.load_workbook(result.summary_path)
    tables = {"HelpOpen": ("困难报警", help.OPEN_COLS, summary.sections["help"]["open"]),
              "HelpHelpers": ("困难报警", help.HELPER_COLS, summary.sections["help"]["helpers"]),
              "HelpByStage": ("困难报警", help.STAGE_COLS, summary.sections["help"]["by_stage"])}
    checked = 0
    for name, (sheet, cols, records) in tables.items():
        table = wb[sheet].tables[name]
        last_row = openpyxl.utils.cell.coordinate_from_string(table.ref.split(":")[1])[1] - 1
        for i, col in enumerate(cols):
            if not col.total:
                continue
            got = computed[sheet][last_row][i].replace(",", "")
            want = sum(float(r.get(col.key) or 0) for r in records) if col.total == "sum" else len(records)
            assert float(got) == pytest.approx(want), (name, col.key)
            checked += 1
    assert checked == 8
    pool = computed["经验池"]
    assert any("算全生命周期成本,别再降价" in cell for row in pool for cell in row)


def test_in_english(workspace_en: Workspace) -> None:
    ws = workspace_en
    save_mpc(ws, "R01", [deal("Acme Tooling Co., Ltd.", stage="Project evaluation", category="CNC machine")])
    ask(ws, "R01", [{"no": 1, "customer": "Acme Tooling Co Ltd", "reason": "Price 12% above", "keyword": "price",
                     "effective": "R02"}])
    answer(ws, "R02", [{"request": "R01-1", "answer": "Show the five-year running cost"}])
    fill_table(cards_path(ws, "R01"), CARD_PEOPLE_TABLE, [{"customer": "Acme Tooling Co., Ltd.", "name": "Mr Smith",
                                                           "role": "influencer", "birthday": dt.date(1970, 11, 3)}])
    result = ingest(ws, WEEK1)
    assert not [i for f in result.files for i in f.errors]
    report = run_report(ws, WEEK1)
    h = report.summary.sections["help"]
    assert [(p["request"], p["helper"], p["stage"], p["days_to_resolve"]) for p in h["pool"]] == [
        ("R01-1", "R02", "Project evaluation", 0)]
    alerts = {a["code"]: a["message"] for a in report.summary.alerts}
    assert alerts["reminder-birthday"].startswith("Birthday: Mr Smith of 'Acme Tooling Co., Ltd.' (influencer)")
    assert alerts["no-decider"].startswith("'Acme Tooling Co., Ltd.' is at 'Project evaluation'")
    sheets = openpyxl.load_workbook(report.summary_path).sheetnames
    assert {"Help requests", "Experience pool", "Customer care", "Referrals"} <= set(sheets)
