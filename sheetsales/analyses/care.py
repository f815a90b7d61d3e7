"""Customer cards (客户信息收集卡), reminders and the decider check.

Each rep keeps one customer-cards workbook (kind ``cards``): a row per customer (founding date, who
referred them, signing date, revisit interval), per key person (buying role, phone, birthday), per
installed machine, per planned purchase and per promised appointment, all matched by customer name.

Reminders look ``reminder_days`` days ahead (playbook setting, default 3), from ``as_of``:

- ``reminder-appointment`` an appointment on the card falls in the window;
- ``reminder-birthday`` a key person's birthday (any year; 29 February is kept on the 28th);
- ``reminder-anniversary`` the customer's founding date comes round;
- ``reminder-revisit`` a signed customer is due a revisit: the signing date plus a whole number of
  revisit intervals.

``no-decider``: an open deal whose evidenced stage is past the playbook's ``influence_stage`` and
whose customer has a card (anyone's) that names no decider (决定者). A customer with no card at all
is not flagged: the card is where the buying roles are recorded.

Tables (``report --json`` key ``reminders``): ``reminders``, ``no_decider``, ``cards`` (one summary
row per card). The referral view is :mod:`sheetsales.analyses.referrals`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ..i18n import t
from ..method import rules
from ..outputs.write import Col
from ..reading.names import normalise_customer
from ..reading.read import RawWorkbook, read_table
from ..reading.specs import (
    BUYING_ROLES,
    CARDS_SPEC,
    choice_label,
)
from ..reading.validate import validate_table
from ..storage.store import Store, card_appointments, card_customers, card_equipment, card_people, card_plans
from .sections import Book, Inputs, PersonTable

KEY = "reminders"
FEEDBACK = (PersonTable("reminders", "rep", scope=True), PersonTable("no_decider", "rep", scope=True),
            PersonTable("cards", "rep"))
KINDS = ("appointment", "birthday", "anniversary", "revisit")
STORE_TABLES = {"card_customers": card_customers, "card_people": card_people, "card_equipment": card_equipment,
                "card_plans": card_plans, "card_appointments": card_appointments}


# --------------------------------------------------------------------------------------------
# Reading and recording a cards workbook (called by ingest for kind "cards")
# --------------------------------------------------------------------------------------------
def _customer_key(key: str, value: Any) -> Any:
    if key == "customer":
        return normalise_customer(str(value or ""))
    return value.strip().casefold() if isinstance(value, str) else value


def read_cards(raw: RawWorkbook, playbook: Any, lang: str, parsed: Any, as_of: dt.date | None = None) -> None:
    """Every sheet of a customer-cards workbook, validated, into ``parsed.tables``."""
    for table in CARDS_SPEC.sheets:
        rt, found = read_table(raw, table)
        parsed.issues += found
        if rt is None:
            continue
        parsed.sheets[table.key] = rt.sheet
        records, found = validate_table(rt, table, raw.label, playbook, lang, normalise=_customer_key, as_of=as_of)
        parsed.issues += found
        parsed.tables[table.key] = records


def store_cards(conn: Any, store: Store, fv_id: int, as_of: dt.date, parsed: Any) -> None:
    for key, table in STORE_TABLES.items():
        spec = CARDS_SPEC.table(key)
        rows = []
        for r in parsed.tables.get(key, []):
            row = {"file_version_id": fv_id, "observed_on": as_of, "rep": parsed.rep, "row": r.row,
                   **{c.key: r.values[c.key] for c in spec.columns},
                   "customer_norm": normalise_customer(r.values["customer"])}
            if key == "card_customers":
                row["referred_norm"] = normalise_customer(r.values["referred_by"]) if r.values["referred_by"] else None
            rows.append(row)
        store.add_rows(conn, table, rows)


def current_cards(store: Store, as_of: dt.date) -> dict[str, list[dict]]:
    """Every card sheet's rows as the latest version of each rep's workbook holds them."""
    return {key: store.latest_version_rows(table, as_of) for key, table in STORE_TABLES.items()}


# --------------------------------------------------------------------------------------------
# Dates
# --------------------------------------------------------------------------------------------
def next_yearly(day: dt.date, on_or_after: dt.date) -> dt.date:
    """The first return of ``day``'s month and day on or after ``on_or_after`` (29 Feb → 28 Feb)."""
    for year in (on_or_after.year, on_or_after.year + 1):
        try:
            candidate = day.replace(year=year)
        except ValueError:
            candidate = dt.date(year, 2, 28)
        if candidate >= on_or_after:
            return candidate
    raise AssertionError("unreachable")


def next_revisit(signed: dt.date, every: int, on_or_after: dt.date) -> dt.date:
    """The first revisit (signing day + k × ``every`` days, k ≥ 1) on or after ``on_or_after``."""
    k = max(1, -(-(on_or_after - signed).days // every))
    return signed + dt.timedelta(days=k * every)


# --------------------------------------------------------------------------------------------
# Analysis
# --------------------------------------------------------------------------------------------
def reminders(cards: dict[str, list[dict]], as_of: dt.date, days: int, lang: str,
              name: Any = lambda p: p) -> list[dict]:
    """The reminders due in ``[as_of, as_of + days]``, soonest first."""
    end = as_of + dt.timedelta(days=days)
    out: list[dict] = []

    def add(kind: str, rep: str, customer: str, when: dt.date, who: str = "", detail: str = "",
            years: int | None = None) -> None:
        if as_of <= when <= end:
            out.append({"rep": rep, "rep_name": name(rep), "kind": kind, "date": when, "in_days": (when - as_of).days,
                        "customer": customer, "who": who, "detail": detail, "years": years})

    for a in cards["card_appointments"]:
        add("appointment", a["rep"], a["customer"], a["date"], a["person"] or "",
            " ".join(x for x in (a["time"], a["purpose"]) if x))
    for p in cards["card_people"]:
        if p["birthday"]:
            when = next_yearly(p["birthday"], as_of)
            role = choice_label(BUYING_ROLES, p["role"], lang) if p["role"] in BUYING_ROLES else ""
            add("birthday", p["rep"], p["customer"], when, p["name"], " ".join(x for x in (p["title"], role) if x),
                when.year - p["birthday"].year)
    for c in cards["card_customers"]:
        if c["founded"]:
            when = next_yearly(c["founded"], as_of)
            add("anniversary", c["rep"], c["customer"], when, years=when.year - c["founded"].year)
        if c["signed"] and c["revisit_days"]:
            add("revisit", c["rep"], c["customer"], next_revisit(c["signed"], c["revisit_days"], as_of),
                detail=t("care.revisit_every", lang, days=c["revisit_days"]))
    out.sort(key=lambda r: (r["date"], KINDS.index(r["kind"]), r["rep"], r["customer"], r["who"]))
    return out


def analyse(inputs: Inputs) -> dict[str, list[dict]]:
    lang, people = inputs.lang, inputs.people
    cards = current_cards(inputs.store, inputs.as_of)

    def name(pid: str) -> str:
        return people.get(pid, {}).get("rep_name", pid)

    days = int(inputs.playbook.settings.get("reminder_days", 3) or 0)
    due = reminders(cards, inputs.as_of, days, lang, name)
    for r in due:
        r["kind_label"] = t(f"care.kind.{r['kind']}", lang)
    deciders: dict[str, list[str]] = {}
    for p in cards["card_people"]:
        if p["role"] == "decider":
            deciders.setdefault(p["customer_norm"], []).append(p["name"])
    carded = {r["customer_norm"] for key in ("card_customers", "card_people") for r in cards[key]}
    influence = int(inputs.playbook.settings.get("influence_stage", 5) or 0)
    no_decider = [
        {"deal": d.key, "rep": d.owner, "rep_name": name(d.owner), "customer": d.customer, "category": d.category,
         "stage_order": d.evidenced, "stage": inputs.ctx.stage_name(d.evidenced, lang), "amount": d.amount}
        for d in inputs.ctx.deals.values()
        if d.status == "open" and not d.small and d.evidenced > influence and d.customer_norm in carded
        and d.customer_norm not in deciders
    ]
    no_decider.sort(key=lambda r: (r["rep"], -r["stage_order"], r["customer"]))
    return {"reminders": due, "no_decider": no_decider, "cards": _card_rows(cards, deciders, inputs.as_of, name)}


def _card_rows(cards: dict[str, list[dict]], deciders: dict[str, list[str]], as_of: dt.date, name: Any) -> list[dict]:
    count: dict[tuple[str, str, str], int] = {}
    budget: dict[tuple[str, str], float] = {}
    next_meeting: dict[tuple[str, str], dt.date] = {}
    for key in ("card_people", "card_equipment", "card_plans"):
        for r in cards[key]:
            count[(key, r["rep"], r["customer_norm"])] = count.get((key, r["rep"], r["customer_norm"]), 0) + 1
    for r in cards["card_plans"]:
        budget[(r["rep"], r["customer_norm"])] = budget.get((r["rep"], r["customer_norm"]), 0) + (r["budget"] or 0)
    for r in cards["card_appointments"]:
        k = (r["rep"], r["customer_norm"])
        if r["date"] >= as_of and (k not in next_meeting or r["date"] < next_meeting[k]):
            next_meeting[k] = r["date"]
    out = []
    for c in cards["card_customers"]:
        k = (c["rep"], c["customer_norm"])
        out.append({
            "rep": c["rep"], "rep_name": name(c["rep"]), "customer": c["customer"], "founded": c["founded"],
            "signed": c["signed"], "revisit_days": c["revisit_days"], "referred_by": c["referred_by"] or "",
            "people": count.get(("card_people", *k), 0), "deciders": ", ".join(deciders.get(c["customer_norm"], [])),
            "equipment": count.get(("card_equipment", *k), 0), "plans": count.get(("card_plans", *k), 0),
            "planned_budget": budget.get(k, 0.0), "next_appointment": next_meeting.get(k),
        })
    out.sort(key=lambda r: (r["rep"], r["customer"]))
    return out


def alerts(inputs: Inputs, tables: dict[str, list[dict]]) -> list[rules.Alert]:
    found = [
        rules.Alert(f"reminder-{r['kind']}", "", (r["rep"],),
                    {"customer": r["customer"], "date": r["date"], "days": r["in_days"], "who": r["who"] or "-",
                     "detail": r["detail"] or "-", "years": r["years"] if r["years"] is not None else "-"},
                    rep=r["rep"], customer=r["customer"])
        for r in tables.get("reminders", [])
    ]
    influence = int(inputs.playbook.settings.get("influence_stage", 5) or 0)
    found += [
        rules.Alert("no-decider", r["deal"], (r["rep"],),
                    {"customer": r["customer"], "stage": r["stage"],
                     "influence": inputs.ctx.stage_name(influence, inputs.lang)},
                    rep=r["rep"], customer=r["customer"])
        for r in tables.get("no_decider", [])
    ]
    return found


# --------------------------------------------------------------------------------------------
# Sheets
# --------------------------------------------------------------------------------------------
REMINDER_COLS = (Col("date", "col.date", "date", 12), Col("in_days", "col.in_days", "int", 8),
                 Col("kind_label", "col.kind", width=10), Col("rep", "col.rep", width=8, total="count"),
                 Col("rep_name", "col.rep_name", width=10), Col("customer", "col.customer", width=26),
                 Col("who", "col.who", width=12), Col("detail", "col.detail", width=30), Col("years", "col.years", "int", 8))
NO_DECIDER_COLS = (Col("deal", "col.deal", width=14, total="count"), Col("rep", "col.rep", width=8),
                   Col("rep_name", "col.rep_name", width=10), Col("customer", "col.customer", width=26),
                   Col("stage", "col.stage", width=12), Col("amount", "col.amount", "money", 14, "sum"))
CARD_COLS = (Col("rep", "col.rep", width=8, total="count"), Col("rep_name", "col.rep_name", width=10),
             Col("customer", "col.customer", width=26), Col("founded", "col.founded", "date", 12),
             Col("signed", "col.signed", "date", 12), Col("revisit_days", "col.revisit_days", "int", 10),
             Col("referred_by", "col.referred_by", width=22), Col("people", "col.people", "int", 8, "sum"),
             Col("deciders", "col.deciders", width=14), Col("equipment", "col.equipment", "int", 8, "sum"),
             Col("plans", "col.plans", "int", 8, "sum"), Col("planned_budget", "col.planned_budget", "money", 14, "sum"),
             Col("next_appointment", "col.next_appointment", "date", 12))


def summary_sheets(book: Book, tables: dict[str, list[dict]], summary: Any) -> None:
    lang = book.lang
    w = book.sheet(t("sheet.care", lang))
    w.title(t("title.care", lang), book.subtitle)
    w.heading(t("title.reminders", lang))
    w.table("Reminders", REMINDER_COLS, tables.get("reminders", []))
    w.heading(t("title.no_decider", lang))
    w.table("NoDecider", NO_DECIDER_COLS, tables.get("no_decider", []))
    w.heading(t("title.cards", lang))
    w.table("CustomerCards", CARD_COLS, tables.get("cards", []))
    w.finish()


def feedback_sheets(book: Book, tables: dict[str, list[dict]], person: dict) -> None:
    lang = book.lang
    w = book.sheet(t("sheet.care", lang))
    w.title(t("title.care", lang), book.subtitle)
    w.heading(t("title.reminders", lang))
    w.table("MyReminders", REMINDER_COLS, tables.get("reminders", []))
    w.heading(t("title.no_decider", lang))
    w.table("MyNoDecider", NO_DECIDER_COLS, tables.get("no_decider", []))
    w.heading(t("title.cards", lang))
    w.table("MyCards", CARD_COLS, tables.get("cards", []))
    w.finish()
