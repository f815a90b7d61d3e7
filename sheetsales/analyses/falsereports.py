"""False-report analysis (虚假日报分析, seed 003): by stage and by person.

Two kinds of evidence, both from what the store recorded as of ``as_of``:

* **rewritten**: an accepted log row a later save altered or deleted (``log-rewritten``; the
  original stays in force, the other version is kept: :mod:`sheetsales.method.logchain`). Its stage is the
  stage of the row's deal on the day of the work.
* **advance without activity**: a deal's list moved it to a later stage while the person logged no
  work on that deal since it entered the stage before (from the day the earlier stage was first
  seen to the day the advance was seen, both included). A claimed step the log does not
  back is the other face of a false report.

Tables (``report --json`` key ``false_reports``): ``findings`` (one row per piece of evidence),
``by_stage`` and ``by_person`` (counts; the share of advances without activity).
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import TYPE_CHECKING, Any

from ..i18n import t
from ..method.logchain import DROPPED, summary_text
from ..storage.store import log_rewrites
from . import activity
from .sections import PersonTable

if TYPE_CHECKING:
    from .analyse import Summary
    from .sections import Book, Inputs

KEY = "false_reports"
FEEDBACK = (PersonTable("findings", "rep"), PersonTable("by_person", "rep", scope=True))


def _advances(history: list[dict]) -> list[tuple[Any, dict, dict]]:
    """(the day the earlier stage was first seen, the row before, the row that advanced) for every stage
    advance in a deal's history (rows oldest first)."""
    out, since = [], None
    for i, row in enumerate(history):
        if i == 0 or row["stage"] != history[i - 1]["stage"]:
            if i and row["stage"] > history[i - 1]["stage"]:
                out.append((since, history[i - 1], row))
            since = row["observed_on"]
    return out


def analyse(inputs: Inputs) -> dict[str, list[dict]]:
    lang, playbook = inputs.lang, inputs.playbook
    entries = activity.entries(inputs)
    by_id = {e["id"]: e for e in entries}
    worked: dict[str, list] = defaultdict(list)
    for e in entries:
        if e["deal_id"]:
            worked[e["deal_id"]].append(e["date"])

    def person(pid: str) -> dict:
        p = inputs.people.get(pid, {})
        return {"rep": pid, "rep_name": p.get("rep_name", pid), "team": p.get("team", "")}

    names = {a.code: a.name(lang) for a in playbook.activity_types}
    findings = []
    for rw in inputs.store.rows(log_rewrites, inputs.as_of):
        e = by_id.get(rw["entry_id"])
        if e is None:  # the row was worked after as_of
            continue
        other = json.loads(rw["rewritten"]) if rw["rewritten"] else None
        findings.append({"kind": "rewritten", **person(rw["rep"]), "deal": e["deal_id"], "customer": e["customer"],
                         "stage_order": e["stage"], "date": e["date"], "seen": rw["observed_on"],
                         "original": summary_text(e, 80, names),
                         "other": summary_text(other, 80, names) if other else DROPPED})
    advances = defaultdict(int)
    for state in inputs.ctx.deals.values():
        for start, before, row in _advances(state.history):
            if row["observed_on"] > inputs.as_of:
                continue
            pid = row["rep"]
            advances[(pid, row["stage"])] += 1
            if any(start <= day <= row["observed_on"] for day in worked.get(state.key, [])):
                continue
            findings.append({"kind": "advance", **person(pid), "deal": state.key, "customer": state.customer,
                             "stage_order": row["stage"], "date": row["observed_on"], "seen": row["observed_on"],
                             "original": f"{playbook.stage(before['stage']).name(lang)} → "
                                         f"{playbook.stage(row['stage']).name(lang)}",
                             "other": t("false.no_activity_since", lang, date=start.isoformat())})
    for f in findings:
        f["stage"] = playbook.stage(f["stage_order"]).name(lang) if f["stage_order"] else ""
        f["kind_label"] = t(f"false.{f['kind']}", lang)
    findings.sort(key=lambda f: (f["rep"], f["date"], f["kind"], f["deal"]))

    by_stage = []
    for stage in playbook.stages:
        rows = [f for f in findings if f["stage_order"] == stage.order]
        moved = sum(n for (_, s), n in advances.items() if s == stage.order)
        bare = sum(1 for f in rows if f["kind"] == "advance")
        by_stage.append({"stage_order": stage.order, "stage": stage.name(lang),
                         "rewritten": sum(1 for f in rows if f["kind"] == "rewritten"), "advances": moved,
                         "advances_without_activity": bare, "share": round(bare / moved, 4) if moved else None})
    log_rows = defaultdict(int)
    for e in entries:
        log_rows[e["rep"]] += 1
    by_person = []
    for p in playbook.reps:
        if p.id not in inputs.people:
            continue
        rows = [f for f in findings if f["rep"] == p.id]
        moved = sum(n for (pid, _), n in advances.items() if pid == p.id)
        bare = sum(1 for f in rows if f["kind"] == "advance")
        by_person.append({**person(p.id), "log_rows": log_rows[p.id],
                          "rewritten": sum(1 for f in rows if f["kind"] == "rewritten"), "advances": moved,
                          "advances_without_activity": bare, "share": round(bare / moved, 4) if moved else None})
    by_person.sort(key=lambda r: (-(r["rewritten"] + r["advances_without_activity"]), r["rep"]))
    return {"findings": findings, "by_stage": by_stage, "by_person": by_person}


# --------------------------------------------------------------------------------------------
# Sheets
# --------------------------------------------------------------------------------------------
def _cols() -> dict[str, tuple]:
    from ..outputs.write import Col

    return {
        "by_stage": (Col("stage_order", "col.stage_order", "int", 6), Col("stage", "col.stage", width=12),
                     Col("rewritten", "col.rewritten", "int", 10, "sum"), Col("advances", "col.advances", "int", 10, "sum"),
                     Col("advances_without_activity", "col.advances_bare", "int", 12, "sum"),
                     Col("share", "col.share_bare", "percent", 10)),
        "by_person": (Col("rep", "col.rep", width=8), Col("rep_name", "col.rep_name", width=10),
                      Col("team", "col.team", width=12), Col("log_rows", "col.entries", "int", 9, "sum"),
                      Col("rewritten", "col.rewritten", "int", 10, "sum"), Col("advances", "col.advances", "int", 10, "sum"),
                      Col("advances_without_activity", "col.advances_bare", "int", 12, "sum"),
                      Col("share", "col.share_bare", "percent", 10)),
        "findings": (Col("kind_label", "col.kind", width=14), Col("rep_name", "col.rep_name", width=10),
                     Col("date", "col.date", "date", 11), Col("stage", "col.stage", width=12),
                     Col("deal", "col.deal", width=14), Col("customer", "col.customer", width=24),
                     Col("original", "col.recorded", width=44), Col("other", "col.evidence", width=44)),
    }


def _chart(book: Book, sheet: str, first: int, last: int) -> Any:
    chart = book.wb.add_chart({"type": "column"})
    for col, colour in ((2, "#C00000"), (4, "#ED7D31")):
        chart.add_series({"name": [sheet, first - 1, col], "categories": [sheet, first, 1, last, 1],
                          "values": [sheet, first, col, last, col], "fill": {"color": colour}, "gap": 80})
    chart.set_title({"name": t("chart.false_reports", book.lang), "name_font": {"size": 11}})
    chart.set_y_axis({"min": 0, "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}}})
    chart.set_legend({"position": "bottom"})
    chart.set_size({"width": 620, "height": 300})
    return chart


def summary_sheets(book: Book, tables: dict[str, list[dict]], summary: Summary) -> None:
    lang, cols = book.lang, _cols()
    w = book.sheet(t("sheet.false_reports", lang))
    w.title(t("title.false_reports", lang), book.subtitle)
    w.heading(t("title.false_by_stage", lang))
    anchor = w.row
    first, last = w.table("FalseByStage", cols["by_stage"], tables.get("by_stage", []))
    if tables.get("by_stage"):
        w.ws.insert_chart(anchor, len(cols["by_stage"]) + 1, _chart(book, w.ws.name, first, last))
    w.row = max(w.row, anchor + 17)
    w.heading(t("title.false_by_person", lang))
    w.table("FalseByPerson", cols["by_person"], tables.get("by_person", []))
    w.heading(t("title.false_findings", lang))
    w.table("FalseFindings", cols["findings"], tables.get("findings", []))
    w.finish()  # widths, frozen header, landscape one page wide


def feedback_sheets(book: Book, tables: dict[str, list[dict]], person: dict) -> None:
    if not tables.get("findings") and not tables.get("by_person"):
        return
    lang, cols = book.lang, _cols()
    w = book.sheet(t("sheet.false_reports", lang))
    w.title(t("title.false_reports", lang), book.subtitle)
    w.heading(t("title.false_by_person", lang))
    w.table("MyFalseByPerson", cols["by_person"], tables.get("by_person", []))
    w.heading(t("title.false_findings", lang))
    w.table("MyFalseFindings", cols["findings"], tables.get("findings", []))
    w.finish()  # widths, frozen header, landscape one page wide
