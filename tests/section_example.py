"""A capability module as ``sheetsales.analyses.sections`` expects one (used by tests/test_sections.py)."""

from __future__ import annotations

from sheetsales.analyses.sections import Book, Inputs, PersonTable
from sheetsales.method import rules
from sheetsales.outputs.write import Col

KEY = "example"
FEEDBACK = (PersonTable("per_rep", "rep"), PersonTable("per_rep_team", "rep", scope=True))
COLS = (Col("rep", "col.rep", width=8), Col("count", "col.count", "int", 9, "sum"))


def analyse(inputs: Inputs) -> dict[str, list[dict]]:
    per_rep: dict[str, int] = {}
    for opp in inputs.summary.opportunities:
        per_rep[opp["rep"]] = per_rep.get(opp["rep"], 0) + 1
    records = [{"rep": rep, "count": n} for rep, n in sorted(per_rep.items())]
    return {"per_rep": records, "per_rep_team": records}


def alerts(inputs: Inputs, tables: dict[str, list[dict]]) -> list[rules.Alert]:
    return [rules.Alert("no-activity", "", (r["rep"],), {"days": 99, "customer": "示例"}, rep=r["rep"], customer="示例") for r in tables["per_rep"]]


def summary_sheets(book: Book, tables: dict[str, list[dict]], summary: object) -> None:
    w = book.sheet("Example")
    w.title("Example", book.subtitle)
    w.table("ExamplePerRep", COLS, tables["per_rep"])
    w.finish()


def feedback_sheets(book: Book, tables: dict[str, list[dict]], person: dict) -> None:
    w = book.sheet("Example")
    w.table("MyExample", COLS, tables["per_rep"] + tables["per_rep_team"])
    w.finish()
