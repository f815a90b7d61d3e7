"""Stage rules, one scenario each, over several --as-of days with workbooks filled as reps would."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from conftest import WEEK1, deal, save_mpc

from sheetsales.method.rules import ALERTS, evidenced_stage
from sheetsales.outputs.report import build_summary
from sheetsales.reading.fill import fill_table
from sheetsales.reading.names import opportunity_key
from sheetsales.reading.specs import C931_TABLE, DECISIONS_TABLE, LOG_TABLE, QUALIFICATION_TABLE
from sheetsales.reading.templates import iso_week, template_filename
from sheetsales.service.workspace import Workspace
from sheetsales.storage.ingest import ingest
from sheetsales.storage.store import transfers


def day(n: int) -> dt.date:
    """Day ``n`` of the scenario; day 0 is Monday 2026-11-02."""
    return WEEK1 + dt.timedelta(days=n)


def alerts(ws: Workspace, as_of: dt.date, code: str) -> list[dict]:
    assert code in ALERTS
    return [a for a in build_summary(ws, as_of).alerts if a["code"] == code]


def opportunity(ws: Workspace, as_of: dt.date, customer: str) -> dict:
    return next(o for o in build_summary(ws, as_of).opportunities if o["customer"] == customer)


def decide(ws: Workspace, boss: str, rows: list[dict]) -> Path:
    """The supervisor types decisions into their decisions workbook."""
    path = ws.inbox / boss / template_filename("decisions", ws.lang, boss)
    if not path.exists():
        from sheetsales.method.playbook import Playbook

        ws.write_template(path, "decisions", Playbook(), boss)
    return fill_table(path, DECISIONS_TABLE, rows)


def key(rep: str, customer: str, category: str = "数控机床") -> str:
    return opportunity_key(rep, customer, category)


# --- milestone gates --------------------------------------------------------------------------
def test_evidenced_stage() -> None:
    assert evidenced_stage(3, {1, 2}) == 3
    assert evidenced_stage(3, {1}) == 2
    assert evidenced_stage(3, set()) == 1
    assert evidenced_stage(5, {1, 2, 4}) == 3  # a gap stops the evidence
    assert evidenced_stage(2, {1, 2, 3, 4}) == 2  # never beyond the claim


def test_the_seeds_worked_case_counts_at_project_initiation(workspace: Workspace) -> None:
    """A rep says 方案设计, but the milestones of 项目立项 and 初步接触 are not met."""
    save_mpc(workspace, "R01", [deal("大连重工", "方案设计", 1_000_000, milestones=0)])
    ingest(workspace, day(0))
    opp = opportunity(workspace, day(0), "大连重工")
    assert (opp["stage"], opp["claimed_stage"], opp["probability"], opp["weighted"]) == (
        "项目立项", "方案设计", 0.05, 50_000)
    summary = build_summary(workspace, day(0))
    funnel = {r["stage_order"]: r["count"] for r in summary.funnel if r["level"] == "company"}
    assert funnel[1] == 1 and funnel[3] == 0
    [alert] = alerts(workspace, day(0), "stage-without-milestones")
    assert alert["people"] == ["R01", "S01"]
    assert "分析项目,立项通过; 上门拜访,搞定线人" in alert["message"]
    # Ticking the milestones moves it where the rep claims.
    save_mpc(workspace, "R01", [deal("大连重工", "方案设计", 1_000_000)])
    ingest(workspace, day(1))
    assert opportunity(workspace, day(1), "大连重工")["stage"] == "方案设计"
    assert alerts(workspace, day(1), "stage-without-milestones") == []


def test_jumps_and_moves_back_are_recorded_events(workspace: Workspace) -> None:
    save_mpc(workspace, "R01", [deal("甲", "项目立项"), deal("乙", "方案确认")])
    ingest(workspace, day(0))
    save_mpc(workspace, "R01", [deal("甲", "业绩展示"), deal("乙", "方案设计")])
    ingest(workspace, day(7))
    assert [(a["customer"], a["people"]) for a in alerts(workspace, day(7), "stage-skipped")] == [
        ("甲", ["R01", "S01"])]
    assert [a["customer"] for a in alerts(workspace, day(7), "stage-regressed")] == ["乙"]
    assert "项目立项" in alerts(workspace, day(7), "stage-skipped")[0]["message"]
    # A week later they are history, not news.
    assert alerts(workspace, day(15), "stage-skipped") == []


# --- time limits, reminders, confiscation ---------------------------------------------------
def test_the_exact_days_of_the_reminder_and_the_confiscation(workspace: Workspace) -> None:
    """方案设计 has a 30-day limit; reminders start 7 days before; the clock starts on day 0."""
    save_mpc(workspace, "R01", [deal("甲", "方案设计")])
    ingest(workspace, day(0))
    assert alerts(workspace, day(22), "stage-deadline-near") == []
    [near] = alerts(workspace, day(23), "stage-deadline-near")
    assert near["people"] == ["R01"] and "还剩 7 天" in near["message"]
    ingest(workspace, day(30))
    assert opportunity(workspace, day(30), "甲")["rep"] == "R01"  # day 30: still within the limit
    ingest(workspace, day(31))
    opp = opportunity(workspace, day(31), "甲")
    assert (opp["rep"], opp["claimed_by"], opp["status"]) == ("S01", "R01", "confiscated")
    [taken] = alerts(workspace, day(31), "deal-confiscated")
    assert taken["people"] == ["R01", "S01"]
    assert [a["people"] for a in alerts(workspace, day(31), "decision-pending")] == [["S01"]]
    summary = build_summary(workspace, day(31))
    by_rep = {(r["group"], r["stage_order"]): r["count"] for r in summary.funnel if r["level"] == "rep"}
    assert by_rep[("S01", 3)] == 1 and by_rep[("R01", 3)] == 0  # left the rep's funnel, joined the boss's
    assert alerts(workspace, day(31), "stage-deadline-near") == []
    # The past is unchanged: as of day 30 the deal was still the rep's.
    assert opportunity(workspace, day(30), "甲")["rep"] == "R01"


def test_moving_a_claim_back_and_forth_does_not_restart_the_clock(workspace: Workspace) -> None:
    save_mpc(workspace, "R01", [deal("甲", "方案设计"), deal("小单", "方案设计", 20_000)])
    ingest(workspace, day(0))
    save_mpc(workspace, "R01", [deal("甲", "初步接触"), deal("小单", "方案设计", 20_000)])
    ingest(workspace, day(10))
    save_mpc(workspace, "R01", [deal("甲", "方案设计"), deal("小单", "方案设计", 20_000)])
    ingest(workspace, day(20))
    assert opportunity(workspace, day(20), "甲")["days_in_stage"] == 20
    ingest(workspace, day(31))
    assert opportunity(workspace, day(31), "甲")["rep"] == "S01"
    # A small deal is outside opportunity management: no clock, no confiscation.
    assert [o["rep"] for o in build_summary(workspace, day(31)).small_deals] == ["R01"]


def test_an_extension_postpones_the_confiscation(workspace: Workspace) -> None:
    save_mpc(workspace, "R01", [deal("甲", "方案设计")])
    ingest(workspace, day(0))
    decide(workspace, "S01", [{"deal": key("R01", "甲"), "decision": "延期", "days": 10, "reason": "客户换领导"}])
    ingest(workspace, day(25))
    assert alerts(workspace, day(25), "stage-deadline-near") == []  # would have been day 23 without it
    [near] = alerts(workspace, day(33), "stage-deadline-near")
    assert "时限 40 天" in near["message"]
    ingest(workspace, day(31))
    assert opportunity(workspace, day(31), "甲")["rep"] == "R01"
    ingest(workspace, day(40))
    assert opportunity(workspace, day(40), "甲")["rep"] == "R01"
    ingest(workspace, day(41))
    assert opportunity(workspace, day(41), "甲")["rep"] == "S01"


def test_a_return_and_a_reassignment(workspace: Workspace) -> None:
    save_mpc(workspace, "R01", [deal("甲", "方案设计"), deal("乙", "方案设计", 600_000)])
    ingest(workspace, day(0))
    ingest(workspace, day(31))
    assert {opportunity(workspace, day(31), c)["rep"] for c in ("甲", "乙")} == {"S01"}
    decide(workspace, "S01", [
        {"deal": key("R01", "甲"), "decision": "退回", "reason": "再给一次机会"},
        {"deal": key("R01", "乙"), "decision": "转派", "to": "R02", "reason": "R02 熟悉客户"},
    ])
    ingest(workspace, day(33))
    first, second = opportunity(workspace, day(33), "甲"), opportunity(workspace, day(33), "乙")
    assert (first["rep"], first["days_in_stage"]) == ("R01", 0)  # the clock restarts with the return
    assert (second["rep"], second["claimed_by"]) == ("R02", "R01")
    assert alerts(workspace, day(33), "decision-pending") == []
    store = workspace.store()
    reasons = sorted((r["deal"], r["reason"], r["to_person"]) for r in store.rows(transfers, day(33)))
    store.close()
    assert reasons == sorted([(key("R01", "甲"), "confiscated", "S01"), (key("R01", "乙"), "confiscated", "S01"),
                              (key("R01", "甲"), "returned", "R01"), (key("R01", "乙"), "reassigned", "R02")])
    # R02 takes it onto their own list: the same deal, counted once, with R02's figures.
    save_mpc(workspace, "R02", [deal("乙", "业绩展示", 650_000)])
    ingest(workspace, day(35))
    summary = build_summary(workspace, day(35))
    assert [(o["deal"], o["rep"], o["amount"]) for o in summary.opportunities if o["customer"] == "乙"] == [
        (key("R01", "乙"), "R02", 650_000)]
    assert [a for a in summary.alerts if a["code"] == "duplicate-claim"] == []
    # Re-reading the same decisions applies nothing twice.
    assert ingest(workspace, day(36)).settled == {"applied": 0, "invalid": 0, "confiscated": 0}


def test_invalid_decisions_are_reported(workspace: Workspace) -> None:
    save_mpc(workspace, "R01", [deal("甲", "方案设计")])
    save_mpc(workspace, "R02", [deal("乙", "方案设计")])
    ingest(workspace, day(0))
    decide(workspace, "S01", [{"deal": "R01-00000000", "decision": "保留"},
                              {"deal": key("R01", "甲"), "decision": "转派", "to": "R77"},
                              {"deal": key("R01", "甲"), "decision": "延期"}])
    decide(workspace, "R02", [{"deal": key("R01", "甲"), "decision": "转派", "to": "R02"}])  # a rep: no authority
    result = ingest(workspace, day(1))
    assert result.settled["invalid"] == 4
    found = sorted((a["people"][0], a["message"]) for a in alerts(workspace, day(1), "decision-invalid"))
    assert [(who, msg.split(":")[0]) for who, msg in found] == [
        ("R02", "R02/决策_R02.xlsx!决策!A4"), ("S01", "S01/决策_S01.xlsx!决策!A4"),
        ("S01", "S01/决策_S01.xlsx!决策!A5"), ("S01", "S01/决策_S01.xlsx!决策!A6")]
    assert {re.search(r"[(\uff08](.*)[)\uff09]", m).group(1) for _, m in found} == {
        "你无权决定这个商机", "没有这个商机编号", "“转派给”不是你团队中的人员", "延期需要填写天数"}
    assert opportunity(workspace, day(1), "甲")["rep"] == "R01"


def test_a_dropped_deal_stays_owned_until_a_manager_decides(workspace: Workspace) -> None:
    save_mpc(workspace, "R01", [deal("甲"), deal("乙")])
    ingest(workspace, day(0))
    save_mpc(workspace, "R01", [deal("甲")])
    ingest(workspace, day(7))
    assert [a["customer"] for a in alerts(workspace, day(7), "deal-dropped")] == ["乙"]
    assert opportunity(workspace, day(7), "乙")["status"] == "dropped"
    decide(workspace, "S01", [{"deal": key("R01", "乙"), "decision": "关闭", "reason": "客户取消项目"}])
    ingest(workspace, day(8))
    assert alerts(workspace, day(8), "deal-dropped") == []
    assert [o["customer"] for o in build_summary(workspace, day(8)).opportunities] == ["甲"]


# --- lock and duplicate claims ----------------------------------------------------------------
def test_the_first_claim_keeps_the_customer(workspace: Workspace) -> None:
    save_mpc(workspace, "R01", [deal("上海精工机械有限公司", "方案设计", 1_000_000)])
    ingest(workspace, day(0))
    save_mpc(workspace, "R02", [deal("上海 精工机械", "方案确认", 900_000),  # same customer, normalised
                                deal("上海精工机械", "方案确认", 100_000, category="检测设备")])  # other category
    ingest(workspace, day(3))
    summary = build_summary(workspace, day(3))
    [dup] = [a for a in summary.alerts if a["code"] == "duplicate-claim"]
    assert dup["people"] == ["R02", "R01", "S01"] and dup["deal"] == key("R01", "上海精工机械有限公司")
    assert "R02 李娜" in dup["message"] and "R01 张伟" in dup["message"]
    counted = sorted((o["rep"], o["category"], o["amount"]) for o in summary.opportunities)
    assert counted == [("R01", "数控机床", 1_000_000), ("R02", "检测设备", 100_000)]
    company = sum(r["count"] for r in summary.funnel if r["level"] == "company")
    assert company == 2  # not counted twice anywhere
    assert sum(r["weighted"] for r in summary.forecast if r["level"] == "company") == 200_000 + 50_000


def test_a_closed_claim_frees_the_customer(workspace: Workspace) -> None:
    save_mpc(workspace, "R01", [deal("甲公司", status="已丢单")])
    ingest(workspace, day(0))
    save_mpc(workspace, "R02", [deal("甲公司")])
    ingest(workspace, day(5))
    assert alerts(workspace, day(5), "duplicate-claim") == []
    assert opportunity(workspace, day(5), "甲公司")["rep"] == "R02"


# --- anomalies ----------------------------------------------------------------------------------
def test_a_sudden_win(workspace: Workspace) -> None:
    save_mpc(workspace, "R01", [deal("甲", "项目立项"), deal("乙", "项目立项")])
    ingest(workspace, day(0))
    save_mpc(workspace, "R01", [deal("甲", "项目立项"), deal("乙", "商务谈判")])
    ingest(workspace, day(21))
    save_mpc(workspace, "R01", [deal("甲", "签约成交"), deal("乙", "签约成交")])
    ingest(workspace, day(35))
    [sudden] = alerts(workspace, day(35), "sudden-win")
    assert sudden["customer"] == "甲" and "35 天" in sudden["message"]


def test_probability_and_amount_that_contradict_the_stage(workspace: Workspace) -> None:
    save_mpc(workspace, "R01", [deal("甲", "方案设计", win_rate=0.8), deal("乙", "方案设计", win_rate=0.3),
                                deal("丙", "商务谈判", 1_000_000), deal("丁", "商务谈判", 1_000_000)])
    ingest(workspace, day(0))
    assert [a["customer"] for a in alerts(workspace, day(0), "probability-contradicts-stage")] == ["甲"]
    save_mpc(workspace, "R01", [deal("甲", "方案设计", win_rate=0.8), deal("乙", "方案设计", win_rate=0.3),
                                deal("丙", "商务谈判", 2_000_000), deal("丁", "商务谈判", 1_100_000)])
    ingest(workspace, day(7))
    [amount] = alerts(workspace, day(7), "amount-contradicts-stage")
    assert amount["customer"] == "丙" and "1,000,000" in amount["message"] and "2,000,000" in amount["message"]


def test_saves_that_leave_the_date_alone_do_not_break_the_slip(workspace: Workspace) -> None:
    dates = [dt.date(2026, 12, 1), dt.date(2026, 12, 20), dt.date(2026, 12, 20), dt.date(2027, 1, 15),
             dt.date(2027, 2, 28)]
    for n, sign in enumerate(dates):
        save_mpc(workspace, "R01", [deal("甲", sign=sign, amount=1_000_000 + n)])  # every save changes something
        ingest(workspace, day(n))
    assert [a["customer"] for a in alerts(workspace, day(4), "date-slipping")] == ["甲"]


def test_a_signing_date_that_keeps_slipping(workspace: Workspace) -> None:
    dates = [dt.date(2026, 12, 1), dt.date(2026, 12, 20), dt.date(2027, 1, 15), dt.date(2027, 2, 28)]
    for week, sign in enumerate(dates):
        save_mpc(workspace, "R01", [deal("甲", sign=sign), deal("乙", sign=dates[0] if week % 2 else dates[1])])
        ingest(workspace, day(7 * week))
        found = alerts(workspace, day(7 * week), "date-slipping")
        assert [a["customer"] for a in found] == (["甲"] if week == 3 else [])


def test_a_deal_without_any_logged_activity(workspace: Workspace) -> None:
    save_mpc(workspace, "R01", [deal("江苏恒远精密机械有限公司"), deal("苏州瑞丰")])
    ingest(workspace, day(0))
    weekly = workspace.inbox / "R01" / template_filename("weekly", "zh-CN", "R01", iso_week(day(21)))
    ingest(workspace, day(21))  # hands out that week's report
    fill_table(weekly, LOG_TABLE, [{"date": day(22), "content": "技术交流", "unit": "江苏恒远精密机械", "hours": 3}])
    ingest(workspace, day(23))
    assert [a["customer"] for a in alerts(workspace, day(23), "no-activity")] == ["苏州瑞丰"]
    assert alerts(workspace, day(20), "no-activity") == []  # not idle long enough yet


def test_small_deals_stay_out_of_the_funnel(workspace: Workspace) -> None:
    save_mpc(workspace, "R01", [deal("甲", amount=30_000), deal("乙", amount=300_000)])
    ingest(workspace, day(0))
    summary = build_summary(workspace, day(0))
    assert [o["customer"] for o in summary.opportunities] == ["乙"]
    assert [o["customer"] for o in summary.small_deals] == ["甲"]
    assert sum(r["count"] for r in summary.funnel if r["level"] == "company") == 1
    assert not [i for i in summary.issues if i["severity"] == "error"]


# --- qualification and C931 ---------------------------------------------------------------------
def test_deals_past_the_search_state_need_the_nine_answers(workspace: Workspace) -> None:
    path = save_mpc(workspace, "R01", [deal("甲", "初步接触"), deal("乙", "方案设计"), deal("丙", "业绩展示")])
    answers = {f"q{n}": f"答案{n}" for n in range(1, 10)}
    fill_table(path, QUALIFICATION_TABLE, [
        {"customer": "乙", "category": "数控机床", **answers},
        {"customer": "丙", "category": "数控机床", **{k: v for k, v in answers.items() if k != "q7"}},
    ])
    ingest(workspace, day(0))
    [unqualified] = alerts(workspace, day(0), "unqualified")
    assert unqualified["customer"] == "丙" and "只回答了 8 个" in unqualified["message"]


@pytest.mark.parametrize("ticks, flagged", [(8, False), (7, True)])
def test_c931_below_8c_1f_with_a_60_percent_claim(workspace: Workspace, ticks: int, flagged: bool) -> None:
    path = save_mpc(workspace, "R01", [deal("甲", "项目评估"), deal("乙", "方案设计", win_rate=0.7),
                                       deal("丙", "方案设计")])
    c931 = {f"c{n}": "✓" for n in range(1, ticks + 1)} | {"f1": "✓"}
    fill_table(path, C931_TABLE, [{"customer": "甲", "category": "数控机床", **c931}])
    ingest(workspace, day(0))
    found = sorted(a["customer"] for a in alerts(workspace, day(0), "c931-optimistic"))
    assert found == (["乙", "甲"] if flagged else ["乙"])  # 丙 claims only 20 %
    assert opportunity(workspace, day(0), "甲")["c931"] == f"{ticks}C+1F+0W"


def test_a_passed_signing_date(workspace: Workspace) -> None:
    save_mpc(workspace, "R01", [deal("甲", sign=day(10))])
    ingest(workspace, day(0))
    assert alerts(workspace, day(10), "sign-date-passed") == []
    assert [a["customer"] for a in alerts(workspace, day(11), "sign-date-passed")] == ["甲"]


def test_alerts_reach_each_persons_feedback_and_the_json(workspace: Workspace, capsys) -> None:
    from sheetsales.outputs.report import run_report
    from sheetsales.service.cli import main

    save_mpc(workspace, "R01", [deal("甲", "方案设计", milestones=0)])
    ingest(workspace, day(0))
    result = run_report(workspace, day(0))
    import openpyxl

    alerts = openpyxl.load_workbook(result.summary_path)["预警"]
    header = next(r for r in alerts.iter_rows(values_only=True) if "人员" in r)
    told = [r[header.index("人员")] for r in alerts.iter_rows(values_only=True)]
    assert "R01" in told and "S01" in told  # one row per person told
    boss = openpyxl.load_workbook(workspace.reports / "feedback" / "S01.xlsx")
    assert "MyAlerts" in boss["预警"].tables
    assert main(["report", str(workspace.root), "--as-of", day(0).isoformat(), "--json", "--no-write"]) == 0
    import json

    data = json.loads(capsys.readouterr().out)
    codes = {a["code"] for a in data["alerts"]}
    assert "stage-without-milestones" in codes
    assert set(data["alerts"][0]) >= {"code", "severity", "deal", "people", "message"}


# --- the stage clock: managed deals, evidenced stages ------------------------------------------
def test_a_small_deal_that_grows_starts_its_clock_when_it_becomes_managed(workspace: Workspace) -> None:
    """A deal below small_deal_threshold has no clock; it starts the day the amount reaches it."""
    save_mpc(workspace, "R01", [deal("甲", "方案设计", 30_000)])
    ingest(workspace, day(0))
    ingest(workspace, day(20))
    save_mpc(workspace, "R01", [deal("甲", "方案设计", 300_000)])  # 40 days at 方案设计 (30-day limit)
    ingest(workspace, day(40))
    opp = opportunity(workspace, day(40), "甲")
    assert (opp["rep"], opp["status"], opp["days_in_stage"]) == ("R01", "open", 0)  # not confiscated at once
    assert alerts(workspace, day(62), "stage-deadline-near") == []
    [near] = alerts(workspace, day(63), "stage-deadline-near")  # reminders follow from the crossing
    assert "还剩 7 天" in near["message"]
    ingest(workspace, day(70))
    assert opportunity(workspace, day(70), "甲")["rep"] == "R01"
    ingest(workspace, day(71))
    assert opportunity(workspace, day(71), "甲")["rep"] == "S01"


def test_a_deal_that_falls_below_and_rises_again_restarts_at_the_latest_crossing(workspace: Workspace) -> None:
    for n, amount in ((0, 30_000), (10, 300_000), (20, 30_000), (30, 300_000)):
        save_mpc(workspace, "R01", [deal("甲", "方案设计", amount)])
        ingest(workspace, day(n))
    assert opportunity(workspace, day(35), "甲")["days_in_stage"] == 5
    ingest(workspace, day(45))  # 45 days after the first crossing, 15 after the latest
    assert opportunity(workspace, day(45), "甲")["rep"] == "R01"


def test_the_clock_limit_and_confiscation_follow_the_evidenced_stage(workspace: Workspace) -> None:
    """Claimed at 方案确认 (45 days) with no milestone: it counts at 项目立项 (30 days), and so does its clock."""
    save_mpc(workspace, "R01", [deal("甲", "方案确认", milestones=0)])
    ingest(workspace, day(0))
    [near] = alerts(workspace, day(23), "stage-deadline-near")
    assert "“项目立项”" in near["message"] and "时限 30 天" in near["message"]
    ingest(workspace, day(31))
    opp = opportunity(workspace, day(31), "甲")
    assert (opp["rep"], opp["stage"], opp["claimed_stage"]) == ("S01", "项目立项", "方案确认")
    [taken] = alerts(workspace, day(31), "deal-confiscated")
    assert "“项目立项”" in taken["message"] and "时限 30 天" in taken["message"]
    store = workspace.store()
    [move] = store.rows(transfers, day(31))
    store.close()
    assert (move["reason"], move["stage"]) == ("confiscated", 1)


def test_ticking_milestones_is_reaching_a_new_stage(workspace: Workspace) -> None:
    """The clock starts at the first observation of a new furthest evidenced stage."""
    save_mpc(workspace, "R01", [deal("甲", "方案确认", milestones=0)])
    ingest(workspace, day(0))
    save_mpc(workspace, "R01", [deal("甲", "方案确认", milestones=1)])  # evidenced: 初步接触
    ingest(workspace, day(20))
    save_mpc(workspace, "R01", [deal("甲", "方案确认", milestones=0)])  # unticked again: not a new stage
    ingest(workspace, day(25))
    assert opportunity(workspace, day(25), "甲")["days_in_stage"] == 5
    ingest(workspace, day(50))
    assert opportunity(workspace, day(50), "甲")["rep"] == "R01"  # 30 days since day 20 (no restart at 25)
    ingest(workspace, day(51))
    assert opportunity(workspace, day(51), "甲")["rep"] == "S01"


def test_an_extension_is_on_the_evidenced_stage(workspace: Workspace) -> None:
    save_mpc(workspace, "R01", [deal("甲", "方案确认", milestones=0)])
    ingest(workspace, day(0))
    decide(workspace, "S01", [{"deal": key("R01", "甲"), "decision": "延期", "days": 10}])
    ingest(workspace, day(5))
    [near] = alerts(workspace, day(33), "stage-deadline-near")
    assert "时限 40 天" in near["message"] and "“项目立项”" in near["message"]
    ingest(workspace, day(40))
    assert opportunity(workspace, day(40), "甲")["rep"] == "R01"
    ingest(workspace, day(41))
    assert opportunity(workspace, day(41), "甲")["rep"] == "S01"


# --- the lock passes on -------------------------------------------------------------------------
def test_when_the_first_claim_ends_the_earliest_later_claim_holds_the_lock(workspace: Workspace) -> None:
    save_mpc(workspace, "R01", [deal("甲公司", "方案设计", 1_000_000)])
    ingest(workspace, day(0))
    save_mpc(workspace, "R02", [deal("甲公司", "方案确认", 900_000)])
    ingest(workspace, day(3))
    save_mpc(workspace, "R03", [deal("甲公司", "方案设计", 800_000)])
    ingest(workspace, day(5))
    assert sorted(a["rep"] for a in alerts(workspace, day(5), "duplicate-claim")) == ["R02", "R03"]
    save_mpc(workspace, "R01", [deal("甲公司", "方案设计", 1_000_000, status="已丢单")])
    ingest(workspace, day(10))
    summary = build_summary(workspace, day(10))
    [opp] = [o for o in summary.opportunities if o["customer"] == "甲公司"]
    assert (opp["rep"], opp["claimed_by"], opp["amount"], opp["deal"]) == ("R02", "R02", 900_000, key("R02", "甲公司"))
    assert opp["days_in_stage"] == 0  # the new holder's clock starts the day the lock passed
    by_rep = {(r["group"], r["stage_order"]): r["count"] for r in summary.funnel if r["level"] == "rep"}
    assert by_rep[("R02", 5)] == 1
    forecast = sum(r["weighted"] for r in summary.forecast if r["level"] == "rep" and r["group"] == "R02")
    assert forecast == 450_000
    # R03 now waits behind R02; R02 is not told any more
    [dup] = [a for a in summary.alerts if a["code"] == "duplicate-claim"]
    assert (dup["rep"], dup["deal"]) == ("R03", key("R02", "甲公司"))
    assert "R02 李娜" in dup["message"] and str(day(10)) in dup["message"]
    [passed] = [r for r in summary.mpc_review if r["change"] == "lock_passed"]
    assert (passed["rep"], passed["before"], passed["after"], passed["change_label"]) == (
        "R02", "R01 张伟", "R02 李娜", "锁定转移")
    # the past is unchanged, and the news is a week's news
    assert [o["rep"] for o in build_summary(workspace, day(9)).opportunities if o["customer"] == "甲公司"] == ["R01"]
    assert not [r for r in build_summary(workspace, day(18)).mpc_review if r["change"] == "lock_passed"]
    ingest(workspace, day(40))  # R02's 45 days at 方案确认 count from day 10
    assert opportunity(workspace, day(40), "甲公司")["rep"] == "R02"


def test_a_closed_first_claim_passes_the_lock_and_a_deleted_row_does_not_take_it(workspace: Workspace) -> None:
    save_mpc(workspace, "R01", [deal("乙", "方案设计")])
    ingest(workspace, day(0))
    save_mpc(workspace, "R02", [deal("乙", "方案设计")])
    ingest(workspace, day(2))
    save_mpc(workspace, "R03", [deal("乙", "方案设计", 700_000)])
    ingest(workspace, day(4))
    save_mpc(workspace, "R02", [deal("丙", "方案设计")])  # R02 removes the duplicate row as told
    ingest(workspace, day(6))
    decide(workspace, "S01", [{"deal": key("R01", "乙"), "decision": "关闭", "reason": "客户取消"}])
    ingest(workspace, day(12))
    summary = build_summary(workspace, day(12))
    assert [(o["rep"], o["amount"]) for o in summary.opportunities if o["customer"] == "乙"] == [("R03", 700_000)]
    assert [a for a in summary.alerts if a["code"] in ("duplicate-claim", "deal-dropped")] == []
    [passed] = [r for r in summary.mpc_review if r["change"] == "lock_passed"]
    assert (passed["before"], passed["after"]) == ("R01 张伟", "R03 刘洋")


# --- customer names -------------------------------------------------------------------------------
def test_legal_form_variants_are_one_customer_and_near_names_are_flagged(workspace: Workspace) -> None:
    save_mpc(workspace, "R01", [deal("Acme Tooling Co., Ltd."), deal("上海精工机械有限公司"), deal("华为", amount=500_000)])
    ingest(workspace, day(0))
    save_mpc(workspace, "R02", [deal("Acme Tooling Co Ltd"), deal("华润", amount=400_000)])
    save_mpc(workspace, "R03", [deal("Acme Toolng Company", amount=600_000), deal("上海精功机械", amount=300_000),
                                deal("上海精工机械", amount=200_000, category="检测设备")])
    ingest(workspace, day(1))
    summary = build_summary(workspace, day(1))
    [dup] = [a for a in summary.alerts if a["code"] == "duplicate-claim"]
    assert (dup["rep"], dup["deal"]) == ("R02", key("R01", "Acme Tooling Co., Ltd."))
    near = sorted((a["customer"], a["people"], a["severity"]) for a in summary.alerts
                  if a["code"] == "possible-duplicate")
    assert near == [("Acme Toolng Company", ["S01"], "warning"), ("上海精功机械", ["S01"], "warning")]
    message = next(a["message"] for a in summary.alerts if a["code"] == "possible-duplicate")
    assert "R03 刘洋" in message and "R01 张伟" in message
    # a warning, not a lock: both are counted; 华为 and 华润 are two customers
    counted = sorted((o["rep"], o["customer"]) for o in summary.opportunities)
    assert counted == sorted([("R01", "Acme Tooling Co., Ltd."), ("R01", "上海精工机械有限公司"), ("R01", "华为"),
                              ("R02", "华润"), ("R03", "Acme Toolng Company"), ("R03", "上海精功机械"),
                              ("R03", "上海精工机械")])
    from sheetsales.method.playbook import Playbook
    from sheetsales.method.rules import context, run_rules

    store = workspace.store()
    try:
        en = [a.message("en") for a in run_rules(context(store, Playbook(), day(1)), "en")
              if a.code == "possible-duplicate"]
    finally:
        store.close()
    assert len(en) == 2 and all(m.startswith("Possible duplicate") and "1 character" in m for m in en)
