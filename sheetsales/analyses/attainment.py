"""Won business against target (目标达成).

* **Actuals** (:func:`actuals`): the deals won (status won, or the last stage) and the contracts of
  the weekly reports, reconciled: a contract of a won deal (same rep's deal, customer and category)
  counts once, at the contract's amount, on the day the deal was first seen won; a won deal without
  a contract counts at its amount; a contract without a won deal counts on its week's Monday.
  After the playbook's ``contract_days`` the two loose ends are flagged: ``won-without-contract`` and
  ``contract-without-deal``.
* **Targets** broken down year → quarter → month → week: the playbook's targets by month (year and
  quarter targets spread by the Target weights sheet, ``Playbook.monthly_targets``), rolled up as the
  forecast does (``analyse._targets``: an explicit team or region target wins, else the sum below);
  a week's target is its days' share of each month's.
* **Attainment** (:func:`analyse`) per person, team, region and company for the week, month, quarter
  and year of ``as_of``: actual to date, the period's target, actual ÷ target, the weighted open
  pipeline expected to sign in the period (overdue deals count as due now), the remaining target and
  the coverage (pipeline ÷ remaining). A period's figures are sums over the period, never sums of
  monthly gaps.
* ``target-mismatch``: a team's or region's explicit target that differs from the sum of its members'
  targets by more than the playbook's ``target_tolerance``.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import TYPE_CHECKING, Any

from ..i18n import t
from ..method import rules
from ..method.playbook import month_end, period_months
from ..reading.names import normalise_customer, opportunity_key
from ..reading.templates import iso_week, week_bounds
from ..storage.store import contracts
from .sections import PersonTable

if TYPE_CHECKING:
    from ..method.playbook import Playbook
    from ..storage.store import Store
    from .analyse import Summary
    from .sections import Book, Inputs

KEY = "attainment"
LEVELS = ("company", "region", "team", "rep")
PERIODS = ("week", "month", "quarter", "year")
FEEDBACK = (PersonTable("attainment", "person", scope=True), PersonTable("reconciliation", "rep", scope=True))


# --------------------------------------------------------------------------------------------
# Periods and targets
# --------------------------------------------------------------------------------------------
def periods(as_of: dt.date) -> dict[str, tuple[str, dt.date, dt.date]]:
    """The week, month, quarter and year of ``as_of``: (label, first day, last day)."""
    monday, sunday = week_bounds(iso_week(as_of))
    month = as_of.strftime("%Y-%m")
    q = (as_of.month - 1) // 3 + 1
    q_first = dt.date(as_of.year, 3 * q - 2, 1)
    q_last_month = f"{as_of.year}-{3 * q:02d}"
    return {
        "week": (iso_week(as_of), monday, sunday),
        "month": (month, dt.date(as_of.year, as_of.month, 1), dt.date(as_of.year, as_of.month, month_end(month))),
        "quarter": (f"{as_of.year}-Q{q}", q_first, dt.date(as_of.year, 3 * q, month_end(q_last_month))),
        "year": (str(as_of.year), dt.date(as_of.year, 1, 1), dt.date(as_of.year, 12, 31)),
    }


def month_shares(first: dt.date, last: dt.date) -> dict[str, float]:
    """'YYYY-MM' → the share of that month's days between ``first`` and ``last`` (inclusive)."""
    out: dict[str, float] = defaultdict(float)
    day = first
    while day <= last:
        month = day.strftime("%Y-%m")
        out[month] += 1 / month_end(month)
        day += dt.timedelta(days=1)
    return dict(out)


def period_target(targets: dict[tuple[str, str, str], float], level: str, group: str,
                  shares: dict[str, float]) -> float | None:
    found = [(targets[(level, group, m)], share) for m, share in shares.items() if (level, group, m) in targets]
    return round(sum(v * share for v, share in found), 2) if found else None


# --------------------------------------------------------------------------------------------
# Actuals and their reconciliation
# --------------------------------------------------------------------------------------------
def _first_won(state: rules.DealState) -> dt.date:
    day = None
    for r in state.history:
        if r["status"] == "won":
            day = day or r["observed_on"]
        else:
            day = None
    return day or state.first_seen


def actuals(inputs: Inputs) -> tuple[list[dict], list[dict]]:
    """(every actual: a won deal and its contracts, a won deal alone, or a contract alone;
    the reconciliation rows: won deals without a contract and contracts without a won deal)."""
    return _actuals(inputs.store, inputs.playbook, inputs.ctx, inputs.people, inputs.as_of)


def _actuals(store: Store, playbook: Playbook, ctx: rules.Context, people: dict[str, dict],
             as_of: dt.date) -> tuple[list[dict], list[dict]]:
    won = {s.key: s for s in ctx.deals.values() if s.status == "won"}
    alias = {k: s.key for s in won.values() for k in s.members}
    by_name = {(s.customer_norm, str(s.category).strip().casefold()): s.key for s in won.values()}
    matched: dict[str, list[dict]] = defaultdict(list)
    loose: list[dict] = []
    for c in sorted(store.weekly_rows(contracts, as_of), key=lambda r: (r["week"], r["rep"], r["row"])):
        deal = alias.get(opportunity_key(c["rep"], c["customer"], c["category"])) or \
            by_name.get((normalise_customer(c["customer"]), str(c["category"]).strip().casefold()))
        (matched[deal] if deal else loose).append(c)
    grace = int(playbook.settings.get("contract_days", 7) or 0)

    def who(pid: str) -> dict[str, str]:
        p = people.get(pid, {})
        return {"rep": pid, "rep_name": p.get("rep_name", pid), "team": p.get("team", ""), "region": p.get("region", "")}

    out, recon = [], []
    for key, s in won.items():
        day = _first_won(s)
        found = matched.get(key, [])
        amount = sum(float(c["amount"]) for c in found) if found else s.amount
        out.append({"source": "deal+contract" if found else "deal", "deal": key, **who(s.owner),
                    "customer": s.customer, "category": s.category, "date": day, "amount": amount,
                    "deal_amount": s.amount, "contract_amount": sum(float(c["amount"]) for c in found) if found else None})
        if not found:
            days = (as_of - day).days
            recon.append({"code": "won-without-contract", "deal": key, **who(s.owner), "customer": s.customer,
                          "category": s.category, "date": day, "amount": s.amount, "days": days,
                          "flagged": days > grace, "week": ""})
    for c in loose:
        monday = week_bounds(c["week"])[0]
        days = (as_of - monday).days
        out.append({"source": "contract", "deal": "", **who(c["rep"]), "customer": c["customer"],
                    "category": c["category"], "date": monday, "amount": float(c["amount"]), "deal_amount": None,
                    "contract_amount": float(c["amount"])})
        recon.append({"code": "contract-without-deal", "deal": "", **who(c["rep"]), "customer": c["customer"],
                      "category": c["category"], "date": monday, "amount": float(c["amount"]), "days": days,
                      "flagged": days > grace, "week": c["week"]})
    out.sort(key=lambda r: (r["date"], r["rep"], r["customer"]))
    recon.sort(key=lambda r: (r["code"], r["rep"], r["customer"]))
    return out, recon


def monthly_actuals(records: list[dict]) -> dict[tuple[str, str, str], float]:
    """(level, group, 'YYYY-MM') → the actual amount, for the forecast."""
    out: dict[tuple[str, str, str], float] = defaultdict(float)
    for r in records:
        month = r["date"].strftime("%Y-%m")
        for level, group in (("company", "*"), ("region", r["region"]), ("team", r["team"]), ("rep", r["rep"])):
            out[(level, group, month)] += r["amount"]
    return dict(out)


def forecast_actuals(store: Store, playbook: Playbook, ctx: rules.Context, people: dict[str, dict],
                     as_of: dt.date) -> dict[tuple[str, str, str], float]:
    """(level, group, 'YYYY-MM') → actual: what the Forecast sheet shows beside the weighted pipeline."""
    return monthly_actuals(_actuals(store, playbook, ctx, people, as_of)[0])


# --------------------------------------------------------------------------------------------
# The section
# --------------------------------------------------------------------------------------------
def _person_of(level: str, group: str, people: dict[str, dict]) -> str:
    """Whose row it is in the feedback: the rep; a team's or region's supervisor; the company's head."""
    if level == "rep":
        return group
    members = [p for p in people.values() if level == "company" or p[level] == group]
    ids = {m["rep"] for m in members}
    # A member with no boss inside the group who supervises someone in it (a team's manager)…
    heads = sorted(m["rep"] for m in members if m.get("supervisor") not in ids
                   and any(o.get("supervisor") == m["rep"] for o in members))
    if heads:
        return heads[0]
    bosses = sorted(m["supervisor"] for m in members if m.get("supervisor"))  # … or whom most members report to
    return max(set(bosses), key=bosses.count) if bosses else ""


def analyse(inputs: Inputs) -> dict[str, list[dict]]:
    from .analyse import _targets

    lang, people, as_of = inputs.lang, inputs.people, inputs.as_of
    records, recon = actuals(inputs)
    targets = _targets(inputs.playbook, people)
    spans = periods(as_of)
    groups: list[tuple[str, str]] = [("company", "*")]
    reps = {p.id for p in inputs.playbook.reps} | {r["rep"] for r in records} | \
        {o["rep"] for o in inputs.summary.opportunities}
    for level in ("region", "team", "rep"):
        groups += [(level, g) for g in dict.fromkeys(p[level] for p in people.values() if p["rep"] in reps)]
    groups += [("rep", r) for r in sorted(reps - set(people))]

    def levels(rec: dict) -> list[tuple[str, str]]:
        return [("company", "*"), ("region", rec.get("region", "")), ("team", rec.get("team", "")),
                ("rep", rec.get("rep", ""))]

    rows = []
    for period in PERIODS:
        label, first, last = spans[period]
        shares = month_shares(first, last)
        upto = min(last, as_of)
        # One pass over the actuals and the pipeline per period, added up at every level.
        won: dict[tuple[str, str], float] = defaultdict(float)
        pipeline: dict[tuple[str, str], float] = defaultdict(float)
        for r in records:
            if first <= r["date"] <= upto:
                for g in levels(r):
                    won[g] += r["amount"]
        for o in inputs.summary.opportunities:
            if o["sign_date"] and o["sign_date"] <= last and (o["sign_date"] >= first or o["sign_date"] < as_of):
                for g in levels(o):
                    pipeline[g] += o["weighted"]
        for level, group in groups:
            actual = won.get((level, group), 0.0)
            weighted = pipeline.get((level, group), 0.0)
            target = period_target(targets, level, group, shares)
            if target is None and not actual and not weighted:
                continue
            remaining = max(target - actual, 0.0) if target is not None else None
            rows.append({
                "period": period, "period_label": label, "start": first, "end": last, "level": level,
                "group": group, "name": people.get(group, {}).get("rep_name", "") if level == "rep" else "",
                "person": _person_of(level, group, people), "actual": round(actual, 2), "target": target,
                "attainment": round(actual / target, 4) if target else None,
                "gap": round(actual - target, 2) if target is not None else None,
                "weighted": round(weighted, 2), "remaining": round(remaining, 2) if remaining is not None else None,
                "coverage": round(weighted / remaining, 4) if remaining else None,
            })
    # The year broken down by month for the company: target, actual and the running totals.
    breakdown, run_t, run_a = [], 0.0, 0.0
    monthly = monthly_actuals(records)
    for m in range(1, 13):
        month = f"{as_of.year}-{m:02d}"
        target = targets.get(("company", "*", month))
        actual = monthly.get(("company", "*", month), 0.0) if month <= as_of.strftime("%Y-%m") else None
        run_t += target or 0.0
        run_a += actual or 0.0
        breakdown.append({"month": month, "target": round(target, 2) if target is not None else None,
                          "actual": round(actual, 2) if actual is not None else None,
                          "cumulative_target": round(run_t, 2),
                          "cumulative_actual": round(run_a, 2) if actual is not None else None})
    for r in recon:
        r["code_label"] = t(f"attainment.recon.{r['code']}", lang)
    return {"attainment": rows, "actuals": records, "reconciliation": recon, "breakdown": breakdown,
            "target_checks": _target_checks(inputs)}


def _target_checks(inputs: Inputs) -> list[dict]:
    """Each explicit team or region target of this year against the sum of its members' targets."""
    playbook, as_of = inputs.playbook, inputs.as_of
    explicit = playbook.monthly_targets()
    rep_ids = {p.id for p in playbook.reps}
    tolerance = float(playbook.settings.get("target_tolerance", 0.01) or 0)
    out = []
    for target in playbook.targets:
        months = period_months(target.period) or []
        if not any(m.startswith(f"{as_of.year}-") for m in months):
            continue
        for level in ("team", "region"):
            members = [p.id for p in playbook.team if getattr(p, level) == target.owner and p.id in rep_ids]
            if not members or target.owner in rep_ids:
                continue
            found = [explicit[(pid, m)] for pid in members for m in months if (pid, m) in explicit]
            if not found:
                continue
            total = round(sum(found), 2)
            diff = target.amount - total
            out.append({"level": level, "group": target.owner, "period": target.period, "target": target.amount,
                        "members_total": total, "difference": round(diff, 2),
                        "share": round(diff / total, 4) if total else None,
                        "mismatch": abs(diff) > tolerance * max(abs(total), abs(target.amount))})
    return out


def alerts(inputs: Inputs, tables: dict[str, list[dict]]) -> list[rules.Alert]:
    ctx = inputs.ctx
    out = []
    grace = int(inputs.playbook.settings.get("contract_days", 7) or 0)
    for r in tables["reconciliation"]:
        if not r["flagged"]:
            continue
        people = rules._people(r["rep"], ctx.supervisor(r["rep"]))
        out.append(rules.Alert(r["code"], r["deal"], people, {
            "customer": r["customer"], "category": r["category"], "date": r["date"], "days": r["days"],
            "amount": r["amount"], "week": r["week"], "limit": grace, "deal": r["deal"]},
            rep=r["rep"], customer=r["customer"]))
    for c in tables["target_checks"]:
        if not c["mismatch"]:
            continue
        boss = _person_of(c["level"], c["group"], inputs.people)
        people = rules._people(boss, ctx.supervisor(boss)) if boss else ()
        out.append(rules.Alert("target-mismatch", "", people, {
            "group": c["group"], "period": c["period"], "target": float(c["target"]),
            "total": float(c["members_total"]), "share": f"{c['share']:+.1%}" if c["share"] is not None else ""},
            rep=boss))
    return out


# --------------------------------------------------------------------------------------------
# The Attainment sheet
# --------------------------------------------------------------------------------------------
def _cols() -> dict[str, tuple]:
    from ..outputs.write import Col

    attain = (Col("level_label", "col.level", width=10), Col("group_label", "col.group", width=18),
              Col("actual", "attainment.col.actual", "money", 16), Col("target", "col.target", "money", 16),
              Col("attainment", "attainment.col.attainment", "percent", 10), Col("gap", "col.gap", "money", 16),
              Col("weighted", "col.weighted", "money", 16), Col("remaining", "attainment.col.remaining", "money", 16),
              Col("coverage", "attainment.col.coverage", "percent", 10))
    breakdown = (Col("month", "col.month", width=10), Col("target", "col.target", "money", 16, "sum"),
                 Col("actual", "attainment.col.actual", "money", 16, "sum"),
                 Col("cumulative_target", "attainment.col.cumulative_target", "money", 16),
                 Col("cumulative_actual", "attainment.col.cumulative_actual", "money", 16))
    recon = (Col("code_label", "col.kind", width=22), Col("rep", "col.rep", width=8),
             Col("rep_name", "col.rep_name", width=10), Col("customer", "col.customer", width=28),
             Col("category", "col.category", width=14), Col("date", "attainment.col.date", "date", 12),
             Col("week", "attainment.col.week", width=10), Col("amount", "col.amount", "money", 14, "sum"),
             Col("days", "attainment.col.days", "int", 8))
    checks = (Col("level_label", "col.level", width=10), Col("group", "col.group", width=18),
              Col("period", "attainment.col.period", width=10), Col("target", "col.target", "money", 16),
              Col("members_total", "attainment.col.members_total", "money", 16),
              Col("difference", "attainment.col.difference", "money", 16),
              Col("share", "attainment.col.share", "percent", 10))
    return {"attain": attain, "breakdown": breakdown, "recon": recon, "checks": checks}


ATTAIN_NAMES = {"week": "AttainmentWeek", "month": "AttainmentMonth", "quarter": "AttainmentQuarter",
                "year": "AttainmentYear"}


def _labelled(rows: list[dict], lang: str) -> list[dict]:
    return [{**r, "level_label": t(f"level.{r['level']}", lang),
             "group_label": t("level.company", lang) if r["level"] == "company" else
             f"{r['group']} {r.get('name') or ''}".strip()} for r in rows]


def summary_sheets(book: Book, tables: dict[str, list[dict]], summary: Summary) -> None:
    lang = book.lang
    cols = _cols()
    w = book.sheet(t("sheet.attainment", lang))
    w.title(t("title.attainment", lang), book.subtitle)
    rows = tables.get("attainment", [])
    for period in PERIODS:
        mine = [r for r in rows if r["period"] == period]
        label = mine[0]["period_label"] if mine else ""
        w.heading(f"{t('attainment.period.' + period, lang)} {label}")
        first, last = w.table(ATTAIN_NAMES[period], cols["attain"], _labelled(mine, lang))
        if period == "year" and mine:
            _attainment_chart(book, w, [r for r in mine if r["level"] == "rep"], first, mine, lang)
    w.heading(t("attainment.title.breakdown", lang))
    first, last = w.table("TargetBreakdown", cols["breakdown"], tables.get("breakdown", []))
    if tables.get("breakdown"):
        _breakdown_chart(book, w, first, last, lang)
        w.row = max(w.row, first + 20)
    w.heading(t("attainment.title.reconciliation", lang))
    w.table("Reconciliation", cols["recon"], tables.get("reconciliation", []))
    w.heading(t("attainment.title.checks", lang))
    w.table("TargetChecks", cols["checks"], _labelled(tables.get("target_checks", []), lang))
    w.finish()


def _attainment_chart(book: Book, w: Any, reps: list[dict], first: int, shown: list[dict], lang: str) -> None:
    """Actual against target of each rep this year (the rows of the year's table at rep level)."""
    if not reps:
        return
    start = first + next(i for i, r in enumerate(shown) if r["level"] == "rep")
    end = start + len(reps) - 1
    name = w.ws.name
    chart = book.wb.add_chart({"type": "bar"})
    chart.add_series({"name": t("attainment.col.actual", lang), "categories": [name, start, 1, end, 1],
                      "values": [name, start, 2, end, 2], "fill": {"color": "#2E75B6"}})
    chart.add_series({"name": t("col.target", lang), "categories": [name, start, 1, end, 1],
                      "values": [name, start, 3, end, 3], "fill": {"color": "#C55A11"}})
    chart.set_title({"name": t("attainment.chart.reps", lang), "name_font": {"size": 12}})
    chart.set_y_axis({"reverse": True})
    chart.set_x_axis({"num_format": "#,##0"})
    chart.set_legend({"position": "bottom"})
    chart.set_size({"width": 560, "height": max(300, 22 * len(reps) + 90)})
    w.ws.insert_chart(first - 1, 10, chart)


def _breakdown_chart(book: Book, w: Any, first: int, last: int, lang: str) -> None:
    name = w.ws.name
    chart = book.wb.add_chart({"type": "column"})
    chart.add_series({"name": t("attainment.col.actual", lang), "categories": [name, first, 0, last, 0],
                      "values": [name, first, 2, last, 2], "fill": {"color": "#2E75B6"}})
    chart.add_series({"name": t("col.target", lang), "categories": [name, first, 0, last, 0],
                      "values": [name, first, 1, last, 1], "fill": {"color": "#C55A11"}})
    line = book.wb.add_chart({"type": "line"})
    line.add_series({"name": t("attainment.col.cumulative_actual", lang), "categories": [name, first, 0, last, 0],
                     "values": [name, first, 4, last, 4], "y2_axis": True, "line": {"color": "#1F4E78"}})
    line.add_series({"name": t("attainment.col.cumulative_target", lang), "categories": [name, first, 0, last, 0],
                     "values": [name, first, 3, last, 3], "y2_axis": True,
                     "line": {"color": "#C55A11", "dash_type": "dash"}})
    chart.combine(line)
    chart.set_title({"name": t("attainment.chart.year", lang), "name_font": {"size": 12}})
    chart.set_y_axis({"num_format": "#,##0"})
    line.set_y2_axis({"num_format": "#,##0"})
    chart.set_legend({"position": "bottom"})
    chart.set_size({"width": 620, "height": 340})
    w.ws.insert_chart(first - 1, 6, chart)


def feedback_sheets(book: Book, tables: dict[str, list[dict]], person: dict) -> None:
    rows, recon = tables.get("attainment", []), tables.get("reconciliation", [])
    if not rows and not recon:
        return
    cols = _cols()
    w = book.sheet(t("sheet.attainment", book.lang))
    w.title(t("title.attainment", book.lang), book.subtitle)
    w.table("MyAttainment", (_period_col(),) + cols["attain"],
            [{**r, "period_text": f"{t('attainment.period.' + r['period'], book.lang)} {r['period_label']}"}
             for r in _labelled(rows, book.lang)])
    if recon:
        w.heading(t("attainment.title.reconciliation", book.lang))
        w.table("MyReconciliation", cols["recon"], recon)
    w.finish()


def _period_col() -> Any:
    from ..outputs.write import Col

    return Col("period_text", "attainment.col.period", width=16)
