"""The deals waiting for a supervisor's decision, as the decisions workbook's drop-down offers them.

A deal confiscated to a supervisor, or gone from the list of someone below them, waits for their
decision. The decisions workbook's Deal column offers these deals as labels that say what the
supervisor needs to decide (customer, amount, stage, days at it, why it waits) and end with the
deal's id, which is what is recorded: ``客户 · 2,600,000 · 业绩展示 · 5 天 · 已收归主管 · R12-72e6c62a``.
An id typed by hand is still read.

sheetsales never writes into a workbook a person has saved. A decisions workbook it handed out and
nobody has saved since (its content is byte for byte what was written, recorded in
``.sheetsales-handouts.json`` beside the playbook) is still sheetsales' own: when the report finds
that the deals waiting changed, it is written again with the new list (:func:`refresh_all`, from the
summary's figures: no second pass over the history). Once the supervisor saves it, it is theirs and
its drop-down stays as it was. So when deals wait that the newest one does not offer (compared by
deal id: the days in a label change daily), the report hands out a new one beside it, named for the
day (``决策_S01_2026-12-02.xlsx``, at most one a day), whose drop-down lists every deal waiting now.
The earlier ones stay theirs and are still read: a decision typed in any of them counts
(``identity.py`` does not take them for copies). Each distinct decision row is applied once, in the
order the rows were recorded, so of two decisions on one deal the one saved later is applied last and
prevails; saved before the same ingest, the older workbook's rows come first (the folder is read in
name order, and the dated names sort by day after the first). The feedback's list of the deals
waiting names the workbook to use, the newest (:func:`to_use`).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..i18n import t

if TYPE_CHECKING:
    from ..analyses.analyse import Summary
    from ..service.workspace import Workspace

STATE = ".sheetsales-handouts.json"
SEPARATOR = " · "
_ID = re.compile(r"(?:^|·)\s*([^\s·]+-[0-9a-f]{8})\s*$")


def deal_id(text: str) -> str:
    """The deal id a drop-down label ends with, or the text as typed."""
    m = _ID.search(text.strip())
    return m.group(1) if m else text.strip()


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _state(root: Path) -> dict:
    try:
        state = json.loads((root / STATE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return state if isinstance(state, dict) else {}


def remember(root: Path, path: Path, listed: list[str]) -> None:
    """Record what sheetsales wrote at ``path``: it stays sheetsales' own until someone saves it."""
    state = _state(root)
    state[path.relative_to(root).as_posix()] = {"sha": _sha(path), "labels": listed}
    tmp = root / f".{STATE}.tmp"
    tmp.write_text(json.dumps(state, ensure_ascii=False, sort_keys=True), encoding="utf-8")
    os.replace(tmp, root / STATE)


def untouched(root: Path, path: Path) -> list[str] | None:
    """The labels an untouched decisions workbook lists; None once someone saved it (or never handed out)."""
    known = _state(root).get(path.relative_to(root).as_posix())
    if not isinstance(known, dict) or not path.is_file():
        return None
    try:
        return list(known.get("labels") or []) if _sha(path) == known.get("sha") else None
    except OSError:
        return None


def refresh(root: Path, path: Path, listed: list[str], write: Callable[[Path], None]) -> bool:
    """Write an untouched decisions workbook again when the deals waiting changed; True when written."""
    before = untouched(root, path)
    if before is None or before == listed:
        return False
    tmp = path.with_name(f".{path.name}.refresh.tmp")
    write(tmp)
    if untouched(root, path) is None:  # saved by its owner meanwhile: theirs now
        tmp.unlink()
        return False
    os.replace(tmp, path)
    remember(root, path, listed)
    return True


def books(folder: Path, lang: str, pid: str) -> list[Path]:
    """``pid``'s decisions workbooks at sheetsales' names in ``lang``, oldest first: the first one
    (``决策_<id>.xlsx``), then the dated ones by day."""
    from ..reading.identity import handout_day
    from ..reading.templates import template_filename

    first = folder / template_filename("decisions", lang, pid)
    try:
        dated = sorted((handout_day(p.name, pid, lang), p) for p in folder.iterdir()
                       if handout_day(p.name, pid, lang) and p.is_file())
    except OSError:  # no folder (yet): nothing handed out
        dated = []
    return ([first] if first.is_file() else []) + [p for _, p in dated]


def offered(root: Path, path: Path) -> set[str]:
    """The deal ids a decisions workbook's drop-down offered when sheetsales wrote it (saved since or not)."""
    known = _state(root).get(path.relative_to(root).as_posix())
    labels = known.get("labels") if isinstance(known, dict) else None
    return {deal_id(str(label)) for label in labels} if isinstance(labels, list) else set()


def labels_from(summary: Summary) -> dict[str, list[str]]:
    """supervisor id -> the labels of the deals waiting for them, from the summary's overview section."""
    lang = summary.lang
    out: dict[str, list[tuple[float, str]]] = {}
    for r in summary.sections.get("overview", {}).get("waiting", []):
        why = t(f"status.{r['status']}", lang) if r.get("status") else ""
        days = t("waiting.days", lang, days=r["days_in_stage"]) if r.get("days_in_stage") is not None else ""
        amount = f"{r['amount']:,.0f}" if isinstance(r.get("amount"), int | float) else ""
        label = SEPARATOR.join(x for x in (r["customer"], amount, r.get("stage", ""), days, why, r["deal"]) if x)
        out.setdefault(r["supervisor"], []).append((r.get("amount") or 0, label))
    return {boss: list(dict.fromkeys(label for _, label in sorted(found, key=lambda f: -f[0])))
            for boss, found in out.items()}


def refresh_all(ws: Workspace, summary: Summary) -> list[Path]:
    """Bring every supervisor's decisions drop-down up to date; returns the workbooks written.

    The newest decisions workbook of each person is written again while nobody has saved it and the
    deals waiting changed; once saved, a new dated one is handed out when deals wait that it does not
    offer (never a second one the same day: the feedback lists them, and an id may be typed)."""
    from ..reading.identity import handout_day
    from ..reading.templates import build_template, template_filename

    listed = labels_from(summary)
    playbook, written = None, []
    for person in summary.people:
        pid = person["rep"]
        mine = books(ws.inbox / pid, ws.lang, pid)
        if not mine:  # handed out at ingest, to supervisors only
            continue
        path, want = mine[-1], listed.get(pid, [])
        before = untouched(ws.root, path)
        if before is not None and before == want:
            continue
        if before is None:  # theirs: a new one only for deals it does not offer
            path = ws.inbox / pid / template_filename("decisions", ws.lang, pid, summary.as_of.isoformat())
            if path.exists() or not {deal_id(label) for label in want} - offered(ws.root, mine[-1]):
                continue
        if playbook is None:
            from ..storage.ingest import load_playbook

            store = ws.store()
            try:
                playbook, _ = load_playbook(ws, store, summary.as_of)
            finally:
                store.close()
        day = handout_day(path.name, pid, ws.lang)  # a dated one records its day in its hidden sheet
        if before is None:
            try:
                written.append(ws.write_template(path, "decisions", playbook, pid, day, lists={"waiting": want}))
            except FileExistsError:  # made meanwhile: never replaced
                continue
            remember(ws.root, path, want)
            continue

        def write(tmp: Path, pid: str = pid, want: list[str] = want, book: Any = playbook, day: str = day) -> None:
            build_template(tmp, "decisions", book, ws.lang, rep=book.person(pid), workspace=ws.workspace_id,
                           week=day, lists={"waiting": want})

        if refresh(ws.root, path, want, write):
            written.append(path)
    return written


def to_use(ws: Workspace, summary: Summary) -> dict[str, str]:
    """supervisor id -> the name of the decisions workbook to pick their deals waiting in: the newest."""
    out = {}
    for pid in labels_from(summary):
        mine = books(ws.inbox / pid, ws.lang, pid)
        if mine:
            out[pid] = mine[-1].name
    return out
