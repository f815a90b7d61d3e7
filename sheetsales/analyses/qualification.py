"""Qualification that screens (seed 001, DOMAIN.md §4): the nine answers per deal for the weekly review.

The MPC list's 资格审查 Qualification sheet holds each deal's nine answers in words and, beside the
screening questions, explicit yes/no columns (MPC template v3). The playbook's Questions sheet gives
the questions' text and the answer that rules a deal out (by default: a hard constraint against us,
yes; a budget, no; volume and margin at our minimum and floor, no). ``qualification`` lists every
open deal (small deals excepted) with its answers and a status: disqualified (a ruling-out answer,
``disqualified`` alert), unqualified (past the search state with questions unanswered: the core
``unqualified`` alert), qualified, or searching (in the search state, not all answered yet).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from ..i18n import t
from ..method import rules
from ..reading.specs import QUALIFICATION_SCREENS, YESNO_CHOICES, choice_label
from .sections import PersonTable
from .weekly import wrap_columns

if TYPE_CHECKING:
    from .analyse import Summary
    from .sections import Book, Inputs

KEY = "qualification"
FEEDBACK = (PersonTable("qualification", "rep", scope=True),)
SCREENS = {int(k[1:]): k for k, _, _ in QUALIFICATION_SCREENS}


def analyse(inputs: Inputs) -> dict[str, list[dict]]:
    lang, playbook, people = inputs.lang, inputs.playbook, inputs.people
    questions = {q.no: q for q in playbook.questions}
    rows = []
    for s in inputs.ctx.deals.values():
        if s.status != "open" or s.small or s.evidenced not in range(1, len(playbook.stages) + 1):
            continue
        answers = json.loads(s.row.get("qualification") or "{}")
        ruled_out = [n for n, key in SCREENS.items() if n in questions and questions[n].rules_out
                     and answers.get(key) == questions[n].rules_out]
        answered = sum(1 for n in range(1, 10) if answers.get(f"q{n}"))
        search = playbook.stage(s.claimed).funnel_state == "search"
        status = "disqualified" if ruled_out else "qualified" if answered >= 9 else \
            "searching" if search else "unqualified"
        p = people.get(s.owner, {})
        record = {"deal": s.key, "rep": s.owner, "rep_name": p.get("rep_name", s.owner), "customer": s.customer,
                  "category": s.category, "stage_order": s.evidenced, "stage": inputs.ctx.stage_name(s.evidenced, lang),
                  "amount": s.amount, "answered": answered, "status": status,
                  "status_label": t(f"qualification.status.{status}", lang),
                  "ruled_out": ", ".join(f"Q{n} {questions[n].text(lang)}" for n in ruled_out)}
        for n in range(1, 10):
            record[f"q{n}"] = answers.get(f"q{n}", "")
        for key in SCREENS.values():
            record[key] = choice_label(YESNO_CHOICES, answers[key], lang) if answers.get(key) in YESNO_CHOICES else ""
        rows.append(record)
    order = {"disqualified": 0, "unqualified": 1, "searching": 2, "qualified": 3}
    rows.sort(key=lambda r: (order[r["status"]], r["rep"], -r["amount"], r["customer"]))
    return {"qualification": rows,
            "questions": [{"no": q.no, "question": q.text(lang),
                           "rules_out": choice_label(YESNO_CHOICES, q.rules_out, lang) if q.rules_out else ""}
                          for q in playbook.questions]}


def alerts(inputs: Inputs, tables: dict[str, list[dict]]) -> list[rules.Alert]:
    out = []
    for r in tables["qualification"]:
        if r["status"] != "disqualified":
            continue
        out.append(rules.Alert("disqualified", r["deal"], rules._people(r["rep"], inputs.ctx.supervisor(r["rep"])),
                               {"customer": r["customer"], "deal": r["deal"], "answers": r["ruled_out"]},
                               rep=r["rep"], customer=r["customer"]))
    return out


def _cols() -> dict[str, tuple]:
    from ..outputs.write import Col

    deals = (Col("status_label", "qualification.col.status", width=12), Col("rep", "col.rep", width=7),
             Col("rep_name", "col.rep_name", width=10), Col("customer", "col.customer", width=26),
             Col("category", "col.category", width=12), Col("stage", "col.stage", width=12),
             Col("amount", "col.amount", "money", 14, "sum"), Col("answered", "qualification.col.answered", "int", 8),
             Col("ruled_out", "qualification.col.ruled_out", width=24),
             *(Col(f"q{n}", f"qualification.col.q{n}", "wrap", 18) for n in range(1, 10)),
             *(Col(key, f"qualification.col.{key}", width=10) for key in SCREENS.values()))
    questions = (Col("no", "col.stage_order", "int", 6), Col("question", "qualification.col.question", width=40),
                 Col("rules_out", "qualification.col.rules_out", width=12))
    return {"deals": deals, "questions": questions}


def summary_sheets(book: Book, tables: dict[str, list[dict]], summary: Summary) -> None:
    lang = book.lang
    cols = _cols()
    w = book.sheet(t("sheet.qualification", lang))
    w.title(t("title.qualification", lang), book.subtitle)
    w.heading(t("qualification.title.questions", lang))
    w.table("QualificationQuestions", cols["questions"], tables.get("questions", []))
    w.heading(t("qualification.title.deals", lang))
    first, _ = w.table("Qualification", cols["deals"], tables.get("qualification", []))
    wrap_columns(w, cols["deals"], first, tables.get("qualification", []))
    w.finish()


def feedback_sheets(book: Book, tables: dict[str, list[dict]], person: dict) -> None:
    rows = tables.get("qualification", [])
    if not rows:
        return
    w = book.sheet(t("sheet.qualification", book.lang))
    w.title(t("title.qualification", book.lang), book.subtitle)
    first, _ = w.table("MyQualification", _cols()["deals"], rows)
    wrap_columns(w, _cols()["deals"], first, rows)
    w.finish()
