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
summary's figures: no second pass over the history). Once the supervisor saves it, it is theirs; the
deals waiting are then listed, always current, on the first sheet of their feedback workbook.
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
    """Write again every untouched decisions workbook whose deals waiting changed; returns those written."""
    from ..reading.templates import build_template, template_filename

    listed = labels_from(summary)
    playbook, written = None, []
    for person in summary.people:
        pid = person["rep"]
        path = ws.inbox / pid / template_filename("decisions", ws.lang, pid)
        want = listed.get(pid, [])
        before = untouched(ws.root, path)
        if before is None or before == want:
            continue
        if playbook is None:
            from ..storage.ingest import load_playbook

            store = ws.store()
            try:
                playbook, _ = load_playbook(ws, store, summary.as_of)
            finally:
                store.close()

        def write(tmp: Path, pid: str = pid, want: list[str] = want, book: Any = playbook) -> None:
            build_template(tmp, "decisions", book, ws.lang, rep=book.person(pid), workspace=ws.workspace_id,
                           lists={"waiting": want})

        if refresh(ws.root, path, want, write):
            written.append(path)
    return written
