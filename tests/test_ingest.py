"""Ingest end to end: reps' saves in a real workspace become rows in a real SQLite store."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import openpyxl
from conftest import WEEK1, deal, mpc_path, save_mpc
from sqlalchemy import event

from sheetsales.issues import flat
from sheetsales.outputs.report import build_summary
from sheetsales.reading.fill import fill_form, fill_table
from sheetsales.reading.names import opportunity_key
from sheetsales.reading.specs import (
    DECISIONS_TABLE,
    HEADER_ROW,
    LOG_TABLE,
    META_SHEET,
    TEAM_TABLE,
    WEEKLY_FORM,
)
from sheetsales.reading.templates import template_filename
from sheetsales.service.workspace import Workspace
from sheetsales.storage.ingest import ingest, load_playbook
from sheetsales.storage.store import transfers

WEEK2 = WEEK1 + dt.timedelta(days=7)
WEEK3 = WEEK1 + dt.timedelta(days=14)


_summary = build_summary


def _issues(result) -> list[tuple[str, str, str]]:
    return [(p.label, i.cell, i.code) for p in result.files for i in p.issues]


def test_same_content_twice_changes_nothing(workspace: Workspace) -> None:
    save_mpc(workspace, "R01", [deal("甲公司"), deal("乙公司", "方案确认", 500_000)])
    first = ingest(workspace, WEEK1)
    # 3 reps × (MPC list + weekly report + customer cards) + 2 decisions + 5 people × help requests
    assert first.new == 16 and first.rejected == 0
    counts = workspace.store().counts()
    again = ingest(workspace, WEEK1)
    assert again.new == 0 and again.unchanged == first.seen
    assert workspace.store().counts()["opportunities"] == counts["opportunities"]
    assert workspace.store().counts()["file_versions"] == counts["file_versions"]


def test_every_version_is_archived_before_it_is_read(workspace: Workspace) -> None:
    path = save_mpc(workspace, "R01", [deal("甲公司")])
    ingest(workspace, WEEK1)
    v1 = path.read_bytes()
    save_mpc(workspace, "R01", [deal("甲公司", "业绩展示")])
    ingest(workspace, WEEK2)
    archived = sorted(p.read_bytes() for p in workspace.archive.rglob("*.xlsx"))
    assert v1 in archived and path.read_bytes() in archived
    import hashlib

    for p in workspace.archive.rglob("*.xlsx"):
        assert p.stem == hashlib.sha256(p.read_bytes()).hexdigest()


def test_resorting_rows_keeps_each_deal_identity(workspace: Workspace) -> None:
    rows = [deal("甲公司"), deal("乙公司", "方案确认", 500_000), deal("丙公司", "项目立项", 80_000)]
    save_mpc(workspace, "R01", rows)
    ingest(workspace, WEEK1)
    before = {o["customer"]: o["deal"] for o in _summary(workspace, WEEK1).opportunities}
    save_mpc(workspace, "R01", list(reversed(rows)))
    ingest(workspace, WEEK2)
    summary = _summary(workspace, WEEK2)
    assert {o["customer"]: o["deal"] for o in summary.opportunities} == before
    assert summary.mpc_review == []
    assert workspace.store().counts()["stage_events"] == 3


def test_a_deal_that_disappears_is_an_event_not_a_deletion(workspace: Workspace) -> None:
    save_mpc(workspace, "R01", [deal("甲公司"), deal("乙公司", "方案确认", 500_000)])
    ingest(workspace, WEEK1)
    save_mpc(workspace, "R01", [deal("甲公司")])
    ingest(workspace, WEEK2)
    summary = _summary(workspace, WEEK2)
    gone = [r for r in summary.mpc_review if r["change"] == "gone"]
    assert [(r["customer"], r["rep"]) for r in gone] == [("乙公司", "R01")]
    dropped = [o for o in summary.opportunities if o["status"] == "dropped"]
    assert [o["customer"] for o in dropped] == ["乙公司"]
    assert sum(f["count"] for f in summary.funnel if f["level"] == "company") == 2
    assert [(r["code"], r["people"]) for r in summary.alerts
            if r["customer"] == "乙公司" and r["code"] in ("deal-dropped", "decision-pending")] == [
        ("deal-dropped", ["R01", "S01"]), ("decision-pending", ["S01"])]


def test_won_and_lost_deals_leave_the_open_list(workspace: Workspace) -> None:
    save_mpc(workspace, "R01", [deal("甲公司"), deal("乙公司"), deal("丙公司")])
    ingest(workspace, WEEK1)
    save_mpc(workspace, "R01", [deal("甲公司", status="已签约"), deal("乙公司", status="已丢单"), deal("丙公司")])
    ingest(workspace, WEEK2)
    summary = _summary(workspace, WEEK2)
    assert [o["customer"] for o in summary.opportunities] == ["丙公司"]
    assert sorted((r["customer"], r["change"]) for r in summary.mpc_review) == [("乙公司", "lost"), ("甲公司", "won")]


def test_one_bad_file_never_stops_the_others(workspace: Workspace) -> None:
    (workspace.inbox / "R02" / "broken.xlsx").write_bytes(b"PK\x03\x04 this is not really a zip")
    (workspace.inbox / "R02" / "export.xlsx").write_text("a,b\n1,2\n", encoding="utf-8")
    (workspace.inbox / "R02" / "~$MPC一览表_R02.xlsx").write_bytes(b"lock")
    (workspace.inbox / "R02" / ".~lock.MPC一览表_R02.xlsx#").write_bytes(b"lock")
    save_mpc(workspace, "R01", [deal("甲公司")])
    result = ingest(workspace, WEEK1)
    issues = _issues(result)
    assert ("R02/broken.xlsx", "", "corrupt-workbook") in issues
    assert ("R02/export.xlsx", "", "not-a-workbook") in issues
    assert not any("lock" in label or "~$" in label for label, _, _ in issues)
    assert [o["customer"] for o in _summary(workspace, WEEK1).opportunities] == ["甲公司"]
    shown = {(r["file"], r["code"]) for r in _summary(workspace, WEEK1).issues}
    assert ("R02/broken.xlsx", "corrupt-workbook") in shown


def test_a_renamed_column_keeps_the_previous_list_in_force(workspace: Workspace) -> None:
    save_mpc(workspace, "R01", [deal("甲公司"), deal("乙公司", "方案确认", 500_000)])
    ingest(workspace, WEEK1)
    path = mpc_path(workspace, "R01")
    wb = openpyxl.load_workbook(path)
    wb["MPC一览表"].cell(HEADER_ROW, 5).value = "金额"  # was 预计合同金额
    wb.save(path)
    result = ingest(workspace, WEEK2)
    assert [(c, code) for label, c, code in _issues(result) if label.endswith("MPC一览表_R01.xlsx")] == [
        ("E3", "unknown-column"), ("3:3", "missing-column")]
    summary = _summary(workspace, WEEK2)
    assert sorted(o["customer"] for o in summary.opportunities) == ["乙公司", "甲公司"]
    assert summary.mpc_review == []
    messages = [r["message"] for r in summary.issues if r["code"] == "missing-column"]
    assert messages == ["缺少列“预计合同金额”(应在第 3 行的表头中)。请不要删除或重命名模板的列标题。"]


def test_a_deleted_sheet(workspace: Workspace) -> None:
    path = save_mpc(workspace, "R01", [deal("甲公司")])
    wb = openpyxl.load_workbook(path)
    wb["MPC一览表"].title = "Sheet1"
    wb.save(path)
    result = ingest(workspace, WEEK1)
    assert [(c, code) for label, c, code in _issues(result) if "R01" in label and "MPC" in label] == [
        ("", "missing-sheet")]


def test_a_renamed_weekly_report_in_its_owners_folder_is_attributed_by_its_hidden_record(
        workspace: Workspace) -> None:
    week = "2026-W45"
    src = workspace.inbox / "R01" / template_filename("weekly", workspace.lang, "R01", week)
    fill_table(src, LOG_TABLE, [{"date": WEEK1, "content": "拜访甲公司", "hours": 2}])
    shutil.move(src, workspace.inbox / "R01" / "本周 周报.xlsx")
    result = ingest(workspace, WEEK1 + dt.timedelta(days=7))  # the next week: no new report for W45
    parsed = next(p for p in result.files if p.label == "R01/本周 周报.xlsx")
    assert (parsed.kind, parsed.rep, parsed.week, parsed.readable, parsed.issues) == ("weekly", "R01", week, True, [])
    assert workspace.store().counts()["activities"] == 1


def test_a_workbook_without_its_hidden_record(workspace: Workspace) -> None:
    path = save_mpc(workspace, "R03", [deal("甲公司")])
    wb = openpyxl.load_workbook(path)
    del wb[META_SHEET]
    wb.save(path)
    result = ingest(workspace, WEEK1)
    assert (path.relative_to(workspace.inbox).as_posix(), "", "missing-meta") in _issues(result)
    assert [o["rep"] for o in _summary(workspace, WEEK1).opportunities] == ["R03"]
    # Outside any person's folder, nobody can be credited.
    shutil.move(path, workspace.inbox / "loose.xlsx")
    result = ingest(workspace, WEEK2)
    assert ("loose.xlsx", "", "outside-folder") in _issues(result)


def test_weekly_report_log_rows_and_evidence_of_edits(workspace: Workspace) -> None:
    week = "2026-W45"
    path = workspace.inbox / "R01" / template_filename("weekly", workspace.lang, "R01", week)
    assert path.exists()  # handed out by init for the week of WEEK1
    fill_form(path, WEEKLY_FORM, {"key_events": "拿下甲公司技术交流", "market_news": "竞品降价 5%"})
    rows = [
        {"date": WEEK1, "time": "09:00-11:00", "content": "拜访甲公司设备处", "unit": "甲公司", "hours": 2, "cost": 120},
        {"date": WEEK1 + dt.timedelta(days=1), "content": "方案编写", "hours": 6},
        {"date": WEEK1 + dt.timedelta(days=9), "content": "下周的事", "hours": 1},
    ]
    fill_table(path, LOG_TABLE, rows)
    result = ingest(workspace, WEEK1 + dt.timedelta(days=4))
    weekly = next(p for p in result.files if p.label.endswith(f"{week}.xlsx") and p.rep == "R01")
    assert flat(weekly.issues) == [("A6", "date-outside-week")]
    assert weekly.notes == {"key_events": "拿下甲公司技术交流", "market_news": "竞品降价 5%"}
    assert workspace.store().counts()["activities"] == 3
    rows[0]["hours"] = 8  # the rep inflates an entry already recorded
    fill_table(path, LOG_TABLE, rows)
    result = ingest(workspace, WEEK1 + dt.timedelta(days=5))
    weekly = next(p for p in result.files if p.label.endswith(f"{week}.xlsx") and p.rep == "R01")
    assert flat(weekly.issues) == [("A6", "date-outside-week"), ("A4", "log-rewritten")]
    counts = workspace.store().counts()
    assert counts["activities"] == 6  # both versions as read
    assert (counts["log_entries"], counts["log_rewrites"]) == (3, 1)  # the original in force, the edit as evidence


def test_the_stage_clock_starts_when_the_system_first_sees_the_stage(workspace: Workspace) -> None:
    save_mpc(workspace, "R01", [deal("甲公司", "方案设计")])
    ingest(workspace, WEEK1)
    save_mpc(workspace, "R01", [deal("甲公司", "方案设计", amount=1_200_000)])
    ingest(workspace, WEEK2)
    assert _summary(workspace, WEEK2 + dt.timedelta(days=3)).opportunities[0]["days_in_stage"] == 10
    save_mpc(workspace, "R01", [deal("甲公司", "业绩展示", amount=1_200_000)])
    ingest(workspace, WEEK3)
    opp = _summary(workspace, WEEK3 + dt.timedelta(days=2)).opportunities[0]
    assert (opp["stage_order"], opp["days_in_stage"], opp["stage_since"]) == (4, 2, WEEK3)


def test_any_past_week_can_be_replayed(workspace: Workspace) -> None:
    save_mpc(workspace, "R01", [deal("甲公司", "方案设计", 1_000_000)])
    ingest(workspace, WEEK1)
    save_mpc(workspace, "R01", [deal("甲公司", "方案确认", 1_000_000), deal("乙公司", "项目立项", 300_000)])
    ingest(workspace, WEEK2)
    week1 = _summary(workspace, WEEK1)
    assert [(o["customer"], o["weighted"]) for o in week1.opportunities] == [("甲公司", 200_000)]
    week2 = _summary(workspace, WEEK2)
    assert [(o["customer"], o["weighted"]) for o in week2.opportunities] == [("甲公司", 500_000), ("乙公司", 15_000)]
    assert sorted(r["change"] for r in week2.mpc_review) == ["advanced", "new"]


def test_the_store_is_append_only(workspace: Workspace) -> None:
    store = workspace.store()
    statements: list[str] = []
    # Listen on every engine the ingest creates, through the class-level event.
    from sqlalchemy.engine import Engine

    def capture(conn, cursor, statement, *args):  # noqa: ANN001
        statements.append(statement.strip().split()[0].upper())

    event.listen(Engine, "before_cursor_execute", capture)
    try:
        save_mpc(workspace, "R01", [deal("甲公司"), deal("乙公司")])
        ingest(workspace, WEEK1)
        save_mpc(workspace, "R01", [deal("甲公司", "业绩展示")])
        ingest(workspace, WEEK2)
    finally:
        event.remove(Engine, "before_cursor_execute", capture)
    assert "INSERT" in statements
    assert not {"UPDATE", "DELETE", "DROP", "REPLACE"} & set(statements)
    store.close()


def test_a_bad_playbook_is_reported_and_the_last_good_one_stays(workspace: Workspace) -> None:
    save_mpc(workspace, "R01", [deal("甲公司", "方案设计", 1_000_000)])
    ingest(workspace, WEEK1)
    wb = openpyxl.load_workbook(workspace.playbook_path)
    stages = wb["销售阶段"]
    stages["D6"] = 0.25  # stage 3 probability, a valid edit …
    stages["D7"] = "很高"  # … and a bad one in stage 4
    wb["团队"]["E8"] = "S99"  # an unknown supervisor
    wb.save(workspace.playbook_path)
    result = ingest(workspace, WEEK2)
    assert [(i.sheet, i.cell, i.code) for i in result.playbook_issues] == [
        ("销售阶段", "D7", "wrong-type"), ("团队", "E8", "unknown-supervisor"), ("", "", "playbook-rejected")]
    assert _summary(workspace, WEEK2).opportunities[0]["weighted"] == 200_000  # still 20 %
    assert {r["code"] for r in _summary(workspace, WEEK2).issues} >= {"wrong-type", "playbook-rejected"}
    stages["D7"] = 0.3
    wb["团队"]["E8"] = "S01"
    wb.save(workspace.playbook_path)
    result = ingest(workspace, WEEK3)
    assert result.playbook_issues == []
    assert _summary(workspace, WEEK3).opportunities[0]["weighted"] == 250_000
    assert _summary(workspace, WEEK2).opportunities[0]["weighted"] == 200_000  # the past is unchanged


def test_a_new_team_member_gets_a_folder_and_templates(workspace: Workspace) -> None:
    wb = openpyxl.load_workbook(workspace.playbook_path)
    team = wb[TEAM_TABLE.zh]
    team.append(["R04", "陈静", "华东", "华东组", "S01", 2])
    wb.save(workspace.playbook_path)
    result = ingest(workspace, WEEK2)
    names = sorted(p.name for p in result.handed_out)
    assert names == sorted([
        template_filename("mpc", "zh-CN", "R04"), template_filename("help", "zh-CN", "R04"),
        template_filename("cards", "zh-CN", "R04"),
        *(template_filename("weekly", "zh-CN", r, "2026-W46") for r in ("R01", "R02", "R03", "R04")),
    ])
    # Nothing a person typed is ever overwritten: a second handout writes nothing.
    assert _reingest_handout(workspace) == []


def _reingest_handout(ws: Workspace) -> list[Path]:
    store = ws.store()
    playbook, _ = load_playbook(ws, store, WEEK2)
    store.close()
    return ws.handout(playbook, WEEK2)


def test_a_template_from_another_workspace(workspace: Workspace, tmp_path: Path) -> None:
    from sheetsales.service.workspace import init_workspace

    other = init_workspace(tmp_path / "other", as_of=WEEK1, sample=True)
    src = save_mpc(other, "R01", [deal("甲公司")])
    target = mpc_path(workspace, "R01")
    shutil.copyfile(src, target)
    result = ingest(workspace, WEEK1)
    label = target.relative_to(workspace.inbox).as_posix()
    assert (label, "", "foreign-workspace") in _issues(result)
    assert [o["customer"] for o in _summary(workspace, WEEK1).opportunities] == ["甲公司"]


def test_an_unrelated_workbook(workspace: Workspace) -> None:
    import xlsxwriter

    path = workspace.inbox / "R01" / "holiday plan.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    wb.add_worksheet("Plan").write("A1", "beach")
    wb.close()
    assert ("R01/holiday plan.xlsx", "", "unknown-workbook") in _issues(ingest(workspace, WEEK1))


def test_a_blank_weekly_template_needs_its_week(workspace: Workspace) -> None:
    from sheetsales.method.playbook import Playbook
    from sheetsales.reading.templates import build_template

    path = build_template(workspace.inbox / "R02" / "weekly.xlsx", "weekly", Playbook(), "zh-CN")
    fill_table(path, LOG_TABLE, [{"date": WEEK1 - dt.timedelta(days=7), "content": "拜访", "hours": 2}])
    assert ("R02/weekly.xlsx", "", "missing-week") in _issues(ingest(workspace, WEEK1))
    fill_form(path, WEEKLY_FORM, {"week": "2026-w44"})  # last week's: the folder holds no other report of it
    result = ingest(workspace, WEEK2)
    parsed = next(p for p in result.files if p.label == "R02/weekly.xlsx")
    assert (parsed.rep, parsed.week, parsed.readable, parsed.issues) == ("R02", "2026-W44", True, [])


def test_a_removed_file_closes_its_issues_but_not_its_deals(workspace: Workspace) -> None:
    bad = workspace.inbox / "R02" / "broken.xlsx"
    bad.write_bytes(b"not a workbook")
    save_mpc(workspace, "R01", [deal("甲公司")])
    ingest(workspace, WEEK1)
    assert "R02/broken.xlsx" in {r["file"] for r in _summary(workspace, WEEK1).issues}
    bad.unlink()
    mpc_path(workspace, "R01").unlink()  # the rep deletes their whole list
    result = ingest(workspace, WEEK2)
    assert "R02/broken.xlsx" in result.removed
    assert "R02/broken.xlsx" not in {r["file"] for r in _summary(workspace, WEEK2).issues}
    assert "R02/broken.xlsx" in {r["file"] for r in _summary(workspace, WEEK1).issues}  # the past is kept
    assert [o["customer"] for o in _summary(workspace, WEEK2).opportunities] == ["甲公司"]


def test_a_vanished_inbox_is_not_a_mass_deletion(workspace: Workspace) -> None:
    save_mpc(workspace, "R01", [deal("甲公司")])
    ingest(workspace, WEEK1)
    hidden = workspace.root / "inbox-offline"
    workspace.inbox.rename(hidden)  # the share dropped
    result = ingest(workspace, WEEK2)
    assert result.unavailable and result.removed == [] and result.seen == 0 and result.handed_out == []
    assert not workspace.inbox.exists()
    hidden.rename(workspace.inbox)
    back = ingest(workspace, WEEK2)
    assert back.removed == []
    assert sorted(p.label for p in back.files) == [f"{r}/工作周报_{r}_2026-W46.xlsx" for r in ("R01", "R02", "R03")]


def test_a_row_kept_out_for_errors_keeps_its_deal_at_its_last_good_values(workspace: Workspace) -> None:
    save_mpc(workspace, "R01", [deal("甲公司", amount=800_000), deal("乙公司")])
    ingest(workspace, WEEK1)
    save_mpc(workspace, "R01", [deal("甲公司", amount="八十万"), deal("乙公司", "业绩展示")])
    ingest(workspace, WEEK2)
    summary = _summary(workspace, WEEK2)
    assert sorted((o["customer"], o["amount"], o["status"]) for o in summary.opportunities) == [
        ("乙公司", 1_000_000, "open"), ("甲公司", 800_000, "open")]
    assert [(r["customer"], r["change"]) for r in summary.mpc_review] == [("乙公司", "advanced")]
    assert "deal-dropped" not in {r["code"] for r in summary.alerts}
    assert [(r["cell"], r["code"]) for r in summary.issues] == [("E4", "wrong-type")]


# --- incremental ingest: cost in proportion to what changed ---------------------------------------
def _age(ws: Workspace, seconds: float = 60) -> None:
    """Every inbox file last written ``seconds`` ago (out of the window where a time is not trusted)."""
    import os
    import time

    when = time.time_ns() - int(seconds * 1e9)
    for p in ws.inbox.rglob("*.xlsx"):
        os.utime(p, ns=(when, when))


def _count_hashes(monkeypatch) -> list[str]:
    import sheetsales.storage.ingest as ingest_module

    hashed: list[str] = []
    real = ingest_module.file_sha256

    def counting(path: Path) -> str:
        hashed.append(path.name)
        return real(path)

    monkeypatch.setattr(ingest_module, "file_sha256", counting)
    return hashed


def test_unchanged_files_are_skipped_by_size_and_time_without_hashing(workspace: Workspace, monkeypatch) -> None:
    save_mpc(workspace, "R01", [deal("甲公司")])
    _age(workspace)
    first = ingest(workspace, WEEK1)
    hashed = _count_hashes(monkeypatch)
    again = ingest(workspace, WEEK1)
    assert again.new == 0 and again.unchanged == first.seen
    assert hashed == []  # not one file read or hashed
    # A new time with the same content is hashed, recognised as unchanged, and remembered.
    path = mpc_path(workspace, "R01")
    _age(workspace, 30)
    touched = ingest(workspace, WEEK1)
    assert touched.new == 0 and len(hashed) == first.seen
    hashed.clear()
    assert ingest(workspace, WEEK1).new == 0 and hashed == []
    # A new content is read, whatever its time.
    save_mpc(workspace, "R01", [deal("甲公司", "业绩展示")])
    _age(workspace, 10)
    changed = ingest(workspace, WEEK1)
    assert changed.new == 1 and [f.label for f in changed.files] == [path.relative_to(workspace.inbox).as_posix()]


def test_a_write_that_keeps_size_and_a_recent_time_is_still_seen(workspace: Workspace) -> None:
    import os

    path = save_mpc(workspace, "R01", [deal("甲公司", amount=1_000_000)])
    ingest(workspace, WEEK1)
    st = os.stat(path)
    data = path.read_bytes()
    # Another content of exactly the same size, written within the same clock tick (same time).
    save_mpc(workspace, "R01", [deal("乙公司", amount=1_000_000)])
    other = path.read_bytes()
    other = other[:len(data)] if len(other) >= len(data) else other + b"\0" * (len(data) - len(other))
    path.write_bytes(other)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert os.stat(path).st_size == st.st_size
    result = ingest(workspace, WEEK1)
    assert result.new == 1  # the remembered time was too recent to be trusted: hashed, and new


def test_a_replay_of_an_earlier_day_is_not_skipped_by_a_later_stat(workspace: Workspace) -> None:
    save_mpc(workspace, "R01", [deal("甲公司")])
    _age(workspace)
    ingest(workspace, WEEK2)
    # Nothing was recorded by WEEK1: a replay of that day reads the same files as new.
    replay = ingest(workspace, WEEK1)
    assert replay.new == replay.seen and replay.unchanged == 0


def test_one_stage_query_per_mpc_list_not_per_row(workspace: Workspace) -> None:
    from sqlalchemy.engine import Engine

    save_mpc(workspace, "R01", [deal(f"客户{i}公司") for i in range(12)])
    statements: list[str] = []

    def capture(conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001
        if "FROM stage_events" in statement:
            statements.append(statement)

    event.listen(Engine, "before_cursor_execute", capture)
    try:
        first = ingest(workspace, WEEK1)
    finally:
        event.remove(Engine, "before_cursor_execute", capture)
    mpc_lists = sum(1 for f in first.files if f.kind == "mpc" and f.readable)
    assert mpc_lists == 3
    assert 0 < len(statements) <= mpc_lists + 2  # the settlement reads the history once or twice, not per row


def test_only_the_given_paths_are_looked_at_but_removals_are_global(workspace: Workspace) -> None:
    r01 = save_mpc(workspace, "R01", [deal("甲公司")])
    weekly = workspace.inbox / "R03" / "其他.xlsx"  # a file the hand-out does not write again
    openpyxl.Workbook().save(weekly)
    ingest(workspace, WEEK1)
    save_mpc(workspace, "R01", [deal("甲公司", "业绩展示")])
    r02 = save_mpc(workspace, "R02", [deal("乙公司", "业绩展示")])
    weekly.unlink()
    result = ingest(workspace, WEEK1, only=[r01])
    assert [f.label for f in result.files] == [r01.relative_to(workspace.inbox).as_posix()]
    assert result.removed == [weekly.relative_to(workspace.inbox).as_posix()]
    # R02's save is not lost: the next run without ``only`` reads it.
    later = ingest(workspace, WEEK1)
    assert [f.label for f in later.files] == [r02.relative_to(workspace.inbox).as_posix()]


def test_templates_handed_out_by_a_run_limited_to_some_paths_are_recorded_by_it(workspace: Workspace) -> None:
    r01 = save_mpc(workspace, "R01", [deal("甲公司")])
    ingest(workspace, WEEK1)
    save_mpc(workspace, "R01", [deal("甲公司", "业绩展示")])
    result = ingest(workspace, WEEK2, only=[r01])
    assert result.handed_out
    assert sorted(f.label for f in result.files) == sorted(
        [r01.relative_to(workspace.inbox).as_posix()]
        + [p.relative_to(workspace.inbox).as_posix() for p in result.handed_out if p.parent != workspace.inbox])


def _count_deal_states(monkeypatch) -> list[dt.date]:
    import sheetsales.method.rules as rules_module

    calls: list[dt.date] = []
    real = rules_module.deal_states

    def counting(store, playbook, as_of):  # noqa: ANN001, ANN202
        calls.append(as_of)
        return real(store, playbook, as_of)

    monkeypatch.setattr(rules_module, "deal_states", counting)
    return calls


def _decide(ws: Workspace, boss: str, rows: list[dict]) -> None:
    path = ws.inbox / boss / template_filename("decisions", ws.lang, boss)
    fill_table(path, DECISIONS_TABLE, rows)


def test_the_settlement_builds_the_deal_states_once_unless_an_owner_changes(workspace: Workspace,
                                                                            monkeypatch) -> None:
    save_mpc(workspace, "R01", [deal("甲公司", "方案设计")])
    calls = _count_deal_states(monkeypatch)
    assert ingest(workspace, WEEK1).settled == {"applied": 0, "invalid": 0, "confiscated": 0}
    assert calls == [WEEK1]
    # An extension granted on the day the deal would be confiscated: counted without a rebuild.
    deal_key = opportunity_key("R01", "甲公司", "数控机床")
    _decide(workspace, "S01", [{"deal": deal_key, "decision": "延期", "days": 10, "reason": "客户换领导"}])
    calls.clear()
    day31 = WEEK1 + dt.timedelta(days=31)
    assert ingest(workspace, day31).settled == {"applied": 1, "invalid": 0, "confiscated": 0}
    assert calls == [day31]
    # A return changes an owner: the states are rebuilt before the confiscations are decided.
    day41 = WEEK1 + dt.timedelta(days=41)
    calls.clear()
    assert ingest(workspace, day41).settled == {"applied": 0, "invalid": 0, "confiscated": 1}
    _decide(workspace, "S01", [{"deal": deal_key, "decision": "延期", "days": 10, "reason": "客户换领导"},
                               {"deal": deal_key, "decision": "退回", "reason": "再给一次机会"}])
    calls.clear()
    day42 = WEEK1 + dt.timedelta(days=42)
    assert ingest(workspace, day42).settled == {"applied": 1, "invalid": 0, "confiscated": 0}
    assert calls == [day42, day42]


def test_an_ingest_that_records_nothing_does_not_settle_the_same_day_again(workspace: Workspace,
                                                                           monkeypatch) -> None:
    save_mpc(workspace, "R01", [deal("甲公司", "方案设计")])
    calls = _count_deal_states(monkeypatch)
    ingest(workspace, WEEK1)
    assert calls == [WEEK1]
    assert ingest(workspace, WEEK1).settled == {"applied": 0, "invalid": 0, "confiscated": 0}
    assert calls == [WEEK1]  # nothing recorded since the settlement of this day: not made again
    # Another day settles again (days pass: deals fall overdue) ...
    day31 = WEEK1 + dt.timedelta(days=31)
    assert ingest(workspace, day31).settled == {"applied": 0, "invalid": 0, "confiscated": 1}
    assert calls == [WEEK1, day31]
    # ... and so does the same day once something new is recorded.
    deal_key = opportunity_key("R01", "甲公司", "数控机床")
    _decide(workspace, "S01", [{"deal": deal_key, "decision": "退回", "reason": "再给一次机会"}])
    assert ingest(workspace, day31).settled == {"applied": 1, "invalid": 0, "confiscated": 0}
    assert calls[:3] == [WEEK1, day31, day31]
    store = workspace.store()
    try:
        assert [(t["reason"], t["to_person"]) for t in store.rows(transfers, day31)] == [
            ("confiscated", "S01"), ("returned", "R01")]
    finally:
        store.close()
