"""Rep-facing templates, drawn from the column specifications.

Each template carries a very hidden ``_sheetsales`` sheet recording its kind,
version, workspace and rep (and the ISO week for a weekly report), so a renamed
or misfiled workbook is still attributed right. Drop-downs are fed from the
playbook through a hidden ``_lists`` sheet.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import xlsxwriter

from .. import __version__
from ..method.playbook import Person, Playbook
from .drawing import FIXED_CREATED, Formats, draw_form, draw_table, write_list_sheet, write_meta_sheet
from .specs import (
    LISTS_SHEET,
    META_SHEET,
    TEMPLATE_SPECS,
    TICK,
    Form,
    Table,
    TemplateSpec,
    log_table,
    mpc_table,
)

KINDS = tuple(TEMPLATE_SPECS)


def template_spec(kind: str, playbook: Playbook) -> TemplateSpec:
    """The template of ``kind`` for ``playbook``: the MPC list has one milestone tick per stage but the last."""
    spec = TEMPLATE_SPECS[kind]
    if kind == "mpc":
        sheets = tuple(mpc_table(len(playbook.stages)) if s.key == "mpc" else s for s in spec.sheets)
        return replace(spec, sheets=sheets)
    if kind == "weekly":  # the daily log has one tick per activity type of the playbook
        log = log_table(tuple((a.code, a.name_zh, a.name_en) for a in playbook.activity_types))
        return replace(spec, sheets=tuple(log if s.key == "log" else s for s in spec.sheets))
    return spec


def iso_week(day: dt.date) -> str:
    y, w, _ = day.isocalendar()
    return f"{y}-W{w:02d}"


def week_bounds(week: str) -> tuple[dt.date, dt.date]:
    """'2026-W47' -> (Monday, Sunday)."""
    year, w = week.upper().split("-W")
    monday = dt.date.fromisocalendar(int(year), int(w), 1)
    return monday, monday + dt.timedelta(days=6)


def _next_week(week: tuple[dt.date, dt.date] | None) -> tuple[dt.date, dt.date] | None:
    """The days of the week after ``week``: what a weekly report's plan sheet plans."""
    return (week[0] + dt.timedelta(days=7), week[1] + dt.timedelta(days=7)) if week else None


def template_filename(kind: str, lang: str, rep: str = "", week: str = "") -> str:
    spec = TEMPLATE_SPECS[kind]
    parts = [spec.name(lang).replace(" ", "_")]
    if rep:
        parts.append(rep)
    if week:
        parts.append(week)
    return "_".join(parts) + ".xlsx"


def build_template(
    path: Path,
    kind: str,
    playbook: Playbook,
    lang: str,
    *,
    rep: Person | None = None,
    workspace: str = "",
    week: str = "",
    lists: dict[str, list[str]] | None = None,
) -> Path:
    """Write the ``kind`` template for ``rep`` (blank when None) to ``path``.

    ``lists`` adds drop-down lists of the person's own (e.g. ``deal``: their customers, for the
    lost-deal report); a list that is empty gives its column no drop-down."""
    spec = template_spec(kind, playbook)
    wb = xlsxwriter.Workbook(str(path), {"in_memory": True})  # no temporary file per part: ~40 % of a build
    wb.set_properties({"title": spec.name(lang), "author": "sheetsales", "created": FIXED_CREATED})
    fmt = Formats(wb)
    sheets = [(s, wb.add_worksheet(s.name(lang))) for s in spec.sheets]
    sources: dict[str, str | list[str]] = dict(write_list_sheet(wb, LISTS_SHEET, {
        "stage": playbook.choice_list("stage", lang),
        "category": playbook.choice_list("category", lang),
        "status": playbook.choice_list("status", lang),
        "decision": playbook.choice_list("decision", lang),
        **({"lost_reason": playbook.choice_list("lost_reason", lang)} if kind == "lost" else {}),
        **({"yesno": playbook.choice_list("yesno", lang)} if kind == "mpc" else {}),
        **({"role": playbook.choice_list("role", lang)} if kind == "cards" else {}),
        **({"side": playbook.choice_list("side", lang)} if kind == "weekly" else {}),
        **{k: v for k, v in (lists or {}).items() if v},
    }))
    sources["tick"] = [TICK]
    # ``week`` is a weekly report's ISO week; a dated decisions workbook records its hand-out day there.
    date_range = week_bounds(week) if week and kind == "weekly" else None
    manager = playbook.person(rep.supervisor) if rep and rep.supervisor else None
    milestones = {f"m{s.order}": s.milestone_en if lang == "en" else s.milestone_zh for s in playbook.stages[:-1]}
    for sheet_spec, ws in sheets:
        if isinstance(sheet_spec, Table):
            draw_table(wb, ws, fmt, sheet_spec, lang, sources=sources, notes=milestones,
                       date_range=date_range if sheet_spec.key in ("log", "expenses") else
                       _next_week(date_range) if sheet_spec.key == "plan" else None)
        elif isinstance(sheet_spec, Form):
            values = {
                "week": week,
                "period": f"{date_range[0]} – {date_range[1]}" if date_range else "",
                "rep": f"{rep.id} {rep.name}" if rep else "",
                "manager": manager.name if manager else "",
            }
            draw_form(ws, fmt, sheet_spec, lang, values)
    write_meta_sheet(wb, META_SHEET, {
        "kind": kind,
        "version": spec.version,
        "lang": lang,
        "workspace": workspace,
        "rep": rep.id if rep else "",
        "rep_name": rep.name if rep else "",
        "week": week,
        "generator": f"sheetsales {__version__}",
    })
    sheets[0][1].activate()
    wb.close()
    return path


def build_committed_templates(out_dir: Path) -> list[Path]:
    """The blank templates of every kind and language, as committed in ``workbook_templates/``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for lang in ("zh-CN", "en"):
        playbook = Playbook.default(lang)
        for kind in KINDS:
            written.append(build_template(out_dir / f"{kind}.{lang}.xlsx", kind, playbook, lang))
    return written
