"""Who owns which file: the folder is the identity.

The shared inbox gives each person write access to their own folder ``inbox/<id>/`` only, so
the folder, not anything inside the workbook, says whose file it is. ``ingest`` and ``check`` both
decide here:

- **Attribution** (:func:`attribute`). A workbook in ``inbox/<id>/`` is ``<id>``'s. Its hidden
  ``_sheetsales`` sheet only attributes a renamed file within its owner's folder: a workbook whose
  hidden sheet names anyone else (another rep, a supervisor) is ``foreign-workbook`` — archived,
  never applied, reported to the folder's owner (and so to the owner's supervisors) and, when the
  named person's supervisor is not above the owner, to that supervisor too. A workbook directly in
  ``inbox/`` (outside every person's folder) belongs to nobody: it is ``outside-folder`` — archived,
  never applied, reported to the person its hidden sheet names, if any, and in the summary.
- **One workbook per kind** (:func:`duplicates`). A person's folder holds one MPC list, one
  weekly report per ISO week and one decisions workbook per hand-out: the first at
  ``决策_<id>.xlsx``, then one dated ``决策_<id>_<YYYY-MM-DD>.xlsx`` each time sheetsales hands out a
  new one because deals wait that the saved one does not offer (:mod:`sheetsales.outputs.waiting`);
  each is read, none is a copy of another. When it holds more (a "Save As" copy
  beside the list), the one at the canonical name (``templates.template_filename``; the workspace
  language's name first, then the other language's) counts; when none is at a canonical name, the
  one whose path was recorded first counts (never recorded: by path). Every other one is
  ``duplicate-workbook``, naming both files: archived, never applied. Verdicts stick: a file is
  judged when a new content of it is read, and a file once recorded as a copy stays behind the
  others (so a copy stays ignored until it is removed, and the two never take turns); a blank
  template that the same run handed out (the person renamed their list, and ingest handed out a
  fresh one at the canonical name) stays behind the workbook the person fills.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

from ..issues import Issue
from ..method.playbook import Playbook
from .specs import TEMPLATE_SPECS
from .templates import template_filename

LANGS = ("zh-CN", "en")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class Member:
    """What a file in a person's folder is, as far as "one workbook per kind" goes."""

    label: str  # the path relative to the inbox, e.g. "R01/MPC一览表_R01.xlsx"
    kind: str = ""  # mpc | weekly | decisions; "" when unknown (unreadable, failed)
    rep: str = ""  # the person it is attributed to; "" when it is not (foreign, outside, unknown)
    week: str = ""  # the ISO week of a weekly report; the hand-out day of a dated decisions workbook
    first_seen: int | None = None  # the id of the path's first recorded version; None: never recorded
    was_copy: bool = False  # its latest recorded version was a copy (duplicate-workbook)
    handed_out: bool = False  # a blank template handed out by this very run


def folder_of(label: str) -> str:
    """The owner of ``label``'s folder ("" for a file directly in the inbox)."""
    parts = label.split("/")
    return parts[0] if len(parts) > 1 else ""


def in_folder(label: str) -> str:
    """``label`` relative to its person's folder (how the person sees it)."""
    parts = label.split("/")
    return "/".join(parts[1:]) if len(parts) > 1 else label


def supervisors_of(person: str, playbook: Playbook) -> list[str]:
    """Everybody above ``person`` through the supervisor chain, nearest first (cycles stop it)."""
    out: list[str] = []
    current = playbook.person(person)
    while current is not None and current.supervisor and current.supervisor not in out \
            and current.supervisor != person:
        out.append(current.supervisor)
        current = playbook.person(current.supervisor)
    return out


def attribute(label: str, kind: str, named: str, folder_rep: str, playbook: Playbook,
              in_inbox: bool) -> tuple[str, list[Issue]]:
    """(the person a workbook is attributed to, the identity issues); "" when it is never applied.

    ``named`` is the person the hidden sheet names ("" when none). Outside the inbox (a file given
    to ``sheetsales check`` elsewhere) there is no folder: the hidden sheet names the person.
    """
    if not in_inbox and not folder_rep:
        return named, []
    if not folder_rep:
        to = named if named and playbook.person(named) is not None else ""
        return "", [Issue("outside-folder", label, rep=to, params={"owner": named or "?"})]
    if named and named != folder_rep:
        params = {"owner": named, "folder": folder_rep, "kind": kind}
        issues = [Issue("foreign-workbook", label, rep=folder_rep, params=params)]
        boss = playbook.person(named).supervisor if playbook.person(named) else ""
        if boss and boss != folder_rep and boss not in supervisors_of(folder_rep, playbook):
            issues.append(Issue("foreign-workbook", label, rep=boss, params=params))
        return "", issues
    return folder_rep, []


def canonical_names(kind: str, folder_rep: str, week: str, lang: str) -> list[str]:
    """The canonical labels of ``folder_rep``'s workbook of ``kind`` (workspace language first)."""
    langs = [lang, *(x for x in LANGS if x != lang)]
    return [f"{folder_rep}/{template_filename(kind, x, folder_rep, week if kind == 'weekly' else '')}"
            for x in langs]


def handout_day(name: str, rep: str, lang: str) -> str:
    """The day (YYYY-MM-DD) in the name of ``rep``'s dated decisions workbook in ``lang``
    (``决策_<rep>_<YYYY-MM-DD>.xlsx``); "" for any other name."""
    prefix = template_filename("decisions", lang, rep)[:-len(".xlsx")] + "_"
    if not (name.startswith(prefix) and name.endswith(".xlsx")):
        return ""
    day = name[len(prefix):-len(".xlsx")]
    if not _DAY.fullmatch(day):
        return ""
    try:
        dt.date.fromisoformat(day)
    except ValueError:
        return ""
    return day


def canonical_identity(label: str, lang: str) -> tuple[str, str, int] | None:
    """(kind, week, rank) when ``label`` is at a canonical name of its folder's owner; rank 0 is the
    workspace language's name."""
    folder_rep = folder_of(label)
    if not folder_rep:
        return None
    name = in_folder(label)
    langs = [lang, *(x for x in LANGS if x != lang)]
    for rank, x in enumerate(langs):
        for kind, spec in TEMPLATE_SPECS.items():
            stem = spec.name(x).replace(" ", "_")
            if kind == "weekly":
                prefix = f"{stem}_{folder_rep}_"
                if name.startswith(prefix) and name.endswith(".xlsx"):
                    week = name[len(prefix):-len(".xlsx")]
                    if "/" not in week and week:
                        return kind, week.upper(), rank
            elif name == template_filename(kind, x, folder_rep):
                return kind, "", rank
            elif kind == "decisions" and handout_day(name, folder_rep, x):
                return kind, handout_day(name, folder_rep, x), rank
    return None


def _group(member: Member, lang: str) -> tuple[tuple[str, str], int | None] | None:
    """(the group a member belongs to, its canonical rank or None)."""
    canon = canonical_identity(member.label, lang)
    if canon is not None:
        kind, week, rank = canon
        return (kind, week), rank
    folder_rep = folder_of(member.label)
    if not member.kind or not folder_rep or member.rep != folder_rep:
        return None
    if member.kind == "weekly":
        if not member.week:
            return None
        return (member.kind, member.week.upper()), None
    if member.kind == "decisions":  # a copy of a dated decisions workbook carries its day (hidden sheet)
        return (member.kind, member.week), None
    return (member.kind, ""), None


def duplicates(members: Iterable[Member], lang: str) -> dict[str, tuple[str, str]]:
    """``{label of a duplicate: (label of the workbook that counts, kind)}`` among one folder's files."""
    groups: dict[tuple[str, str], list[tuple[tuple, Member]]] = {}
    for m in members:
        found = _group(m, lang)
        if found is None:
            continue
        key, rank = found
        order = (m.handed_out, m.was_copy, rank if rank is not None else len(LANGS),
                 m.first_seen is None, m.first_seen or 0, m.label)
        groups.setdefault(key, []).append((order, m))
    out: dict[str, tuple[str, str]] = {}
    for (kind, _), entries in groups.items():
        if len(entries) < 2:
            continue
        entries.sort(key=lambda e: e[0])
        counts = entries[0][1].label
        for _, m in entries[1:]:
            out[m.label] = (counts, kind)
    return out


def duplicate_issue(label: str, counts: str, kind: str, rep: str, lang: str) -> Issue:
    """The one ``duplicate-workbook`` error of a copy, naming both files."""
    name = TEMPLATE_SPECS[kind].name(lang) if kind in TEMPLATE_SPECS else kind
    return Issue("duplicate-workbook", label, rep=rep,
                 params={"kind": name, "canonical": in_folder(counts), "copy": in_folder(label)})
