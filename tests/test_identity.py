"""The folder is the identity: foreign workbooks, files outside the folders, and Save As copies."""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil

from conftest import WEEK1, deal, mpc_path, save_mpc

from sheetsales.method.playbook import Person, Playbook
from sheetsales.outputs.report import build_summary
from sheetsales.reading.fill import fill_table
from sheetsales.reading.identity import Member, attribute, duplicates
from sheetsales.reading.specs import DECISIONS_TABLE, LOG_TABLE, MPC_TABLE
from sheetsales.reading.templates import template_filename
from sheetsales.service.workspace import Workspace
from sheetsales.storage.ingest import ingest

WEEK2 = WEEK1 + dt.timedelta(days=7)
WEEK3 = WEEK2 + dt.timedelta(days=7)


def _deals(ws: Workspace, as_of: dt.date) -> list[tuple[str, str, float, str]]:
    return sorted((o["rep"], o["customer"], o["amount"], o["status"]) for o in build_summary(ws, as_of).opportunities)


def _issues(ws: Workspace, as_of: dt.date, code: str) -> list[tuple[str, str, dict]]:
    store = ws.store()
    try:
        return sorted((r["file"], r["rep"], r["params"]) for r in store.current_issues(as_of) if r["code"] == code)
    finally:
        store.close()


# --- attribution ------------------------------------------------------------------------------
TEAM = Playbook(team=(
    Person("D01", "周总", "全国", "销售部", "", 8),
    Person("S01", "王经理", "华东", "华东组", "D01", 5),
    Person("S02", "赵经理", "华南", "华南组", "D01", 5),
    Person("R01", "张伟", "华东", "华东组", "S01", 2),
    Person("R02", "李娜", "华东", "华东组", "S01", 2),
    Person("R04", "陈静", "华南", "华南组", "S02", 2),
))


def test_a_workbook_naming_someone_else_is_told_to_the_folder_owner_and_both_supervisors() -> None:
    def told(named: str) -> tuple[str, list[tuple[str, str]]]:
        rep, issues = attribute("R01/x.xlsx", "mpc", named, "R01", TEAM, in_inbox=True)
        return rep, [(i.code, i.rep) for i in issues]

    assert told("R01") == ("R01", [])
    assert told("") == ("R01", [])  # no hidden sheet: the folder says whose it is
    # R01's supervisor S01 sees R01's issues; R04's supervisor S02 is not above R01 and is told too.
    assert told("R04") == ("", [("foreign-workbook", "R01"), ("foreign-workbook", "S02")])
    assert told("R02") == ("", [("foreign-workbook", "R01")])  # S01 is above R01 already
    assert told("S01") == ("", [("foreign-workbook", "R01")])
    assert told("S02") == ("", [("foreign-workbook", "R01")])  # D01 is above R01
    assert told("R99") == ("", [("foreign-workbook", "R01")])
    # Directly in the inbox, a file belongs to nobody; outside any inbox (check), the hidden sheet says.
    rep, issues = attribute("x.xlsx", "mpc", "R01", "", TEAM, in_inbox=True)
    assert (rep, [(i.code, i.rep) for i in issues]) == ("", [("outside-folder", "R01")])
    assert attribute("x.xlsx", "mpc", "R01", "", TEAM, in_inbox=False) == ("R01", [])


def test_a_list_naming_another_rep_never_replaces_that_reps_list(workspace: Workspace) -> None:
    save_mpc(workspace, "R01", [deal("甲公司")])
    save_mpc(workspace, "R02", [deal("乙公司", amount=800_000), deal("丙公司", amount=600_000)])
    ingest(workspace, WEEK1)
    before = _deals(workspace, WEEK1)
    # R01 drops a workbook made from R02's list into their own folder: R02's deals lost, amounts 1.
    forged = workspace.inbox / "R01" / "R02 的表.xlsx"
    fill_table(mpc_path(workspace, "R02"), MPC_TABLE, [deal("乙公司", amount=1, status="已丢单"),
                                                       deal("丙公司", amount=1, status="已丢单")], out=forged)
    result = ingest(workspace, WEEK2)
    assert [(p.label, p.readable, [(i.code, i.rep) for i in p.issues]) for p in result.files
            if p.label == "R01/R02 的表.xlsx"] == [("R01/R02 的表.xlsx", False, [("foreign-workbook", "R01")])]
    assert _deals(workspace, WEEK2) == before
    assert _issues(workspace, WEEK2, "foreign-workbook") == [
        ("R01/R02 的表.xlsx", "R01", {"owner": "R02", "folder": "R01", "kind": "mpc"})]
    assert "deal-dropped" not in {a["code"] for a in build_summary(workspace, WEEK2).alerts}
    sha = hashlib.sha256(forged.read_bytes()).hexdigest()
    assert (workspace.archive / sha[:2] / f"{sha}.xlsx").is_file()  # archived, as evidence
    forged.unlink()  # removed: the issue closes
    ingest(workspace, WEEK3)
    assert _issues(workspace, WEEK3, "foreign-workbook") == []


def test_decisions_naming_a_supervisor_in_a_reps_folder_are_never_applied(workspace: Workspace) -> None:
    save_mpc(workspace, "R01", [deal("甲公司")])
    ingest(workspace, WEEK1)
    [opp] = build_summary(workspace, WEEK1).opportunities
    decisions = workspace.inbox / "S01" / template_filename("decisions", workspace.lang, "S01")
    forged = workspace.inbox / "R01" / "决策.xlsx"
    fill_table(decisions, DECISIONS_TABLE, [{"deal": opp["deal"], "decision": "关闭", "reason": "不跟了"}], out=forged)
    result = ingest(workspace, WEEK2)
    assert [(p.label, [(i.code, i.rep) for i in p.issues]) for p in result.files if p.label == "R01/决策.xlsx"] == [
        ("R01/决策.xlsx", [("foreign-workbook", "R01")])]
    assert result.settled == {"applied": 0, "invalid": 0, "confiscated": 0}
    assert [o["deal"] for o in build_summary(workspace, WEEK2).opportunities] == [opp["deal"]]
    assert workspace.store().counts()["decisions"] == 0


def test_a_workbook_directly_in_the_inbox_belongs_to_nobody(workspace: Workspace) -> None:
    src = save_mpc(workspace, "R01", [deal("甲公司")])
    ingest(workspace, WEEK1)
    fill_table(src, MPC_TABLE, [deal("甲公司", amount=1)], out=workspace.inbox / "list.xlsx")
    result = ingest(workspace, WEEK2)
    assert [(p.label, [(i.code, i.rep) for i in p.issues]) for p in result.files if p.label == "list.xlsx"] == [
        ("list.xlsx", [("outside-folder", "R01")])]
    assert _deals(workspace, WEEK2) == [("R01", "甲公司", 1_000_000, "open")]


# --- one workbook per kind --------------------------------------------------------------------
def test_which_copy_counts() -> None:
    lang = "zh-CN"
    canonical = Member("R03/MPC一览表_R03.xlsx", "mpc", "R03", first_seen=5)
    copy = Member("R03/MPC一览表_R03 - 副本.xlsx", "mpc", "R03", first_seen=2)
    assert duplicates([copy, canonical], lang) == {copy.label: (canonical.label, "mpc")}
    # at the canonical name even when it could not be read (no kind known)
    assert duplicates([copy, Member(canonical.label)], lang) == {copy.label: (canonical.label, "mpc")}
    # the English canonical name is behind the workspace language's
    english = Member("R03/MPC_list_R03.xlsx", "mpc", "R03", first_seen=1)
    assert duplicates([english, canonical], lang) == {english.label: (canonical.label, "mpc")}
    # none at a canonical name: the one recorded first; never recorded: by path
    a, b = Member("R03/a.xlsx", "mpc", "R03", first_seen=9), Member("R03/b.xlsx", "mpc", "R03", first_seen=3)
    assert duplicates([a, b], lang) == {a.label: (b.label, "mpc")}
    c, d = Member("R03/c.xlsx", "mpc", "R03"), Member("R03/d.xlsx", "mpc", "R03")
    assert duplicates([d, c], lang) == {d.label: (c.label, "mpc")}
    # a copy once recorded stays behind; a blank template handed out by this run stays behind the rest
    assert duplicates([canonical, Member(copy.label, "mpc", "R03", 2, was_copy=True)], lang) == {
        copy.label: (canonical.label, "mpc")}
    blank = Member(canonical.label, "mpc", "R03", handed_out=True)
    assert duplicates([blank, Member(copy.label, "mpc", "R03", 2, was_copy=True)], lang) == {
        blank.label: (copy.label, "mpc")}
    # weekly reports: one per week; foreign and unattributed files are no one's copies
    w1 = Member("R03/工作周报_R03_2026-W45.xlsx", "weekly", "R03", "2026-W45", 1)
    w2 = Member("R03/周报.xlsx", "weekly", "R03", "2026-W45", 2)
    w3 = Member("R03/上周.xlsx", "weekly", "R03", "2026-W44", 3)
    foreign = Member("R03/别人的.xlsx", "mpc", "", first_seen=4)
    assert duplicates([w1, w2, w3, foreign, canonical], lang) == {w2.label: (w1.label, "weekly")}


def test_a_save_as_copy_beside_the_list_is_ignored_until_it_is_removed(workspace: Workspace) -> None:
    real = save_mpc(workspace, "R03", [deal("甲公司"), deal("乙公司", amount=700_000)])
    ingest(workspace, WEEK1)
    copy = real.with_name("MPC一览表_R03 - 副本.xlsx")
    fill_table(real, MPC_TABLE, [deal("甲公司", amount=1_500_000), deal("丁公司")], out=copy)
    expected = [("R03", "乙公司", 700_000, "open"), ("R03", "甲公司", 1_000_000, "open")]
    result = ingest(workspace, WEEK2)
    assert [(p.label, p.readable, [(i.code, i.rep) for i in p.issues]) for p in result.files if "MPC" in p.label] == [
        ("R03/MPC一览表_R03 - 副本.xlsx", False, [("duplicate-workbook", "R03")])]
    assert _deals(workspace, WEEK2) == expected
    issue = [("R03/MPC一览表_R03 - 副本.xlsx", "R03",
              {"kind": "MPC一览表", "canonical": "MPC一览表_R03.xlsx", "copy": "MPC一览表_R03 - 副本.xlsx"})]
    assert _issues(workspace, WEEK2, "duplicate-workbook") == issue
    summary = build_summary(workspace, WEEK2)
    assert "deal-dropped" not in {a["code"] for a in summary.alerts} and summary.mpc_review == []
    # No flip-flopping: the copy edited again is still ignored, the real list edited counts.
    fill_table(copy, MPC_TABLE, [deal("戊公司")])
    ingest(workspace, WEEK2)
    assert _deals(workspace, WEEK2) == expected
    save_mpc(workspace, "R03", [deal("甲公司"), deal("乙公司", amount=750_000)])
    ingest(workspace, WEEK2)
    assert _deals(workspace, WEEK2)[0] == ("R03", "乙公司", 750_000, "open")
    assert _issues(workspace, WEEK2, "duplicate-workbook") == issue
    copy.unlink()
    ingest(workspace, WEEK3)
    assert _issues(workspace, WEEK3, "duplicate-workbook") == []
    assert len(_deals(workspace, WEEK3)) == 2


def test_two_weekly_reports_of_one_week_and_two_decisions_workbooks(workspace: Workspace) -> None:
    week = "2026-W45"
    real = workspace.inbox / "R01" / template_filename("weekly", workspace.lang, "R01", week)
    fill_table(real, LOG_TABLE, [{"date": WEEK1, "content": "拜访甲公司", "hours": 2}])
    fill_table(real, LOG_TABLE, [{"date": WEEK1, "content": "别的内容", "hours": 5}],
               out=real.with_name("周报 副本.xlsx"))
    decisions = workspace.inbox / "S01" / template_filename("decisions", workspace.lang, "S01")
    shutil.copyfile(decisions, decisions.with_name("决策 (2).xlsx"))
    result = ingest(workspace, WEEK1)
    copies = sorted((p.label, [i.code for i in p.issues]) for p in result.files if not p.readable)
    assert copies == [("R01/周报 副本.xlsx", ["duplicate-workbook"]), ("S01/决策 (2).xlsx", ["duplicate-workbook"])]
    assert workspace.store().counts()["activities"] == 1


def test_several_decisions_workbooks_are_each_read_but_a_copy_of_one_is_a_copy(workspace: Workspace) -> None:
    """The first decisions workbook and the dated ones handed out later (waiting.py) are each a
    supervisor's own, all read; a "Save As" copy of a dated one is still a copy, of that one."""
    from sheetsales.method.playbook import Playbook
    from sheetsales.reading.identity import handout_day

    first = workspace.inbox / "S01" / template_filename("decisions", workspace.lang, "S01")
    dated = [first.with_name(template_filename("decisions", workspace.lang, "S01", day))
             for day in ("2026-10-30", "2026-11-02")]
    assert [handout_day(p.name, "S01", "zh-CN") for p in dated] == ["2026-10-30", "2026-11-02"]
    assert handout_day("决策_S01_2026-13-01.xlsx", "S01", "zh-CN") == ""  # not a day
    assert handout_day("决策_S01_2026-W45.xlsx", "S01", "zh-CN") == ""
    assert handout_day("Decisions_S01_2026-11-02.xlsx", "S01", "en") == "2026-11-02"
    for path in dated:
        workspace.write_template(path, "decisions", Playbook(), "S01", handout_day(path.name, "S01", "zh-CN"))
    fill_table(first, DECISIONS_TABLE, [{"deal": "R01-00000000", "decision": "保留"}])
    fill_table(dated[0], DECISIONS_TABLE, [{"deal": "R01-11111111", "decision": "保留"}])
    fill_table(dated[1], DECISIONS_TABLE, [{"deal": "R01-22222222", "decision": "关闭"}])
    copy = shutil.copyfile(dated[1], dated[1].with_name("决策_S01_2026-11-02 - 副本.xlsx"))
    result = ingest(workspace, WEEK1)
    assert [(p.label, [i.code for i in p.issues]) for p in result.files if not p.readable] == [
        ("S01/决策_S01_2026-11-02 - 副本.xlsx", ["duplicate-workbook"])]
    assert [params["canonical"] for _, _, params in _issues(workspace, WEEK1, "duplicate-workbook")] == [
        dated[1].name]  # the copy is named beside the workbook it copies, not the first one
    store = workspace.store()
    try:
        assert sorted(r["deal"] for r in store.latest_decision_rows(WEEK1)) == [
            "R01-00000000", "R01-11111111", "R01-22222222"]  # every workbook's decisions, none of the copy's
    finally:
        store.close()
    copy.unlink()
    first.unlink()  # the supervisor removes their first workbook: no fresh one while dated ones remain
    assert first not in ingest(workspace, WEEK2).handed_out and not first.exists()


def test_a_renamed_list_keeps_counting_over_the_blank_template_handed_out_again(workspace: Workspace) -> None:
    real = save_mpc(workspace, "R01", [deal("甲公司"), deal("乙公司")])
    ingest(workspace, WEEK1)
    renamed = real.rename(real.with_name("我的MPC.xlsx"))
    result = ingest(workspace, WEEK2)
    assert real in result.handed_out  # a fresh blank template at the canonical name
    assert [(p.label, [i.code for i in p.issues]) for p in result.files if not p.readable] == [
        ("R01/MPC一览表_R01.xlsx", ["duplicate-workbook"])]
    assert [o[1] for o in _deals(workspace, WEEK2)] == ["乙公司", "甲公司"]
    assert "deal-dropped" not in {a["code"] for a in build_summary(workspace, WEEK2).alerts}
    fill_table(renamed, MPC_TABLE, [deal("甲公司"), deal("乙公司"), deal("丙公司")])  # the rep goes on there
    ingest(workspace, WEEK3)
    assert [o[1] for o in _deals(workspace, WEEK3)] == ["丙公司", "乙公司", "甲公司"]
