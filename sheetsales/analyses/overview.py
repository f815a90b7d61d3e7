"""The overview: what a manager reads first, and what each person is told first.

A section (see :mod:`sheetsales.analyses.sections`) whose analysis adds what the core figures do not hold:
every open deal's risk (its stage limit with extensions, days left, a signing date passed,
confiscated or dropped, a claim above what its milestones evidence), each person's last save, the
targets of the current month, quarter and year, and the rows kept out of each MPC list with the
deal they name. Its tables appear in ``report --json`` under ``overview``.

The figures drawn from them (the headline, one row per person, the deals most at risk and why) are
computed when the workbooks are written, from the whole summary, so that the sections analysed
after this one (won business and attainment: ``summary.sections["attainment"]``) are picked up when
they exist. :func:`draw_summary` draws the summary's first sheet; :func:`draw_feedback` a person's.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..i18n import SEVERITY_RANK, alert_name, t
from ..method import rules
from ..reading.specs import MPC_TABLE
from ..storage.store import file_versions, held_rows
from .sections import PersonTable

if TYPE_CHECKING:
    from .analyse import Summary
    from .sections import Inputs

KEY = "overview"
# Each rep is told which of their rows are kept out; each supervisor which deals wait for them.
FEEDBACK = (PersonTable("kept_out", "rep"), PersonTable("waiting", "supervisor"))
AT_RISK = 10  # deals in the overview's list of the deals most at risk
TODO_LINES = 8  # lines of a person's "what to do this week"
PERIODS = ("month", "quarter", "year")


# --------------------------------------------------------------------------------------------
# Analysis (as of the report's date, from the store)
# --------------------------------------------------------------------------------------------
def analyse(inputs: Inputs) -> dict[str, list[dict]]:
    return {"risk": _risk(inputs), "saves": _saves(inputs), "targets": _targets(inputs),
            "kept_out": _kept_out(inputs), "waiting": _waiting(inputs),
            "thresholds": [{"reminder_lead_days": inputs.playbook.reminder_lead_days}]}


def _risk(inputs: Inputs) -> list[dict]:
    """Every open deal of the opportunities list: what puts it at risk."""
    lead = inputs.playbook.reminder_lead_days
    out = []
    for opp in inputs.summary.opportunities:
        state = inputs.ctx.deals.get(opp["deal"])
        limit = rules.limit_of(state, inputs.playbook) if state is not None else None
        days_left = limit - opp["days_in_stage"] if limit else None
        sign = opp.get("sign_date")
        out.append({
            "deal": opp["deal"], "limit_days": limit, "days_left": days_left,
            "limit_near": days_left is not None and days_left <= lead,
            "sign_date_passed": bool(sign and sign < inputs.as_of),
            "confiscated": opp["status"] == "confiscated", "dropped": opp["status"] == "dropped",
            "claim_above": max(0, int(opp.get("claimed_stage_order") or 0) - int(opp["stage_order"])),
        })
    return out


def _saves(inputs: Inputs) -> list[dict]:
    """Each person's last recorded save (any workbook of theirs) and the days since."""
    last: dict[str, dt.date] = {}
    for v in inputs.store.rows(file_versions, inputs.as_of):
        if v["rep"]:
            last[v["rep"]] = max(last.get(v["rep"], v["observed_on"]), v["observed_on"])
    return [{"rep": pid, "last_save": last.get(pid), "days_since_save": (inputs.as_of - last[pid]).days
             if pid in last else None} for pid in inputs.people]


def _period_months(as_of: dt.date, period: str) -> list[str]:
    if period == "month":
        months = [as_of.month]
    elif period == "quarter":
        first = (as_of.month - 1) // 3 * 3 + 1
        months = [first, first + 1, first + 2]
    else:
        months = list(range(1, 13))
    return [f"{as_of.year}-{m:02d}" for m in months]


def _targets(inputs: Inputs) -> list[dict]:
    """The company's and every person's target for the month, quarter and year of the report's date."""
    from .analyse import _targets as rolled_up  # the forecast's roll-up: explicit targets win

    monthly = rolled_up(inputs.playbook, inputs.people)
    out = []
    for (level, group, month), amount in sorted(monthly.items()):
        if level not in ("company", "rep"):
            continue
        for period in PERIODS:
            if month in _period_months(inputs.as_of, period):
                out.append({"level": level, "group": group, "period": period, "month": month, "target": amount})
    totals: dict[tuple[str, str, str], float] = defaultdict(float)
    for r in out:
        totals[(r["level"], r["group"], r["period"])] += r["target"]
    return [{"level": lvl, "group": g, "period": p, "target": round(v, 2)} for (lvl, g, p), v in sorted(totals.items())]


def _waiting(inputs: Inputs) -> list[dict]:
    """The deals waiting for a supervisor's decision (confiscated to them, dropped from a list below them)."""
    opps = {o["deal"]: o for o in inputs.summary.opportunities}
    out = []
    for a in inputs.summary.alerts:
        if a["code"] != "decision-pending" or not a["people"]:
            continue
        o = opps.get(a["deal"], {})
        out.append({"supervisor": a["people"][0], "deal": a["deal"], "customer": a["customer"] or o.get("customer", ""),
                    "category": o.get("category", ""), "amount": o.get("amount"), "stage": o.get("stage", ""),
                    "days_in_stage": o.get("days_in_stage"), "status": o.get("status", ""),
                    "rep": o.get("claimed_by") or a["rep"]})
    return out


_CELL_ROW = re.compile(r"[A-Z]+(\d+)$")


def _kept_out(inputs: Inputs) -> list[dict]:
    """Every MPC list row kept out for an error, with the deal it names when it is known."""
    store, as_of = inputs.store, inputs.as_of
    sheets = {MPC_TABLE.zh, MPC_TABLE.en}
    errors = [i for i in inputs.summary.issues
              if i["severity"] == "error" and i["sheet"] in sheets and _CELL_ROW.match(i["cell"] or "")]
    if not errors:
        return []
    latest = store.latest_mpc_versions(as_of)
    versions = {v["id"]: rep for rep, v in latest.items()}
    held = {(r["rep"], r["row"]): r["opp_key"] for r in store.rows(held_rows, as_of)
            if r["file_version_id"] in versions}
    known = store.last_known_opportunities(as_of) if held else {}
    out, seen = [], set()
    for issue in errors:
        row = int(_CELL_ROW.match(issue["cell"]).group(1))
        if (issue["rep"], row) in seen:
            continue
        seen.add((issue["rep"], row))
        key = held.get((issue["rep"], row))
        deal = known.get(key) if key else None
        out.append({"rep": issue["rep"], "row": row, "cell": issue["cell"], "position": issue["position"],
                    "code": issue["code"], "deal": key or "", "customer": deal["customer"] if deal else "",
                    "amount": deal["amount"] if deal else None, "problem": issue["message"]})
    return out


# --------------------------------------------------------------------------------------------
# Figures drawn from the whole summary (when writing)
# --------------------------------------------------------------------------------------------
def thresholds(summary: Summary) -> list[dict]:
    return summary.sections.get(KEY, {}).get("thresholds", [])


def lead_days(summary: Summary) -> int:
    """The playbook's reminder lead (days before a stage limit) the summary was computed with."""
    found = thresholds(summary)
    return int(found[0]["reminder_lead_days"]) if found else 7


def risk_by_deal(summary: Summary) -> dict[str, dict]:
    return {r["deal"]: r for r in summary.sections.get(KEY, {}).get("risk", [])}


def attainment(summary: Summary) -> dict[tuple[str, str, str], dict]:
    """(level, person or "*", month | quarter | year) -> {actual, target} from the attainment section.

    Read tolerantly: any of its tables whose records carry a level, a period kind and an actual
    (``actual`` or ``won``); nothing when the section is not there (yet)."""
    out: dict[tuple[str, str, str], dict] = {}
    for records in summary.sections.get("attainment", {}).values():
        for r in records if isinstance(records, list) else ():
            if not isinstance(r, dict):
                continue
            period = next((r.get(k) for k in ("period_kind", "span", "period", "granularity")
                           if r.get(k) in PERIODS), None)
            actual = r.get("actual", r.get("won"))
            if period is None or actual is None or r.get("level") not in ("company", "rep"):
                continue
            group = "*" if r["level"] == "company" else str(r.get("group") or r.get("rep") or "")
            out[(r["level"], group, period)] = {"actual": actual, "target": r.get("target")}
    return out


def _targets_of(summary: Summary) -> dict[tuple[str, str, str], float]:
    return {(r["level"], r["group"], r["period"]): r["target"]
            for r in summary.sections.get(KEY, {}).get("targets", [])}


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 4) if a is not None and b else None


def reasons(opp: dict, risk: dict, alerts: Sequence[dict], lang: str) -> tuple[int, list[str]]:
    """How much a deal is at risk (a score) and why, in words, most serious first."""
    found: list[tuple[int, str]] = []
    if risk.get("confiscated"):
        found.append((6, t("risk.confiscated", lang)))
    if risk.get("dropped"):
        found.append((6, t("risk.dropped", lang)))
    left = risk.get("days_left")
    if left is not None and left < 0:
        found.append((5, t("risk.overdue", lang, days=-left)))
    elif risk.get("limit_near"):
        found.append((4, t("risk.limit_near", lang, days=left)))
    if risk.get("sign_date_passed"):
        found.append((3, t("risk.sign_passed", lang, date=opp["sign_date"].isoformat())))
    if risk.get("claim_above"):
        found.append((2, t("risk.claim_above", lang, claimed=opp["claimed_stage"], stage=opp["stage"])))
    covered = {"deal-confiscated", "decision-pending", "deal-dropped", "stage-deadline-near", "sign-date-passed",
               "stage-without-milestones"}
    for code in dict.fromkeys(a["code"] for a in alerts if a["severity"] != "info" and a["code"] not in covered):
        found.append((1, alert_name(code, lang)))
    found.sort(key=lambda f: -f[0])
    return sum(w for w, _ in found), [text for _, text in found]


def at_risk(summary: Summary, limit: int | None = AT_RISK) -> list[dict]:
    """The open deals most at risk, with why: by score, then by weighted value."""
    risk = risk_by_deal(summary)
    by_deal: dict[str, list[dict]] = defaultdict(list)
    for a in summary.alerts:
        by_deal[a["deal"]].append(a)
    out = []
    for opp in summary.opportunities:
        score, why = reasons(opp, risk.get(opp["deal"], {}), by_deal.get(opp["deal"], ()), summary.lang)
        if score:
            out.append({**opp, "score": score, "why": ";".join(why) if summary.lang != "en" else "; ".join(why)})
    out.sort(key=lambda r: (-r["score"], -r["weighted"], r["deal"]))
    return out[:limit] if limit else out


def person_rows(summary: Summary) -> list[dict]:
    """One row per person with deals or a target: pipeline, weighted, won, target, attainment, alerts, saves."""
    saves = {r["rep"]: r for r in summary.sections.get(KEY, {}).get("saves", [])}
    targets, actuals = _targets_of(summary), attainment(summary)
    pipeline: dict[str, list[float]] = defaultdict(lambda: [0, 0.0, 0.0])
    for o in summary.opportunities:
        p = pipeline[o["rep"]]
        p[0] += 1
        p[1] += o["amount"]
        p[2] += o["weighted"]
    risky = Counter(o["rep"] for o in at_risk(summary, None))
    alerts: dict[str, Counter] = defaultdict(Counter)
    for a in summary.alerts:
        for pid in a["people"]:
            alerts[pid][a["severity"]] += 1
    issues = Counter(i["rep"] for i in summary.issues if i["severity"] == "error")
    bosses = {p["supervisor"] for p in summary.people}
    out = []
    for person in summary.people:
        pid = person["rep"]
        if pid in bosses and pid not in pipeline:
            continue
        count, amount, weighted = pipeline.get(pid, (0, 0.0, 0.0))
        won = actuals.get(("rep", pid, "year"), {})
        target = won.get("target") if won.get("target") is not None else targets.get(("rep", pid, "year"))
        out.append({
            "rep": pid, "rep_name": person["rep_name"], "team": person["team"], "region": person["region"],
            "count": count, "pipeline": round(amount, 2), "weighted": round(weighted, 2),
            "won": won.get("actual"), "target": target, "attainment": _ratio(won.get("actual"), target),
            "at_risk": risky.get(pid, 0), "alerts": alerts[pid]["error"] + alerts[pid]["warning"],
            "errors": issues.get(pid, 0), "days_since_save": saves.get(pid, {}).get("days_since_save"),
        })
    return out


def headline(summary: Summary) -> list[tuple[str, Any, str, str]]:
    """(label, value, kind, note) of each headline figure, in reading order."""
    lang = summary.lang
    actuals, targets = attainment(summary), _targets_of(summary)
    out: list[tuple[str, Any, str, str]] = []
    for period in PERIODS:
        got = actuals.get(("company", "*", period), {})
        target = got.get("target") if got.get("target") is not None else targets.get(("company", "*", period))
        won = got.get("actual")
        if won is None:
            note = t("kpi.target_only", lang, target=_money(target)) if target else t("kpi.no_target", lang)
        else:
            ratio = _ratio(won, target)
            note = t("kpi.of_target", lang, target=_money(target), ratio=f"{ratio:.0%}") if ratio is not None else ""
        out.append((t(f"kpi.won_{period}", lang), won, "money", note))
    pipeline = sum(o["amount"] for o in summary.opportunities)
    weighted = sum(o["weighted"] for o in summary.opportunities)
    out.append((t("kpi.weighted", lang), round(weighted, 2), "money", t("kpi.pipeline", lang, amount=_money(pipeline),
                                                                        count=len(summary.opportunities))))
    year = actuals.get(("company", "*", "year"), {})
    year_target = year.get("target") if year.get("target") is not None else targets.get(("company", "*", "year"))
    remaining = (year_target - (year.get("actual") or 0)) if year_target else None
    coverage = _ratio(weighted, remaining) if remaining and remaining > 0 else None
    out.append((t("kpi.coverage", lang), coverage, "percent",
                t("kpi.coverage_note", lang, amount=_money(remaining)) if remaining else t("kpi.no_target", lang)))
    risky = at_risk(summary, None)
    out.append((t("kpi.at_risk", lang), len(risky), "int",
                t("kpi.amount", lang, amount=_money(sum(o["amount"] for o in risky)))))
    conf = [o for o in summary.opportunities if o["status"] == "confiscated"]
    out.append((t("kpi.confiscated", lang), len(conf), "int",
                t("kpi.amount", lang, amount=_money(sum(o["amount"] for o in conf)))))
    errors = sum(1 for i in summary.issues if i["severity"] == "error")
    out.append((t("kpi.issues", lang), len(summary.issues), "int", t("kpi.errors", lang, count=errors)))
    return out


def _money(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f}"


def severity_key(alert: dict) -> tuple:
    return (SEVERITY_RANK.get(alert["severity"], 9),)


# --------------------------------------------------------------------------------------------
# Drawing
# --------------------------------------------------------------------------------------------
def person_cols(won: bool = True) -> tuple:
    """The columns of the per-person figures; won business and attainment only once they are counted."""
    from ..outputs.write import Col

    return tuple(c for c in (
        Col("rep", "col.rep", width=8, total="count"), Col("rep_name", "col.rep_name", width=10),
        Col("team", "col.team", width=10), Col("region", "col.region", width=8),
        Col("count", "col.count", "int", 8, "sum"), Col("pipeline", "col.pipeline", "money", 14, "sum"),
        Col("weighted", "col.weighted", "money", 14, "sum"), Col("won", "col.won", "money", 14, "sum"),
        Col("target", "col.target", "money", 14, "sum"), Col("attainment", "col.attainment", "percent", 8),
        Col("at_risk", "col.at_risk", "int", 8, "sum"), Col("alerts", "col.alerts", "int", 8, "sum"),
        Col("errors", "col.errors", "int", 8, "sum"), Col("days_since_save", "col.days_since_save", "int", 8),
    ) if won or c.key not in ("won", "attainment"))


def at_risk_cols() -> tuple:
    from ..outputs.write import Col

    return (Col("rep_name", "col.rep_name", width=6), Col("customer", "col.customer", width=30),
            Col("category", "col.category", width=10), Col("stage", "col.stage", width=8),
            Col("amount", "col.amount", "money", 11), Col("weighted", "col.weighted", "money", 11),
            Col("sign_date", "col.sign_date", "date", 11), Col("why", "col.why", "wrap", 44))


def _spans(w: Any, widths: Sequence[float]) -> list[tuple[int, int]]:
    """(first, last) columns for blocks of ``widths``, each block spanning enough of the sheet's columns."""
    out, col = [], 0
    for need in widths:
        span, room = 0, 0.0
        while room < need or span == 0:
            room += w.widths.get(col + span, 8.43)
            span += 1
        out.append((col, col + span - 1))
        col += span
    return out


def draw_block(w: Any, cols: Sequence[Any], records: Sequence[dict]) -> int:
    """A small list drawn in the columns of the sheet's main table: each field spans as many of its
    columns as it needs (merged), so a short list beside a wide table neither widens it nor is clipped.
    Returns the header's row."""
    from ..outputs.widths import display_width, shown, wrapped_lines

    ws, f, lang = w.ws, w.fmts, w.lang
    labels = [t(c.label, lang) for c in cols]
    need = [max([display_width(label) + 1.5, c.width] + [display_width(shown(r.get(c.key), c.kind)) + 1.5
                                                         for r in records]) for c, label in zip(cols, labels, strict=True)]
    need = [min(n, c.width) if c.kind == "wrap" else n for n, c in zip(need, cols, strict=True)]
    spans = _spans(w, need)
    room = [sum(w.widths.get(i, 8.43) for i in range(a, b + 1)) for a, b in spans]
    for i, r in enumerate(records):
        lines = max(wrapped_lines(str(r.get(c.key) or ""), width) for c, width in zip(cols, room, strict=True)
                    if c.kind == "wrap") if any(c.kind == "wrap" for c in cols) else 1
        if lines > 1:
            ws.set_row(w.row + 1 + i, 13.5 * lines)
    header = w.row
    cells = [(header, labels, True)] + [(header + 1 + i, [r.get(c.key) for c in cols], False)
                                        for i, r in enumerate(records)]
    for row, values, is_header in cells:
        band = "" if is_header else ("_band" if (row - header) % 2 else "")
        for (first, last), c, value in zip(spans, cols, values, strict=True):
            numeric = c.kind in ("money", "int", "percent")
            fmt = f["header_num" if numeric else "header"] if is_header else f[f"block_{c.kind}{band}"]
            if last > first:
                ws.merge_range(row, first, row, last, "", fmt)
            if is_header:
                ws.write_string(row, first, value, fmt)
            else:
                w.cell(row, first, value, c.kind) if value in (None, "") else _write(ws, row, first, value, fmt)
    if not records:
        ws.write_string(header + 1, 0, t("none", lang), f["sub"])
    w.row = header + max(len(records), 1) + 2
    return header


def _write(ws: Any, row: int, col: int, value: Any, fmt: Any) -> None:
    """One value; a number Excel cannot hold (NaN, infinity, 1e400) is shown as text, never raised."""
    from ..outputs.write import _writable

    if isinstance(value, dt.date) and 1900 <= value.year <= 9999:
        ws.write_datetime(row, col, dt.datetime.combine(value, dt.time()), fmt)
    elif isinstance(value, int | float) and not isinstance(value, bool) and _writable(value):
        ws.write_number(row, col, value, fmt)
    else:
        ws.write_string(row, col, value.isoformat() if isinstance(value, dt.date) else str(value), fmt)


def draw_kpis(w: Any, row: int, figures: Sequence[tuple[str, Any, str, str]],
              links: dict[int, str] | None = None) -> None:
    """The headline figures in three rows from ``row``: label, value (large), note; each figure spans
    enough columns of the sheet's widths to show its note."""
    from ..outputs.widths import display_width

    ws, f = w.ws, w.fmts
    col = 0
    for i, (label, value, kind, note) in enumerate(figures):
        need = max(display_width(label), display_width(note), 12) + 1
        span, room = 0, 0.0
        while room < need or span == 0:
            room += w.widths.get(col + span, 8.43)
            span += 1
        last = col + span - 1
        for r, text, fmt in ((row, label, f["kpi_label"]), (row + 2, note, f["kpi_note"])):
            if span > 1:
                ws.merge_range(r, col, r, last, "", fmt)
            ws.write_string(r, col, text, fmt)
        fmt = f[f"kpi_{kind}"]
        if span > 1:
            ws.merge_range(row + 1, col, row + 1, last, "", fmt)
        if value is None:
            ws.write_string(row + 1, col, "—", fmt)
        else:
            if links and i in links:
                ws.write_url(row + 1, col, links[i], fmt, string=str(value))
            _write(ws, row + 1, col, value, fmt)
        col = last + 1
    ws.set_row(row + 1, 28)


def draw_summary(w: Any, summary: Summary, sheets: dict[str, str], sub: str) -> None:
    """The summary's Overview sheet: headline, one row per person, the deals most at risk."""
    lang = summary.lang
    w.title(t("title.overview", lang), sub)
    kpi_row = w.row
    w.row += 4
    w.heading(t("title.by_person", lang))
    w.table("OverviewByRep", person_cols(bool(attainment(summary))), person_rows(summary))
    w.heading(t("title.at_risk", lang, count=AT_RISK))
    first = draw_block(w, at_risk_cols(), at_risk(summary))
    figures = headline(summary)
    links = {5: f"internal:'{w.ws.name}'!A{first}", 6: f"internal:'{sheets['opportunities']}'!A1",
             7: f"internal:'{sheets['issues']}'!A1"}
    draw_kpis(w, kpi_row, figures, links)
    w.finish(freeze_row=0)
    w.ws.fit_to_pages(1, 1)


def todo(person: dict, alerts: Sequence[dict], issues: Sequence[dict], kept: Sequence[dict], lang: str) -> list[str]:
    """What to do this week, most urgent first: one line per kind of thing to do."""
    lines = []
    errors = [i for i in issues if i["severity"] == "error"]
    if kept:
        lines.append(t("todo.kept_out", lang, count=len(kept)))
    elif errors:
        lines.append(t("todo.errors", lang, count=len(errors)))
    counts = Counter(a["code"] for a in alerts)
    ordered = sorted(counts, key=lambda c: (SEVERITY_RANK.get(rules.ALERTS.get(c, ("info",))[0], 9), c))
    for code in ordered:
        key = f"todo.{code}"
        try:
            lines.append(t(key, lang, count=counts[code]))
        except KeyError:
            lines.append(t("todo.other", lang, count=counts[code], name=alert_name(code, lang)))
    if len(lines) > TODO_LINES:  # the rest by count, in the Alerts sheet
        rest = sum(counts[c] for c in ordered[TODO_LINES - 1 - (len(lines) - len(ordered)):])
        lines = lines[:TODO_LINES - 1] + [t("todo.more", lang, count=rest)]
    return lines or [t("todo.nothing", lang)]


def kept_out_message(r: dict, lang: str) -> str:
    if r["customer"]:
        return t("kept.known", lang, customer=r["customer"], amount=_money(r["amount"]), cell=r["position"],
                 problem=r["problem"])
    return t("kept.unknown", lang, row=r["row"], cell=r["position"], problem=r["problem"])


def draw_feedback(w: Any, summary: Summary, person: dict, records: dict[str, list[dict]], sub: str) -> None:
    """A person's first feedback sheet: their figures, what to do this week, the rows kept out of
    their list (each with the deal it names and the cell to fix), and for a supervisor one row of
    figures per person of their team."""
    from ..outputs.write import Col

    lang, pid = summary.lang, person["rep"]
    mine = records.get("opportunities", [])
    alerts = records.get("alerts", [])
    issues = records.get("issues", [])
    kept = [r for r in records.get(f"{KEY}/kept_out", []) if r["rep"] == pid]
    team = [r for r in records.get("team", []) if r["rep"] != pid]
    w.title(t("title.my_week", lang), sub)
    kpi_row = w.row
    w.row += 4
    figures = [
        (t("kpi.my_pipeline", lang), round(sum(o["amount"] for o in mine), 2), "money",
         t("kpi.deals", lang, count=len(mine))),
        (t("kpi.weighted", lang), round(sum(o["weighted"] for o in mine), 2), "money", ""),
        (t("kpi.my_alerts", lang), len(alerts), "int",
         t("kpi.alert_split", lang, errors=sum(a["severity"] == "error" for a in alerts),
           warnings=sum(a["severity"] == "warning" for a in alerts))),
        (t("kpi.my_issues", lang), len(issues), "int",
         t("kpi.errors", lang, count=sum(i["severity"] == "error" for i in issues))),
    ]
    w.heading(t("title.todo", lang))
    for line in todo(person, alerts, issues, kept, lang):
        w.ws.write_string(w.row, 0, f"• {line}", w.fmts["text"])
        w.row += 1
    w.row += 1
    block_row = w.row
    waiting = records.get(f"{KEY}/waiting", [])
    if team:  # drawn first, below the room the lists above take: its widths set the sheet's columns
        w.row = block_row + (len(kept) + 3 if kept else 0) + (len(waiting) + 3 if waiting else 0)
        w.heading(t("title.my_team", lang))
        w.table("MyTeam", person_cols(bool(attainment(summary))), team)
    end, w.row = w.row, block_row
    if waiting:
        book = next(iter(records.get("decisions_book", [])), {}).get("file")  # the newest (waiting.py)
        w.heading(t("title.waiting_in", lang, file=book) if book else t("title.waiting", lang))
        draw_block(w, (Col("deal", "col.deal", width=14), Col("customer", "col.customer", width=24),
                       Col("amount", "col.amount", "money", 11), Col("stage", "col.stage", width=8),
                       Col("days_in_stage", "col.days_in_stage", "int", 8), Col("status_label", "col.status", width=10),
                       Col("rep", "col.claimed_by", width=6)),
                   [{**r, "status_label": t(f"status.{r['status']}", lang) if r["status"] else ""} for r in waiting])
    if kept:
        w.heading(t("title.kept_out", lang))
        draw_block(w, (Col("message", "col.message", "wrap", 72), Col("position", "col.position", width=12)),
                   [{"message": kept_out_message(r, lang), "position": f"{r['cell']}"} for r in kept])
    w.row = max(w.row, end)
    draw_kpis(w, kpi_row, figures)
    w.finish(freeze_row=0)
