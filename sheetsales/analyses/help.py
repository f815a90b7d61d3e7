"""Help alarms (困难报警) and the experience pool (经验池).

A person raises a help request about one of their deals in their own help workbook (sheet
我的求助 / My requests: a number of their own, the customer, what is wrong, what was tried). The
request is known everywhere as ``<requester id>-<no>`` (``R01-3``). Colleagues answer in *their own*
help workbook (我的解答 / My answers) against that number; nobody writes into anyone else's file.
Only the requester can mark an answer effective (方法有效): they put the answerer's person id in the
request's row, which closes the request and stops its clock. Closed requests and their effective
answers are the company's experience pool.

Every time is the system's: a request is raised the day its row was first observed, answered the
day an answer to it was first observed, resolved the day the effective mark was first observed; the
dates people type are shown, never trusted for the clock. Everything is computed from the store as
of ``as_of``.

Tables (``report --json`` key ``help``): ``open`` (open requests: age, deal, amount, stage),
``pool`` (the experience pool), ``answers``, ``figures`` (one record), ``helpers`` (the helper
ranking), ``by_stage``, ``by_person``, ``answerable`` (each person's open requests they could
answer; the customer is shown only to readers whose scope holds the requester). Alert:
``help-unanswered`` once a request has gone ``help_answer_days`` days without an answer.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from ..i18n import t
from ..issues import Issue
from ..method import rules, scopes
from ..outputs.write import Col
from ..reading.names import normalise_customer
from ..reading.read import RawWorkbook, col_letter, read_table
from ..reading.specs import HELP_ANSWERS_TABLE, HELP_REQUESTS_TABLE
from ..reading.validate import validate_table
from ..storage.store import Store, help_answers, help_requests
from .sections import Book, Inputs, PersonTable

KEY = "help"
FEEDBACK = (PersonTable("open", "rep", scope=True), PersonTable("answerable", "reader"),
            PersonTable("answers", "author"), PersonTable("ranking", "reader"))


# --------------------------------------------------------------------------------------------
# Reading and recording a help workbook (called by ingest for kind "help")
# --------------------------------------------------------------------------------------------
def read_help(raw: RawWorkbook, playbook: Any, lang: str, parsed: Any, as_of: dt.date | None = None) -> None:
    """Both sheets of a help workbook, validated, into ``parsed.tables``."""
    for table in (HELP_REQUESTS_TABLE, HELP_ANSWERS_TABLE):
        rt, found = read_table(raw, table)
        parsed.issues += found
        if rt is None:
            continue
        parsed.sheets[table.key] = rt.sheet
        records, found = validate_table(rt, table, raw.label, playbook, lang, as_of=as_of,
                                        normalise=lambda _k, v: request_id(v) if isinstance(v, str) else v)
        parsed.issues += found
        parsed.tables[table.key] = records


def store_help(conn: Any, store: Store, fv_id: int, as_of: dt.date, parsed: Any) -> None:
    base = {"file_version_id": fv_id, "observed_on": as_of}
    store.add_rows(conn, help_requests, [
        {**base, "rep": parsed.rep, "file": parsed.label, "sheet": parsed.sheets["help_requests"], "row": r.row,
         "no": r.values["no"], "customer": r.values["customer"],
         "customer_norm": normalise_customer(r.values["customer"]), "category": r.values["category"],
         "reason": r.values["reason"], "tried": r.values["tried"], "keyword": r.values["keyword"],
         "effective": person_id(r.values["effective"]), "date": r.values["date"]}
        for r in parsed.tables.get("help_requests", [])
    ])
    store.add_rows(conn, help_answers, [
        {**base, "author": parsed.rep, "file": parsed.label, "sheet": parsed.sheets["help_answers"], "row": r.row,
         "request": request_id(r.values["request"]),
         "answer": r.values["answer"], "date": r.values["date"]}
        for r in parsed.tables.get("help_answers", [])
    ])


def request_id(text: str | None) -> str:
    """A request number as typed ("r01 - 3", "R01-03") in its one spelling: "R01-3"."""
    s = re.sub(r"\s+", "", str(text or "")).upper()
    m = re.match(r"^(.+?)-0*(\d+)$", s)
    return f"{m.group(1)}-{int(m.group(2))}" if m else s


def person_id(text: str | None) -> str | None:
    s = str(text or "").strip().upper()
    return s or None


# --------------------------------------------------------------------------------------------
# Analysis
# --------------------------------------------------------------------------------------------
def _first_seen(rows: list[dict], key: Any) -> dict[Any, dt.date]:
    out: dict[Any, dt.date] = {}
    for r in rows:
        k = key(r)
        if k is not None and (k not in out or r["observed_on"] < out[k]):
            out[k] = r["observed_on"]
    return out


def _deal_of(inputs: Inputs, rep: str, customer_norm: str, category: str | None) -> Any:
    """The requester's deal the request names (their claim or a deal they own now), or None."""
    found = [d for d in inputs.ctx.deals.values()
             if (d.rep == rep or d.owner == rep) and d.customer_norm == customer_norm
             and (not category or d.category == category)]
    found.sort(key=lambda d: (d.status != "open", d.key))
    return found[0] if found else None


def _days(a: dt.date | None, b: dt.date | None) -> int | None:
    return (b - a).days if a is not None and b is not None else None


def _mean(values: list[int]) -> float | None:
    return round(sum(values) / len(values), 1) if values else None


def analyse(inputs: Inputs) -> dict[str, list[dict]]:
    store, as_of, lang, people = inputs.store, inputs.as_of, inputs.lang, inputs.people
    history_req = store.rows(help_requests, as_of)
    history_ans = store.rows(help_answers, as_of)
    current_req = store.latest_version_rows(help_requests, as_of)
    current_ans = store.latest_version_rows(help_answers, as_of)
    raised = _first_seen(history_req, lambda r: f"{r['rep']}-{r['no']}")
    marked = _first_seen(history_req, lambda r: (f"{r['rep']}-{r['no']}", r["effective"]) if r["effective"] else None)
    answered = _first_seen(history_ans, lambda r: (r["request"], r["author"]))

    def name(pid: str) -> str:
        return people.get(pid, {}).get("rep_name", pid)

    requests: dict[str, dict] = {}
    for r in current_req:
        rid = f"{r['rep']}-{r['no']}"
        deal = _deal_of(inputs, r["rep"], r["customer_norm"], r["category"])
        stage = deal.evidenced if deal else None
        requests[rid] = {
            "request": rid, "rep": r["rep"], "rep_name": name(r["rep"]), "customer": r["customer"],
            "category": r["category"] or (deal.category if deal else ""), "deal": deal.key if deal else "",
            "amount": deal.amount if deal else None, "stage_order": stage,
            "stage": inputs.ctx.stage_name(stage, lang) if stage else "", "reason": r["reason"],
            "tried": r["tried"] or "", "keyword": r["keyword"] or "", "date": r["date"],
            "raised": raised[rid], "effective": r["effective"] or "",
            "_at": (r["file"], r["sheet"], f"{_letter(HELP_REQUESTS_TABLE, 'effective')}{r['row']}"),
        }
    answers: list[dict] = []
    by_request: dict[str, list[dict]] = {}
    found: list[Issue] = []  # data issues of the help workbooks, beside the ingest's
    for a in current_ans:
        req = requests.get(a["request"])
        status = "unknown" if req is None else ("own" if req["rep"] == a["author"] else "")
        if req is None:
            found.append(Issue("help-unknown-request", a["file"], a["sheet"],
                               f"{_letter(HELP_ANSWERS_TABLE, 'request')}{a['row']}", {"request": a["request"]},
                               a["author"]))
        first = answered[(a["request"], a["author"])]
        if req is not None:
            first = max(first, req["raised"])  # an answer typed before the request existed counts from then
        record = {"request": a["request"], "author": a["author"], "author_name": name(a["author"]),
                  "requester": req["rep"] if req else "", "answer": a["answer"],
                  "answered": first, "status": status}
        answers.append(record)
        if not status:
            by_request.setdefault(a["request"], []).append(record)
    open_, pool = [], []
    for rid, req in requests.items():
        given = sorted(by_request.get(rid, []), key=lambda a: (a["answered"], a["author"]))
        first_answer = given[0]["answered"] if given else None
        winner = next((a for a in given if a["author"] == req["effective"]), None)
        req.update(answers=len(given), first_answer=first_answer,
                   days_to_first_answer=_days(req["raised"], first_answer))
        if winner is not None:
            resolved = max(marked.get((rid, req["effective"]), as_of), winner["answered"])
            winner["status"] = "effective"
            pool.append({**req, "helper": winner["author"], "helper_name": winner["author_name"],
                         "answer": winner["answer"], "resolved": resolved,
                         "days_to_resolve": _days(req["raised"], resolved)})
        else:
            open_.append({**req, "age_days": _days(req["raised"], as_of),
                          "mark_problem": bool(req["effective"])})  # marked someone who has not answered
            if req["effective"]:
                found.append(Issue("help-effective-without-answer", *req["_at"],
                                   {"request": rid, "person": req["effective"]}, req["rep"]))
    for a in answers:
        if not a["status"]:
            a["status"] = "closed" if any(p["request"] == a["request"] for p in pool) else "open"
    for r in [*open_, *pool, *requests.values()]:
        r.pop("_at", None)
    inputs.summary.issues += [{**i.as_record(lang), "rep_name": name(i.rep), "observed_on": as_of} for i in found]
    open_.sort(key=lambda r: (-(r["age_days"] or 0), r["request"]))
    pool.sort(key=lambda r: (r["stage_order"] or 99, r["keyword"].casefold(), r["request"]))
    total = len(requests)
    supported = sum(1 for r in requests.values() if r["answers"])
    figures = [{
        "requests": total, "open": len(open_), "closed": len(pool), "answered": supported,
        "support_rate": round(supported / total, 4) if total else None,
        "resolution_rate": round(len(pool) / total, 4) if total else None,
        "avg_days_to_first_answer": _mean([r["days_to_first_answer"] for r in requests.values()
                                           if r["days_to_first_answer"] is not None]),
        "avg_days_to_resolve": _mean([r["days_to_resolve"] for r in pool]),
    }]
    return {
        "open": open_, "pool": pool, "answers": answers, "figures": figures,
        "helpers": _helpers(answers, name), "by_stage": _by_stage(inputs, requests, pool),
        "by_person": _by_person(requests, pool, name),
        "answerable": _answerable(inputs, open_, by_request),
        "ranking": _ranking(inputs, _helpers(answers, name)),
    }


def _letter(table: Any, key: str) -> str:
    """The column letter of ``key`` in a template table (its columns start at A)."""
    return col_letter(next(i for i, c in enumerate(table.columns) if c.key == key))


def _helpers(answers: list[dict], name: Any) -> list[dict]:
    counts: dict[str, dict] = {}
    for a in answers:
        if a["status"] in ("unknown", "own"):
            continue
        c = counts.setdefault(a["author"], {"author": a["author"], "author_name": name(a["author"]),
                                            "answers": 0, "effective": 0})
        c["answers"] += 1
        c["effective"] += a["status"] == "effective"
    ranked = sorted(counts.values(), key=lambda c: (-c["effective"], -c["answers"], c["author"]))
    for rank, c in enumerate(ranked, start=1):
        c["rank"] = rank
    return ranked


def _by_stage(inputs: Inputs, requests: dict[str, dict], pool: list[dict]) -> list[dict]:
    closed = {p["request"] for p in pool}
    out: dict[Any, dict] = {}
    for r in requests.values():
        key = r["stage_order"] or 0
        c = out.setdefault(key, {"stage_order": r["stage_order"], "stage": r["stage"] or t("help.no_deal", inputs.lang),
                                 "requests": 0, "open": 0, "closed": 0})
        c["requests"] += 1
        c["closed" if r["request"] in closed else "open"] += 1
    return [out[k] for k in sorted(out)]


def _by_person(requests: dict[str, dict], pool: list[dict], name: Any) -> list[dict]:
    closed = {p["request"] for p in pool}
    out: dict[str, dict] = {}
    for r in requests.values():
        c = out.setdefault(r["rep"], {"rep": r["rep"], "rep_name": name(r["rep"]), "requests": 0, "open": 0,
                                      "closed": 0})
        c["requests"] += 1
        c["closed" if r["request"] in closed else "open"] += 1
    return sorted(out.values(), key=lambda c: (-c["requests"], c["rep"]))


def _answerable(inputs: Inputs, open_: list[dict], by_request: dict[str, list[dict]]) -> list[dict]:
    """For every person, the open requests of others they could answer. The customer and deal are
    shown only to a reader whose scope holds the requester; the others see the problem itself."""
    out = []
    every = scopes.all_scopes(inputs.people)
    for reader in inputs.people:
        seen = every[reader]
        for req in open_:
            if req["rep"] == reader:
                continue
            visible = req["rep"] in seen
            out.append({
                "reader": reader, "request": req["request"], "rep": req["rep"] if visible else "",
                "rep_name": req["rep_name"] if visible else "", "customer": req["customer"] if visible else "",
                "deal": req["deal"] if visible else "", "stage": req["stage"], "amount": req["amount"],
                "reason": req["reason"], "tried": req["tried"], "keyword": req["keyword"],
                "age_days": req["age_days"],
                "answered_by_you": any(a["author"] == reader for a in by_request.get(req["request"], [])),
            })
    return out


RANKING_TOP = 10  # helpers shown in each person's ranking (their own place is always shown)


def _ranking(inputs: Inputs, helpers: list[dict]) -> list[dict]:
    """Each person's view of the helper ranking: the top helpers and their own place, named when the
    reader's level has named rankings or the helper is in their scope, anonymised otherwise."""
    out = []
    every = scopes.all_scopes(inputs.people)
    for reader, person in inputs.people.items():
        seen = every[reader]
        for h in helpers:
            if h["rank"] > RANKING_TOP and h["author"] != reader:
                continue
            named = person.get("named", False) or h["author"] in seen
            out.append({"reader": reader, "rank": h["rank"], "author": h["author"] if named else "",
                        "author_name": h["author_name"] if named else "", "answers": h["answers"],
                        "effective": h["effective"], "you": h["author"] == reader})
    return out


def alerts(inputs: Inputs, tables: dict[str, list[dict]]) -> list[rules.Alert]:
    days = int(inputs.playbook.settings.get("help_answer_days", 2) or 0)
    return [
        rules.Alert("help-unanswered", r["deal"] or r["request"], (r["rep"],),
                    {"request": r["request"], "customer": r["customer"], "days": r["age_days"], "limit": days},
                    rep=r["rep"], customer=r["customer"])
        for r in tables.get("open", []) if not r["answers"] and r["age_days"] > days
    ]


# --------------------------------------------------------------------------------------------
# Sheets
# --------------------------------------------------------------------------------------------
OPEN_COLS = (Col("request", "col.request", width=10, total="count"), Col("rep", "col.rep", width=8),
             Col("rep_name", "col.rep_name", width=10), Col("customer", "col.customer", width=26),
             Col("deal", "col.deal", width=14), Col("stage", "col.stage", width=12),
             Col("amount", "col.amount", "money", 14, "sum"), Col("reason", "col.help_reason", width=36),
             Col("tried", "col.help_tried", width=28), Col("keyword", "col.keyword", width=10),
             Col("raised", "col.raised", "date", 12), Col("age_days", "col.age_days", "int", 8),
             Col("answers", "col.answers", "int", 8, "sum"))
POOL_COLS = (Col("stage", "col.stage", width=12), Col("keyword", "col.keyword", width=10),
             Col("request", "col.request", width=10, total="count"), Col("rep_name", "col.rep_name", width=10),
             Col("customer", "col.customer", width=24), Col("reason", "col.help_reason", width=34),
             Col("answer", "col.effective_answer", width=50), Col("helper_name", "col.helper", width=10),
             Col("raised", "col.raised", "date", 12), Col("resolved", "col.resolved", "date", 12),
             Col("days_to_resolve", "col.days_to_resolve", "int", 10))
FIGURE_COLS = (Col("requests", "col.requests", "int", 10), Col("open", "col.open", "int", 8),
               Col("closed", "col.closed", "int", 8), Col("support_rate", "col.support_rate", "percent", 12),
               Col("resolution_rate", "col.resolution_rate", "percent", 12),
               Col("avg_days_to_first_answer", "col.avg_first_answer", "number", 16),
               Col("avg_days_to_resolve", "col.avg_resolve", "number", 16))
HELPER_COLS = (Col("rank", "col.rank", "int", 6), Col("author", "col.person", width=8),
               Col("author_name", "col.rep_name", width=10), Col("answers", "col.answers", "int", 10, "sum"),
               Col("effective", "col.effective_answers", "int", 12, "sum"))
STAGE_COLS = (Col("stage", "col.stage", width=14), Col("requests", "col.requests", "int", 10, "sum"),
              Col("open", "col.open", "int", 8, "sum"), Col("closed", "col.closed", "int", 8, "sum"))
PERSON_COLS = (Col("rep", "col.rep", width=8), Col("rep_name", "col.rep_name", width=10),
               Col("requests", "col.requests", "int", 10, "sum"), Col("open", "col.open", "int", 8, "sum"),
               Col("closed", "col.closed", "int", 8, "sum"))
ANSWERABLE_COLS = (Col("request", "col.request", width=10, total="count"), Col("rep_name", "col.rep_name", width=10),
                   Col("customer", "col.customer", width=24), Col("stage", "col.stage", width=12),
                   Col("amount", "col.amount", "money", 14), Col("reason", "col.help_reason", width=36),
                   Col("tried", "col.help_tried", width=28), Col("keyword", "col.keyword", width=10),
                   Col("age_days", "col.age_days", "int", 8), Col("answered_label", "col.answered_by_you", width=10))
RANKING_COLS = HELPER_COLS + (Col("you_label", "col.you", width=8),)
ANSWER_COLS = (Col("request", "col.request", width=10, total="count"), Col("answer", "col.help_answer", width=60),
               Col("answered", "col.answered", "date", 12), Col("status_label", "col.status", width=14))


def _labelled(records: list[dict], lang: str) -> list[dict]:
    return [{**r, "status_label": t(f"help.status.{r['status']}", lang)} for r in records]


def summary_sheets(book: Book, tables: dict[str, list[dict]], summary: Any) -> None:
    lang = book.lang
    w = book.sheet(t("sheet.help", lang))
    w.title(t("title.help", lang), book.subtitle)
    w.heading(t("title.help_figures", lang))
    w.table("HelpFigures", FIGURE_COLS, tables.get("figures", []), total=False)
    w.heading(t("title.help_open", lang))
    w.table("HelpOpen", OPEN_COLS, tables.get("open", []))
    w.heading(t("title.help_helpers", lang))
    w.table("HelpHelpers", HELPER_COLS, tables.get("helpers", []))
    w.heading(t("title.help_by_stage", lang))
    w.table("HelpByStage", STAGE_COLS, tables.get("by_stage", []))
    w.heading(t("title.help_by_person", lang))
    w.table("HelpByPerson", PERSON_COLS, tables.get("by_person", []))
    w.finish()
    w = book.sheet(t("sheet.pool", lang))
    w.title(t("title.pool", lang), book.subtitle)
    w.table("ExperiencePool", POOL_COLS, tables.get("pool", []))
    w.finish()


def feedback_sheets(book: Book, tables: dict[str, list[dict]], person: dict) -> None:
    lang = book.lang
    w = book.sheet(t("sheet.help", lang))
    w.title(t("title.help", lang), book.subtitle)
    w.heading(t("title.help_answerable", lang))
    yes, no = t("yes", lang), ""
    w.table("HelpAnswerable", ANSWERABLE_COLS,
            [{**r, "answered_label": yes if r["answered_by_you"] else no} for r in tables.get("answerable", [])])
    w.heading(t("title.help_mine", lang))
    w.table("HelpMine", OPEN_COLS, tables.get("open", []))
    w.heading(t("title.help_my_answers", lang))
    w.table("HelpMyAnswers", ANSWER_COLS, _labelled(tables.get("answers", []), lang))
    w.heading(t("title.help_ranking", lang))
    w.table("HelpRanking", RANKING_COLS, [{**r, "you_label": yes if r["you"] else no}
                                          for r in tables.get("ranking", [])])
    w.finish()
