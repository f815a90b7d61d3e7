"""The week's digest: one HTML page to read in a browser, or to paste into or send as an e-mail.

It leads with the headline figures and the deals most at risk (the same ones, with the same
reasons, as the summary's Overview sheet: :mod:`sheetsales.analyses.overview`), then shows the company
funnel, the forecast against target for the coming months, what changed in the MPC lists, the
alerts per person and the open data issues per person, all from the same
:class:`~sheetsales.analyses.analyse.Summary` the workbooks render. The page is
drawn by the Jinja2 template ``digest.html.j2`` beside this module, made for e-mail clients:
tables for layout, inline styles only, no scripts, no images, no links to fetch; everything a
rep typed is escaped. On narrow screens and in print alike no column is squeezed to a character per
line: the deals at risk are stacked blocks rather than many columns, short values never wrap, and
the tables keep to a few columns (``tests/test_digest.py`` measures it in headless Chromium and
prints it through LibreOffice). It is written atomically to ``reports/digest-<ISO week>.html``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from pathlib import Path
from typing import Any

import jinja2

from ..analyses.analyse import Summary
from ..i18n import TEXT, t
from ..reading.templates import iso_week
from .outputs import OutputProblem, ReplacePolicy

TEMPLATE = "digest.html.j2"
FORECAST_MONTHS = 6
CHANGES = ("new", "advanced", "won", "lost", "moved_back", "amount_changed", "date_changed", "gone", "lock_passed")
SEVERITY_COLOURS = {"error": "#C00000", "high": "#C00000", "critical": "#C00000", "warning": "#B7791F",
                    "medium": "#B7791F", "info": "#2B6CB0"}

_RANK = {"critical": 0, "error": 0, "high": 0, "warning": 1, "medium": 1, "info": 2}


class DigestCheckError(Exception):
    """The rendered digest failed its own check; the previous one was left in place."""


def _env() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(Path(__file__).parent), autoescape=True,
                              undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def _money(value: float | None) -> str:
    if value is None:
        return "–"
    try:
        return f"{value:,.0f}"
    except (TypeError, ValueError):  # not a number at all: shown as it is
        return str(value)


def _bar(amount: float, biggest: float) -> int:
    """The bar's width in per cent; 0 for what is not a finite number."""
    try:
        share = 100 * amount / biggest
        return max(min(round(share), 100), 0) if math.isfinite(share) else 0
    except (TypeError, ValueError, ZeroDivisionError, OverflowError):
        return 0


def _label(prefix: str, key: str, lang: str) -> str:
    return t(f"{prefix}.{key}", lang) if f"{prefix}.{key}" in TEXT else str(key)


def _figure(value: Any, kind: str) -> str:
    """A headline figure as the Overview sheet shows it."""
    if value is None:
        return "—"
    if kind == "percent":
        return f"{value:.0%}"
    if kind == "int":
        return f"{value:,}"
    return _money(value)


def _headline(summary: Summary, forecast_label: str, forecast_value: str) -> list[dict[str, str]]:
    """The Overview's headline figures, then this month's forecast against target."""
    from ..analyses import overview

    cards = [{"label": label, "value": _figure(value, kind), "note": note}
             for label, value, kind, note in overview.headline(summary)]
    return cards + [{"label": forecast_label, "value": forecast_value, "note": ""}]


def _at_risk(summary: Summary) -> list[dict[str, str]]:
    """The deals most at risk, with why: the Overview sheet's list."""
    from ..analyses import overview

    rows = []
    for r in overview.at_risk(summary):
        sign = r.get("sign_date")
        facts = (r.get("rep_name") or r.get("rep"), r.get("stage"), sign.isoformat() if isinstance(sign, dt.date)
                 else sign)
        rows.append({"customer": str(r.get("customer", "")), "amount": _money(r.get("amount")),
                     "facts": " · ".join(str(x) for x in facts if x), "why": str(r.get("why", ""))})
    return rows


def digest_context(summary: Summary) -> dict[str, Any]:
    """Everything the template shows, formatted: the template only lays it out."""
    lang = summary.lang
    week = iso_week(summary.as_of)
    names = {p["rep"]: p for p in summary.people}

    funnel = [r for r in summary.funnel if r["level"] == "company"]
    biggest = max((r["amount"] for r in funnel if math.isfinite(r["amount"])), default=0) or 1
    funnel_rows = [{"stage": f"{r['stage_order']}. {r['stage']}", "count": r["count"], "amount": _money(r["amount"]),
                    "weighted": _money(r["weighted"]), "bar": _bar(r["amount"], biggest)}
                   for r in funnel]
    count = sum(r["count"] for r in funnel)
    amount = sum(r["amount"] for r in funnel)
    weighted = sum(r["weighted"] for r in funnel)

    forecast = sorted((r for r in summary.forecast if r["level"] == "company"), key=lambda r: r["month"])
    forecast = forecast[:FORECAST_MONTHS]
    forecast_rows = [{"month": r["month"], "weighted": _money(r["weighted"]), "target": _money(r["target"]),
                      "gap": _money(r["gap"]), "behind": r["gap"] is not None and r["gap"] < 0} for r in forecast]
    this_month = summary.as_of.strftime("%Y-%m")
    current = next((r for r in forecast if r["month"] == this_month), None)

    changes = Counter(r["change"] for r in summary.mpc_review)
    change_rows = [{"label": _label("change", c, lang), "count": changes[c]} for c in CHANGES if changes[c]]

    people: dict[str, list[dict]] = {}
    for alert in summary.alerts:
        owners = list(alert.get("people") or []) or [alert.get("rep", "")]
        for pid in dict.fromkeys(owners):
            people.setdefault(pid, []).append(alert)
    order = [p["rep"] for p in summary.people]
    alert_people = []
    for pid in sorted(people, key=lambda p: (order.index(p) if p in order else len(order), p)):
        person = names.get(pid, {})
        alert_people.append({
            "id": pid, "name": person.get("rep_name", ""), "team": person.get("team", ""),
            "alerts": [{"severity": _label("severity", str(a.get("severity", "")), lang),
                        "colour": SEVERITY_COLOURS.get(str(a.get("severity", "")).lower(), "#4A5568"),
                        "customer": a.get("customer", ""), "code": a.get("code", ""),
                        "message": a.get("message", "")}
                       for a in sorted(people[pid], key=lambda a: (_RANK.get(str(a.get("severity", "")).lower(), 9),
                                                                   str(a.get("customer", ""))))],
        })

    issues = Counter((r["rep"], r["severity"]) for r in summary.issues)
    issue_people = [{"id": pid, "name": names.get(pid, {}).get("rep_name", ""),
                     "errors": issues[(pid, "error")], "warnings": issues[(pid, "warning")]}
                    for pid in sorted({rep for rep, _ in issues}, key=lambda p: (order.index(p) if p in order
                                                                                  else len(order), p))]
    month = f"{_money(current['weighted'] if current else 0)} / {_money(current['target'] if current else None)}"
    headline = _headline(summary, t("digest.kpi_month", lang, month=this_month), month)
    return {
        "lang": "zh-CN" if lang != "en" else "en",
        "title": t("digest.title", lang, week=week),
        "intro": t("digest.intro", lang, date=summary.as_of.isoformat(), currency=summary.currency),
        "headline": [headline[i:i + 3] for i in range(0, len(headline), 3)],  # three figures a row
        "at_risk": _at_risk(summary),
        "open_deals": t("digest.open_deals", lang, count=f"{count:,}", amount=_money(amount),
                        weighted=_money(weighted)),
        "h": {k: t(f"digest.{k}", lang) for k in ("funnel", "forecast", "changes", "alerts", "issues",
                                                    "no_alerts", "no_changes", "no_issues", "footer",
                                                    "at_risk", "no_risk")},
        "col": {k: t(f"col.{k}", lang) for k in ("stage", "count", "amount", "weighted", "month", "target", "gap",
                                                   "customer", "severity", "message", "change", "rep_name")},
        "col_errors": t("severity.error", lang), "col_warnings": t("severity.warning", lang),
        "funnel": funnel_rows,
        "forecast": forecast_rows,
        "changes": change_rows,
        "alert_people": alert_people,
        "issue_people": issue_people,
        # Each rep's latest key events and market news (weekly.py's section), for the weekly review.
        "notes": _latest_notes(summary),
        "notes_title": t("weekly.title.digest", lang), "notes_events": t("weekly.col.key_events", lang),
        "notes_news": t("weekly.col.market_news", lang),
    }


def _latest_notes(summary: Summary) -> list[dict[str, str]]:
    latest: dict[str, dict] = {}
    for n in summary.sections.get("weekly", {}).get("notes", []):
        if n["rep"] not in latest or n["week"] > latest[n["rep"]]["week"]:
            latest[n["rep"]] = n
    return [{"rep": n["rep"], "name": n["rep_name"], "week": n["week"], "key_events": n["key_events"],
             "market_news": n["market_news"]} for _, n in sorted(latest.items())]


def render_digest(summary: Summary) -> str:
    return _env().get_template(TEMPLATE).render(**digest_context(summary))


def digest_path(reports: Path, summary: Summary) -> Path:
    return reports / f"digest-{iso_week(summary.as_of)}.html"


def check_digest(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    if not text.rstrip().endswith("</html>") or "<script" in text.lower():
        raise DigestCheckError(f"{path.name}: not a complete, script-free HTML page")


def write_digest(summary: Summary, reports: Path, policy: ReplacePolicy | None = None,
                 problems: list[OutputProblem] | None = None) -> Path:
    """Write ``reports/digest-<week>.html`` atomically; returns where it went."""
    from .write import atomic_write  # write imports the analysis; keep this module light to import

    html = render_digest(summary)
    return atomic_write(digest_path(reports, summary), lambda tmp: tmp.write_text(html, encoding="utf-8"),
                        check_digest, policy, problems)
