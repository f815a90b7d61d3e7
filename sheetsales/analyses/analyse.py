"""Analyse: the store as of a date becomes the figures of the summary.

Everything here is computed from the append-only store filtered on
``observed_on <= as_of``, so any past week is reproduced exactly. The result
is a :class:`Summary` of plain records (lists of dicts with stable English
keys): the summary workbook, the feedback workbooks and ``report --json`` all
render the same records.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from ..i18n import t
from ..issues import CATALOGUE, Issue
from ..method import rules, scopes
from ..method.playbook import Playbook
from ..storage.store import Store
from . import sections

LEVELS = ("company", "region", "team", "rep")


@dataclass
class Summary:
    as_of: dt.date
    lang: str
    currency: str
    stages: list[dict] = field(default_factory=list)
    funnel: list[dict] = field(default_factory=list)
    funnel_states: list[dict] = field(default_factory=list)
    forecast: list[dict] = field(default_factory=list)
    mpc_review: list[dict] = field(default_factory=list)
    opportunities: list[dict] = field(default_factory=list)
    issues: list[dict] = field(default_factory=list)
    alerts: list[dict] = field(default_factory=list)  # code, severity, deal, people, message, …
    small_deals: list[dict] = field(default_factory=list)  # below the playbook's threshold, outside the funnel
    people: list[dict] = field(default_factory=list)
    # The capability modules' tables (see sections.py): section key → table name → records.
    sections: dict[str, dict[str, list[dict]]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        def clean(records: list[dict]) -> list[dict]:
            return [{k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in r.items()} for r in records]

        return {
            "as_of": self.as_of.isoformat(),
            "language": self.lang,
            "currency": self.currency,
            "funnel": clean(self.funnel),
            "funnel_states": clean(self.funnel_states),
            "forecast": clean(self.forecast),
            "mpc_review": clean(self.mpc_review),
            "opportunities": clean(self.opportunities),
            "issues": clean(self.issues),
            "alerts": clean(self.alerts),
            "small_deals": clean(self.small_deals),
            **{key: {name: clean(records) for name, records in tables.items()}
               for key, tables in self.sections.items()},
        }


def _groups(person: dict) -> dict[str, str]:
    return {"company": "*", "region": person["region"], "team": person["team"], "rep": person["rep"]}


def _state_at(store: Store, as_of: dt.date, latest: dict[str, dict] | None = None) -> dict[str, dict]:
    """Every deal on the reps' current lists; a row kept out for errors keeps its last good values."""
    latest = store.latest_mpc_versions(as_of) if latest is None else latest
    versions = [v["id"] for v in latest.values()]
    state = {r["opp_key"]: r for r in store.opportunities_of(versions)}
    held = store.held_keys(versions) - set(state)
    if held:
        known = store.last_known_opportunities(as_of)
        state.update({key: known[key] for key in held if key in known})
    return state


def analyse(store: Store, playbook: Playbook, as_of: dt.date, lang: str) -> Summary:
    """Every figure of the summary as of ``as_of``."""
    summary = Summary(as_of=as_of, lang=lang, currency=playbook.currency)
    stages = {s.order: s for s in playbook.stages}
    people = {p.id: {"rep": p.id, "rep_name": p.name, "team": p.team, "region": p.region,
                     "supervisor": p.supervisor, **scopes.person_record(p, playbook.level(p.level))}
              for p in playbook.team}
    summary.people = list(people.values())
    summary.stages = [{"stage_order": s.order, "stage": s.name(lang), "funnel_state": s.funnel_state,
                       "probability": s.probability, "limit_days": s.limit_days} for s in playbook.stages]
    ctx = rules.context(store, playbook, as_of)

    # --- opportunities: one per deal, at its evidenced stage, with its current owner --------
    opps, small = [], []
    for state in ctx.deals.values():
        if state.status != "open":
            continue
        stage = stages.get(state.evidenced)
        if stage is None:
            continue
        row = state.row
        person = people.get(state.owner, {"rep": state.owner, "rep_name": state.owner, "team": "", "region": ""})
        status = "dropped" if state.dropped else (
            "confiscated" if state.last_transfer and state.last_transfer["reason"] == "confiscated" else "open")
        record = {
            "deal": state.key, "rep": state.owner, "rep_name": person["rep_name"], "team": person["team"],
            "region": person["region"], "claimed_by": state.rep, "customer": state.customer,
            "category": state.category, "model": row["model"] or "", "stage_order": stage.order,
            "stage": stage.name(lang), "claimed_stage_order": state.claimed,
            "claimed_stage": stages[state.claimed].name(lang) if state.claimed in stages else str(state.claimed),
            "funnel_state": stage.funnel_state, "probability": stage.probability, "amount": state.amount,
            "weighted": round(state.amount * stage.probability, 2), "sign_date": row["sign_date"],
            "win_rate": row["win_rate"], "c931": rules.c931_score(row), "days_in_stage": state.days_in_stage(as_of),
            "stage_since": state.stage_since, "status": status, "row": row["row"],
        }
        (small if state.small else opps).append(record)
    for records in (opps, small):
        records.sort(key=lambda o: (-o["weighted"], -o["amount"], o["deal"]))
    summary.opportunities = opps
    summary.small_deals = small
    core_alerts = rules.run_rules(ctx, lang)
    summary.alerts = [_alert_record(a, lang, people) for a in core_alerts]

    # --- funnel ---------------------------------------------------------------------------
    summary.funnel, summary.funnel_states = _funnel(opps, playbook, people, lang)
    # --- forecast -------------------------------------------------------------------------
    from .attainment import forecast_actuals  # won business: deals won and contracts signed (issue 9)

    summary.forecast = _forecast(opps, playbook, people, as_of, forecast_actuals(store, playbook, ctx, people, as_of))
    # --- MPC review -----------------------------------------------------------------------
    summary.mpc_review = _mpc_review(store, playbook, people, as_of, lang, ctx.deals)
    # --- issues ---------------------------------------------------------------------------
    for r in store.current_issues(as_of):
        if r["code"] not in CATALOGUE:
            continue
        issue = Issue(r["code"], r["file"] or "", r["sheet"] or "", r["cell"] or "", r["params"],
                      r["rep"] or "", r["severity"])
        person = people.get(issue.rep, {})
        summary.issues.append({**issue.as_record(lang), "rep_name": person.get("rep_name", ""),
                               "observed_on": r["observed_on"]})
    # --- the capability modules' sections, and their alerts --------------------------------
    summary.sections, alerts = sections.analyse_all(sections.Inputs(store, playbook, as_of, lang, ctx, people, summary))
    if alerts:
        summary.alerts = [_alert_record(a, lang, people) for a in rules.sort_alerts(core_alerts + alerts)]
    return summary


def _alert_record(alert: rules.Alert, lang: str, people: dict) -> dict[str, Any]:
    record = alert.as_record(lang)
    record["people_names"] = ", ".join(people.get(p, {}).get("rep_name", p) for p in alert.people)
    return record


def _funnel(opps: list[dict], playbook: Playbook, people: dict, lang: str) -> tuple[list[dict], list[dict]]:
    """Count, amount and weighted amount per stage and per funnel state, at every level."""
    import pandas as pd  # lazily: commands that never analyse (check, ingest) do not pay its import

    frame = pd.DataFrame(opps, columns=["rep", "team", "region", "stage_order", "amount", "weighted"])
    frame["company"] = "*"
    reps = {p.id for p in playbook.reps} | set(frame["rep"])  # reps, and supervisors who own deals
    groups: list[tuple[str, str]] = [("company", "*")]
    for level in ("region", "team", "rep"):
        groups += [(level, g) for g in dict.fromkeys(p[level] for p in people.values() if p["rep"] in reps)]
    totals: dict[tuple[str, str, int], tuple[int, float, float]] = {}
    for level in LEVELS:
        agg = frame.groupby([level, "stage_order"]).agg(count=("amount", "size"), amount=("amount", "sum"),
                                                        weighted=("weighted", "sum"))
        for (group, order), row in agg.iterrows():
            totals[(level, group, int(order))] = (int(row["count"]), float(row["amount"]), float(row["weighted"]))
    by_stage, by_state = [], []
    for level, group in groups:
        states: dict[str, dict] = {}
        for s in playbook.stages:
            count, amount, weighted = totals.get((level, group, s.order), (0, 0.0, 0.0))
            weighted = round(weighted, 2)
            by_stage.append({"level": level, "group": group, "stage_order": s.order, "stage": s.name(lang),
                             "funnel_state": s.funnel_state, "count": count, "amount": amount,
                             "weighted": weighted})
            st = states.setdefault(s.funnel_state, {"level": level, "group": group, "funnel_state": s.funnel_state,
                                                    "count": 0, "amount": 0.0, "weighted": 0.0})
            st["count"] += count
            st["amount"] += amount
            st["weighted"] = round(st["weighted"] + weighted, 2)
        by_state += states.values()
    return by_stage, by_state


def _targets(playbook: Playbook, people: dict) -> dict[tuple[str, str, str], float]:
    """(level, group, month) -> target; an explicit target wins, else the sum of the level below."""
    explicit = playbook.monthly_targets()
    teams = {p["team"] for p in people.values()}
    regions = {p["region"] for p in people.values()}
    out: dict[tuple[str, str, str], float] = {}
    months = {m for _, m in explicit}
    for month in months:
        for p in playbook.reps:
            if (p.id, month) in explicit:
                out[("rep", p.id, month)] = explicit[(p.id, month)]
        for team in teams:
            if (team, month) in explicit:
                out[("team", team, month)] = explicit[(team, month)]
            else:
                members = [p.id for p in playbook.reps if p.team == team]
                vals = [out[("rep", m, month)] for m in members if ("rep", m, month) in out]
                if vals:
                    out[("team", team, month)] = sum(vals)
        for region in regions:
            if (region, month) in explicit:
                out[("region", region, month)] = explicit[(region, month)]
            else:
                rteams = {p["team"] for p in people.values() if p["region"] == region}
                vals = [out[("team", tm, month)] for tm in rteams if ("team", tm, month) in out]
                if vals:
                    out[("region", region, month)] = sum(vals)
        top = [p.id for p in playbook.team if not p.supervisor]
        explicit_top = [explicit[(pid, month)] for pid in top if (pid, month) in explicit]
        if explicit_top:
            out[("company", "*", month)] = sum(explicit_top)
        else:
            vals = [v for (lvl, _, m), v in out.items() if lvl == "region" and m == month]
            if vals:
                out[("company", "*", month)] = sum(vals)
    return out


def add_months(day: dt.date, months: int) -> dt.date:
    """The first day of the month ``months`` after ``day``'s month."""
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def _forecast(opps: list[dict], playbook: Playbook, people: dict, as_of: dt.date,
              actual: dict[tuple[str, str, str], float] | None = None) -> list[dict]:
    """Per month of the next 12: won so far (``actual``), the weighted open pipeline, and both against
    the target (the gap is actual + weighted − target)."""
    actual = actual or {}
    first = dt.date(as_of.year, as_of.month, 1)
    window = {add_months(first, i).strftime("%Y-%m") for i in range(12)}
    weighted: dict[tuple[str, str, str], float] = defaultdict(float)
    for o in opps:
        if not o["sign_date"]:
            continue
        month = o["sign_date"].strftime("%Y-%m")
        month = max(month, first.strftime("%Y-%m"))  # overdue deals are due now
        for level, group in _groups(o).items():
            weighted[(level, group, month)] += o["weighted"]
    targets = _targets(playbook, people)
    keys = {k for k in weighted if k[2] in window} | {k for k in targets if k[2] in window} | \
        {k for k in actual if k[2] in window}
    order = {lvl: i for i, lvl in enumerate(LEVELS)}
    out = []
    for level, group, month in sorted(keys, key=lambda k: (order[k[0]], k[1], k[2])):
        w = round(weighted.get((level, group, month), 0.0), 2)
        a = round(actual.get((level, group, month), 0.0), 2)
        target = targets.get((level, group, month))
        out.append({"level": level, "group": group, "month": month, "actual": a, "weighted": w,
                    "expected": round(a + w, 2), "target": round(target, 2) if target is not None else None,
                    "gap": round(a + w - target, 2) if target is not None else None})
    return out


def _person_label(people: dict, pid: str) -> str:
    name = people.get(pid, {}).get("rep_name", "")
    return f"{pid} {name}" if name else pid


def _mpc_review(store: Store, playbook: Playbook, people: dict, as_of: dt.date, lang: str,
                deals: dict[str, rules.DealState] | None = None) -> list[dict]:
    now = _state_at(store, as_of)
    before = _state_at(store, as_of - dt.timedelta(days=7))
    reps_now = {r["rep"] for r in now.values()} | set(store.latest_mpc_versions(as_of))
    stage_name = {s.order: s.name(lang) for s in playbook.stages}
    out = []

    def add(r: dict, change: str, old: Any = "", new: Any = "") -> None:
        person = people.get(r["rep"], {})
        out.append({"deal": r["opp_key"], "rep": r["rep"], "rep_name": person.get("rep_name", r["rep"]),
                    "customer": r["customer"], "category": r["category"], "change": change,
                    "change_label": t(f"change.{change}", lang), "before": old, "after": new,
                    "amount": r["amount"]})

    for key, r in now.items():
        old = before.get(key)
        if old is None:
            add(r, "new", "", stage_name.get(r["stage"], r["stage"]))
            continue
        if r["status"] != old["status"] and r["status"] in ("won", "lost"):
            add(r, r["status"], t(f"status.{old['status']}", lang) if old["status"] == "open" else old["status"],
                t(f"change.{r['status']}", lang))
        if r["stage"] > old["stage"]:
            add(r, "advanced", stage_name.get(old["stage"]), stage_name.get(r["stage"]))
        elif r["stage"] < old["stage"]:
            add(r, "moved_back", stage_name.get(old["stage"]), stage_name.get(r["stage"]))
        if r["amount"] != old["amount"]:
            add(r, "amount_changed", old["amount"], r["amount"])
        if r["sign_date"] != old["sign_date"]:
            add(r, "date_changed", old["sign_date"], r["sign_date"])
    for key, r in before.items():
        if key not in now and r["rep"] in reps_now:
            add(r, "gone", stage_name.get(r["stage"], r["stage"]), "")
    # The first claim on a customer ended this week: the lock passed to the earliest later claim.
    week_ago = as_of - dt.timedelta(days=7)
    for state in (deals or {}).values():
        if state.lock_since and week_ago < state.lock_since <= as_of:
            row = {**state.row, "opp_key": state.key, "rep": state.rep}
            add(row, "lock_passed", _person_label(people, state.lock_from), _person_label(people, state.rep))
    out.sort(key=lambda x: (x["rep"], x["customer"], x["change"]))
    return out
