"""Ingest: every new or changed workbook in the inbox becomes rows in the store.

One file, one fate. For each file: skip it when its content is what the store already holds for
that path; otherwise copy it to staging, archive it, record that it is being read (committed at
once), read and validate it, record that the read ended, decide whose it is and whether it is a
copy (:mod:`sheetsales.reading.identity`), then record what is valid, all in one transaction per file.

- Any unexpected exception while reading, validating, applying rules to or recording one file
  rolls back that file alone; the file is recorded (its content hash, not readable) with one
  ``file-failed`` issue to its owner (the error class and one line; the traceback goes to the log)
  and is skipped until its content changes. Every other file of the run is recorded.
- A file whose read started and never ended (the process was killed or aborted in the reader) is
  recorded with ``reader-crashed`` at the next ingest, without being read again, and is skipped
  until its content changes: no file can take the service down twice.
- The settlement at the end (decisions, confiscations) cannot kill the run either: a failure is
  logged, reported once (``IngestResult.settle_error``) and what was recorded stays.

``check_file`` is what ``sheetsales check`` runs: the same reading, identity and copy decisions,
recording nothing.

Test hook: with ``SHEETSALES_STALL_READING=<text>`` in the environment, ingest sleeps (for
``SHEETSALES_STALL_SECONDS``, default 3600) right after recording that it started reading a file
whose label ends with ``<text>``, so a test can kill the process in the middle of a read.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..analyses import care, help, lost
from ..issues import ERROR, Issue
from ..method import logchain
from ..method.playbook import Playbook, read_playbook
from ..method.rules import decision_fingerprint, settle
from ..reading.identity import Member, attribute, duplicate_issue, duplicates, folder_of
from ..reading.names import normalise_customer, opportunity_key
from ..reading.read import RawWorkbook, ignored_name, open_workbook, read_form, read_meta, read_table
from ..reading.specs import (
    C931_TABLE,
    CARD_CUSTOMERS_TABLE,
    CONTRACTS_TABLE,
    DECISIONS_TABLE,
    EXPENSES_TABLE,
    HELP_REQUESTS_TABLE,
    LOG_TABLE_V1,
    LOST_TABLE,
    MPC_TABLE,
    PLAN_TABLE,
    QUALIFICATION_TABLE,
    QUALIFICATION_TABLE_V2,
    WEEKLY_FORM,
    mpc_table,
)
from ..reading.templates import iso_week, week_bounds
from ..reading.validate import Record, validate_table
from ..service.workspace import Workspace
from . import quiet
from .store import (
    REMOVED,
    AlreadyRecorded,
    Store,
    activities,
    add_file_stat,
    contracts,
    decisions,
    expenses,
    held_rows,
    last_stages,
    opportunities,
    plans,
    stage_events,
    unchanged_stats,
    weekly_notes,
)

log = logging.getLogger(__name__)

# Structural problems that make a file unusable as a whole: its rows are not read
# and, for an MPC list, the rep's previous list stays in force.
FILE_LEVEL = {"missing-sheet", "missing-column", "unknown-workbook", "unknown-rep", "missing-week",
              "not-a-workbook", "legacy-xls", "macro-workbook", "encrypted-workbook", "corrupt-workbook",
              "workbook-too-large", "file-unreadable", "sheet-too-large", "too-many-rows", "too-many-cells",
              "reader-crashed", "file-failed", "foreign-workbook", "duplicate-workbook", "outside-folder"}


@dataclass
class Parsed:
    """What one workbook holds, after validation."""

    label: str
    kind: str = ""
    rep: str = ""
    week: str = ""
    readable: bool = False
    lang: str = ""  # the language its hidden sheet records
    issues: list[Issue] = field(default_factory=list)
    tables: dict[str, list[Record]] = field(default_factory=dict)
    notes: dict[str, Any] = field(default_factory=dict)
    sheets: dict[str, str] = field(default_factory=dict)  # table key -> sheet name
    activity_names: dict[str, str] = field(default_factory=dict)  # weekly: activity type code -> its name

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == ERROR]


def _key_normaliser(key: str, value: Any) -> Any:
    if key == "customer":
        return normalise_customer(str(value or ""))
    if isinstance(value, str):
        return value.strip().casefold()
    return value


def _identify(raw: RawWorkbook, folder_rep: str, playbook: Playbook, workspace_id: str,
              parsed: Parsed, in_inbox: bool = False) -> None:
    meta = read_meta(raw)
    parsed.lang = meta.get("lang", "")
    kind = meta.get("kind", "")
    if not kind:
        if raw.sheet(MPC_TABLE.zh, MPC_TABLE.en):
            kind = "mpc"
        elif raw.sheet(LOG_TABLE_V1.zh, LOG_TABLE_V1.en):
            kind = "weekly"
        elif raw.sheet(DECISIONS_TABLE.zh, DECISIONS_TABLE.en):
            kind = "decisions"
        elif raw.sheet(LOST_TABLE.zh, LOST_TABLE.en):
            kind = "lost"
        elif raw.sheet(HELP_REQUESTS_TABLE.zh, HELP_REQUESTS_TABLE.en):
            kind = "help"
        elif raw.sheet(CARD_CUSTOMERS_TABLE.zh, CARD_CUSTOMERS_TABLE.en):
            kind = "cards"
        if kind:
            parsed.issues.append(Issue("missing-meta", raw.label, params={"kind": kind}))
    if kind not in ("mpc", "weekly", "decisions", "lost", "help", "cards"):
        parsed.issues.append(Issue("unknown-workbook", raw.label))
        return
    parsed.kind = kind
    # The folder is the identity: the hidden sheet only attributes a renamed file within its owner's folder.
    rep, found = attribute(raw.label, kind, meta.get("rep", ""), folder_rep, playbook, in_inbox)
    if found:
        parsed.issues += found
        return
    ws_id = meta.get("workspace", "")
    if ws_id and workspace_id and ws_id != workspace_id:
        parsed.issues.append(Issue("foreign-workspace", raw.label, params={"workspace": ws_id}))
    if not rep or playbook.person(rep) is None:
        parsed.issues.append(Issue("unknown-rep", raw.label, params={"rep": rep or "?"}))
        return
    parsed.rep = rep
    parsed.week = meta.get("week", "")


def _read_mpc(raw: RawWorkbook, playbook: Playbook, lang: str, parsed: Parsed, as_of: dt.date | None = None) -> None:
    table = mpc_table(len(playbook.stages))
    rt, found = read_table(raw, table)
    parsed.issues += found
    if rt is None:
        return
    parsed.sheets["mpc"] = rt.sheet
    rejected: list[Record] = []
    records, found = validate_table(rt, table, raw.label, playbook, lang, normalise=_key_normaliser,
                                    rejected=rejected, as_of=as_of)
    parsed.issues += found
    parsed.tables["mpc_rejected"] = [r for r in rejected if r.values.get("customer") and r.values.get("category")]
    for r in records:
        if not r.values.get("status"):
            r.values["status"] = "open"
        if r.values["stage"] == len(playbook.stages) and r.values["status"] == "open":
            r.values["status"] = "won"
        r.values["milestones"] = ",".join(str(n) for n in range(1, len(playbook.stages)) if r.values.get(f"m{n}"))
    parsed.tables["mpc"] = records
    # The qualification and C931 sheets describe the same deals, matched by customer and category.
    extras: dict[tuple, dict[str, Any]] = {}
    # Version 2 (before the yes/no screening columns) is read as it was handed out.
    qualification = QUALIFICATION_TABLE_V2 if read_meta(raw).get("version") in ("1", "2") else QUALIFICATION_TABLE
    for table, counts in ((qualification, {"q_answered": "q"}),
                          (C931_TABLE, {"c_clear": "c", "c_first": "f", "c_win": "w"})):
        if not raw.sheet(table.zh, table.en):
            parsed.issues.append(Issue("missing-sheet", raw.label, table.zh, severity="warning",
                                       params={"sheet": f"{table.zh} / {table.en}"}))
            continue
        rt, found = read_table(raw, table)
        parsed.issues += found
        rows, found = validate_table(rt, table, raw.label, playbook, lang, normalise=_key_normaliser, as_of=as_of)
        parsed.issues += found
        for r in rows:
            key = (_key_normaliser("customer", r.values["customer"]), r.values["category"])
            extras[key] = extras.get(key, {}) | {
                name: sum(1 for k, v in r.values.items() if k[0] == prefix and k[1:].isdigit() and v)
                for name, prefix in counts.items()}
            if table.key == "qualification":  # the answers themselves, for the Qualification sheet
                answers = {k: str(v) for k, v in r.values.items() if k[:1] in "qx" and k[1:].isdigit() and v}
                extras[key]["qualification"] = json.dumps(answers, ensure_ascii=False, sort_keys=True) if answers else None
    for r in records:
        found_extra = extras.get((_key_normaliser("customer", r.values["customer"]), r.values["category"]), {})
        for name in ("q_answered", "c_clear", "c_first", "c_win"):
            r.values[name] = found_extra.get(name, 0)
        r.values["qualification"] = found_extra.get("qualification")


def _read_decisions(raw: RawWorkbook, playbook: Playbook, lang: str, parsed: Parsed,
                    as_of: dt.date | None = None) -> None:
    rt, found = read_table(raw, DECISIONS_TABLE)
    parsed.issues += found
    if rt is None:
        return
    parsed.sheets["decisions"] = rt.sheet
    records, found = validate_table(rt, DECISIONS_TABLE, raw.label, playbook, lang, as_of=as_of)
    parsed.issues += found
    parsed.tables["decisions"] = records


def _read_weekly(raw: RawWorkbook, playbook: Playbook, lang: str, parsed: Parsed,
                 as_of: dt.date | None = None) -> None:
    form = read_form(raw, WEEKLY_FORM)
    if form is None:
        parsed.issues.append(Issue("missing-sheet", raw.label, WEEKLY_FORM.zh,
                                   params={"sheet": f"{WEEKLY_FORM.zh} / {WEEKLY_FORM.en}"}))
    else:
        sheet, values, _cells = form
        parsed.notes = {k: (str(values.get(k) or "").strip()) for k in ("key_events", "market_news")}
        if not parsed.week:
            parsed.week = str(values.get("week") or "").strip().upper()
    try:
        start, end = week_bounds(parsed.week) if parsed.week else (None, None)
    except ValueError:
        start = end = None
    if start is None:
        parsed.issues.append(Issue("missing-week", raw.label, WEEKLY_FORM.name(lang)))
        return
    # Version 1 (before the deal pick, the activity ticks and the plan) is read as it was handed out.
    v1 = read_meta(raw).get("version") == "1"
    parsed.activity_names = {a.code: a.name(lang) for a in playbook.activity_types}
    for table in ((LOG_TABLE_V1, CONTRACTS_TABLE, EXPENSES_TABLE) if v1 else
                  (logchain.playbook_log_table(playbook), CONTRACTS_TABLE, EXPENSES_TABLE, PLAN_TABLE)):
        rt, found = read_table(raw, table)
        parsed.issues += found
        if rt is None:
            continue
        parsed.sheets[table.key] = rt.sheet
        records, found = validate_table(rt, table, raw.label, playbook, lang, as_of=as_of)
        parsed.issues += found
        if "date" in {c.key for c in table.columns}:
            for r in records:
                day = r.values["date"]
                if day and not (start <= day <= end):
                    parsed.issues.append(Issue("date-outside-week", raw.label, rt.sheet, r.cells["date"], {
                        "value": day.isoformat(), "week": parsed.week, "start": start, "end": end}))
        if table.key == "plan":  # next week's plan: its days fall in the week after the report's
            nxt = (start + dt.timedelta(days=7), end + dt.timedelta(days=7))
            for r in records:
                if not (nxt[0] <= r.values["day"] <= nxt[1]):
                    parsed.issues.append(Issue("date-outside-week", raw.label, rt.sheet, r.cells["day"], {
                        "value": r.values["day"].isoformat(), "week": iso_week(nxt[0]), "start": nxt[0],
                        "end": nxt[1]}))
        parsed.tables[table.key] = records


def reader_limits(playbook: Playbook) -> dict[str, int]:
    """The reader's limits in force: the playbook's ``max_rows`` and ``max_cells`` settings."""
    return {"max_rows": playbook.max_rows, "max_cells": playbook.max_cells}


def parse_input(path: Path, label: str, playbook: Playbook, lang: str, *, folder_rep: str = "",
                workspace_id: str = "", in_inbox: bool = False, as_of: dt.date | None = None) -> Parsed:
    """Read and validate one workbook; never raises on bad content.

    ``as_of`` is the date of the run (default today): dates are judged implausible relative to it.

    ``folder_rep`` is the person whose inbox folder holds the file; ``in_inbox`` says the file is in
    the inbox (directly in it when ``folder_rep`` is ""). A file elsewhere is attributed by its
    hidden sheet alone.
    """
    parsed = Parsed(label=label)
    raw, issues = open_workbook(path, label, **reader_limits(playbook))
    parsed.issues += issues
    if raw is not None:
        _identify(raw, folder_rep, playbook, workspace_id, parsed, in_inbox)
        if parsed.kind == "mpc" and parsed.rep:
            _read_mpc(raw, playbook, lang, parsed, as_of)
        elif parsed.kind == "weekly" and parsed.rep:
            _read_weekly(raw, playbook, lang, parsed, as_of)
        elif parsed.kind == "decisions" and parsed.rep:
            _read_decisions(raw, playbook, lang, parsed, as_of)
        elif parsed.kind == "help" and parsed.rep:
            help.read_help(raw, playbook, lang, parsed, as_of)
        elif parsed.kind == "cards" and parsed.rep:
            care.read_cards(raw, playbook, lang, parsed, as_of)
        elif parsed.kind == "lost" and parsed.rep:
            lost.read_lost(raw, playbook, lang, parsed, as_of)
    parsed.readable = bool(parsed.kind and parsed.rep) and not any(
        i.code in FILE_LEVEL and i.severity == ERROR for i in parsed.issues)
    parsed.issues = [i if i.rep else replace(i, rep=parsed.rep or folder_rep) for i in parsed.issues]
    return parsed


# --------------------------------------------------------------------------------------------
# Ingest of a whole workspace
# --------------------------------------------------------------------------------------------
@dataclass
class IngestResult:
    as_of: dt.date
    seen: int = 0
    new: int = 0
    unchanged: int = 0
    rejected: int = 0
    errors: int = 0
    warnings: int = 0
    playbook_issues: list[Issue] = field(default_factory=list)
    handed_out: list[Path] = field(default_factory=list)
    files: list[Parsed] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unavailable: bool = False  # the inbox folder (a share) could not be reached
    settled: dict[str, int] = field(default_factory=dict)  # decisions applied/invalid, deals confiscated
    failed: list[str] = field(default_factory=list)  # files that failed (file-failed, reader-crashed) this run
    settle_error: str = ""  # the settlement failed: "ErrorClass: one line" (the traceback is in the log)
    # What the next run for the same day would find, for the no-op path (:mod:`sheetsales.storage.quiet`);
    # None when this run cannot vouch for it.
    quiet: dict[str, Any] | None = None


def load_playbook(ws: Workspace, store: Store, as_of: dt.date, ingest_id: int | None = None,
                  conn: Any = None) -> tuple[Playbook, list[Issue]]:
    """The playbook in force: re-read playbook.xlsx when it changed; the last good one otherwise."""
    issues: list[Issue] = []
    if ingest_id is not None and ws.playbook_path.exists():
        sha = hashlib.sha256(ws.playbook_path.read_bytes()).hexdigest()
        if sha != store.latest_playbook_sha(as_of):
            sha, archived, _ = ws.stage_and_archive(ws.playbook_path)
            playbook, issues = read_playbook(archived, ws.lang)
            pb_id = store.add_playbook(conn, ingest_id, as_of, sha, playbook.to_json() if playbook else None)
            if playbook is None:
                previous = store.playbook_as_of(as_of)
                if previous:
                    issues.append(Issue("playbook-rejected", "playbook.xlsx", params={"version": previous[1]}))
                else:
                    issues.append(Issue("playbook-rejected-first", "playbook.xlsx"))
            store.add_issues(conn, ingest_id, as_of, issues, playbook_id=pb_id)
            if playbook is not None:
                return playbook, issues
    found = store.playbook_as_of(as_of)
    if found:
        return Playbook.from_json(found[0]), issues
    # None recorded yet (no ingest so far, or the first playbook was rejected): playbook.xlsx as it
    # reads now, else the default method in the workspace's language with nobody on the team.
    unrecorded, _ = read_playbook(ws.playbook_path, ws.lang) if ws.playbook_path.exists() else (None, [])
    return unrecorded or replace(Playbook.default(ws.lang), team=()), issues


def inbox_files(ws: Workspace) -> list[tuple[Path, str, str]]:
    """(path, label relative to the inbox, folder rep) for every candidate file, in a stable order.

    A name that is not valid UTF-8 (possible on Linux shares) gets a label with U+FFFD in its
    place, so that it can be recorded and reported like any other.
    """
    out: list[tuple[Path, str, str]] = []
    if not ws.inbox.is_dir():
        return out
    found: list[tuple[str, ...]] = []
    _list_files(str(ws.inbox), (), found)
    for parts in sorted(found):  # the order of sorted(inbox.rglob("*")): paths compare part by part
        if ignored_name(parts[-1]):
            continue
        label = "/".join(parts).encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        out.append((ws.inbox.joinpath(*parts), label, folder_of(label)))
    return out


def _list_files(folder: str, parts: tuple[str, ...], found: list[tuple[str, ...]]) -> None:
    """The files under ``folder`` as parts relative to the inbox, as ``Path.rglob`` and ``is_file``
    would find them (a folder that may not be listed is skipped, a link to a folder is not entered,
    a link to a file counts), with the entries' cached types instead of a stat per file."""
    try:
        entries = list(os.scandir(folder))
    except PermissionError:
        return
    for entry in entries:
        try:
            if entry.is_dir(follow_symlinks=False):
                _list_files(entry.path, (*parts, entry.name), found)
            elif entry.is_file():
                found.append((*parts, entry.name))
        except OSError:  # vanished meanwhile, or a link that cannot be followed: not a file
            continue


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file, read in chunks (memory stays bounded whatever its size)."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _one_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return (lines[0] if lines else "")[:200]


def failed_file(label: str, folder_rep: str, exc: BaseException) -> Parsed:
    """``file-failed`` for an unexpected exception: one line to the owner, the traceback to the log."""
    log.error("%s failed: %s: %s", label, type(exc).__name__, _one_line(exc))
    log.info("the failure of %s", label, exc_info=exc)
    return Parsed(label=label, issues=[Issue("file-failed", label, rep=folder_rep,
                                             params={"error": type(exc).__name__, "detail": _one_line(exc)})])


def _stall_for_tests(label: str) -> None:
    """The test hook of the module docstring: hold still in the middle of a read."""
    target = os.environ.get("SHEETSALES_STALL_READING")
    if target and label.endswith(target):
        time.sleep(float(os.environ.get("SHEETSALES_STALL_SECONDS", "3600")))


def read_file(store: Store | None, path: Path, label: str, sha: str, playbook: Playbook, lang: str, *,
              folder_rep: str = "", in_inbox: bool = False, workspace_id: str = "",
              ingest_id: int | None = None, record: bool = False, as_of: dt.date | None = None) -> Parsed:
    """Read one file's content in isolation: whatever the content does, this returns a :class:`Parsed`.

    A content whose read once started and never ended (at any path) is ``reader-crashed`` and is not
    read again. With ``record`` the read is recorded as started (committed) before the reader runs
    and as ended after it (also when interrupted). Any exception of the reader or the validation is
    ``file-failed``.
    """
    if store is not None and sha and store.crashed_read(sha):
        log.error("%s: the reader did not survive this content before; it is not read again", label)
        return Parsed(label=label, issues=[Issue("reader-crashed", label, rep=folder_rep)])
    read_id = store.start_read(ingest_id, label, sha) if record and store is not None else None
    outcome = "interrupted"
    try:
        if read_id is not None:
            _stall_for_tests(label)
        parsed = parse_input(path, label, playbook, lang, folder_rep=folder_rep, in_inbox=in_inbox,
                             workspace_id=workspace_id, as_of=as_of)
        outcome = "read"
    except Exception as exc:
        outcome = "failed"
        parsed = failed_file(label, folder_rep, exc)
    finally:  # an interruption (Ctrl-C) is not a crash of the reader
        if read_id is not None and store is not None:
            store.finish_read(read_id, outcome)
    return parsed


def judge(parsed: Parsed, members: list[Member], lang: str, folder_rep: str) -> Parsed:
    """Apply the folder's "one workbook per kind" verdict to ``parsed`` (one of ``members``).

    A copy gets its one ``duplicate-workbook`` error naming both files, instead of anything else
    about its content, and is not applied.
    """
    verdict = duplicates(members, lang).get(parsed.label)
    if verdict is not None:
        counts, kind = verdict
        parsed.issues = [duplicate_issue(parsed.label, counts, kind, folder_rep or parsed.rep, lang)]
        parsed.readable = False
        parsed.tables = {}
    return parsed


def _member(label: str, state: dict | None, parsed: Parsed | None = None, handed_out: bool = False) -> Member:
    """A file of a folder: what its new content says (``parsed``), else what the store recorded."""
    first, was_copy = (state["first_id"], state["duplicate"]) if state else (None, False)
    if parsed is not None:
        return Member(label, parsed.kind, parsed.rep, parsed.week, first, was_copy, handed_out)
    if state is None:
        return Member(label, handed_out=handed_out)
    return Member(label, state["kind"] or "", state["rep"] or "", state["week"] or "", first, was_copy, handed_out)


@dataclass
class _Read:
    """One file's new content, read and waiting to be recorded."""

    label: str
    folder_rep: str
    sha: str
    archived: Path
    size: int
    parsed: Parsed
    stat: tuple[int, int] | None = None  # (size, mtime_ns) of the inbox file, taken before it was hashed


# A file's remembered size and modification time are trusted only when the time was at least this
# much older than the moment they were remembered: a write within the same tick of a coarse clock
# (2 s on FAT, 1 s on some shares) would keep both the same.
RACY_NS = 2_000_000_000


def _stat(path: Path) -> tuple[int, int]:
    st = os.stat(path)
    return st.st_size, st.st_mtime_ns


def ingest(ws: Workspace, as_of: dt.date, progress: Callable[[int, int, str], None] | None = None,
           only: Iterable[Path] | None = None) -> IngestResult:
    """Ingest every new or changed file of ``ws``'s inbox as observed on ``as_of``.

    A file whose size and modification time are those remembered with the content its path holds
    in the store is skipped without being read or hashed; any other file is hashed, and read when
    its content is new. With ``only`` (the paths the watcher saw change), the files outside it are
    not looked at beyond their listing: they count as unchanged. Removals, the hand-out and the
    "one workbook per kind" verdicts still consider the whole inbox.
    """
    result = IngestResult(as_of=as_of)
    noted = quiet.begin(ws) if only is None else None  # before the playbook is read: a save after it shows
    store = ws.store()
    try:
        with store.transaction() as conn:
            ingest_id = store.add_ingest(conn, as_of)
            playbook, result.playbook_issues = load_playbook(ws, store, as_of, ingest_id, conn)
        if not ws.inbox.is_dir():  # the share is offline: read nothing, hand out nothing, remove nothing
            log.warning("inbox %s is unavailable", ws.inbox)
            result.unavailable = True
            return result
        result.handed_out = ws.handout(playbook, as_of, lost_deals=lambda: store.lost_customers(as_of),
                                       own_deals=lambda: logchain.own_deals(store, as_of))
        handed_out = set(result.handed_out)
        # The listing the no-op path compares with, taken before any file is read; its stats are the
        # ones each file is judged by (one stat per file), so what the store remembers matches it.
        seen = quiet.listing(ws.inbox) if noted is not None else None
        order: list[str] = []
        clean = seen is not None
        files = inbox_files(ws)
        states = store.path_states(as_of)
        known = unchanged_stats(store, as_of)
        # What this run handed out is new to the store too, whoever asked for the run.
        wanted = None if only is None else {os.path.abspath(p) for p in (*only, *result.handed_out)}
        folders: dict[str, list[tuple[Path, str]]] = {}
        for path, label, folder_rep in files:
            folders.setdefault(folder_rep, []).append((path, label))
        n = 0
        # Folder by folder: every new content of the folder is read, then judged among the folder's
        # files (one workbook per kind), then recorded, each file in its own transaction.
        for folder_rep, group in folders.items():
            pending: list[_Read] = []
            for path, label in group:
                n += 1
                result.seen += 1
                order.append(label)
                if progress:
                    progress(n, len(files), label)
                stat = seen.stats.get(label) if seen is not None else None
                clean = clean and stat is not None
                try:
                    if wanted is not None and os.path.abspath(path) not in wanted:
                        read = None
                    else:
                        read = _read_new(ws, store, ingest_id, as_of, playbook, path, label, folder_rep,
                                         known.get(label), stat)
                except OSError as exc:  # the file vanished or is locked: report, go on
                    clean = False
                    log.warning("cannot read %s: %s", label, exc)
                    parsed = Parsed(label=label, issues=[Issue("file-unreadable", label, rep=folder_rep,
                                                               params={"detail": exc.strerror or str(exc)})])
                    result.files.append(parsed)
                    result.rejected += 1
                    continue
                except Exception as exc:  # before its content could even be archived: reported, tried again next run
                    result.files.append(failed_file(label, folder_rep, exc))
                    result.failed.append(label)
                    result.rejected += 1
                    result.errors += 1
                    continue
                if read is None:
                    result.unchanged += 1
                else:
                    pending.append(read)
            fresh = {r.label: r for r in pending}
            members = [_member(label, states.get(label), fresh[label].parsed if label in fresh else None,
                               handed_out=path in handed_out) for path, label in group]
            for read in pending:
                judge(read.parsed, members, ws.lang, folder_rep)
                parsed = _record(ws, store, ingest_id, as_of, read)
                if parsed is None:  # another process recorded this very content meanwhile
                    result.unchanged += 1
                    continue
                result.new += 1
                result.files.append(parsed)
                if not parsed.readable:
                    result.rejected += 1
                if any(i.code in ("file-failed", "reader-crashed") for i in parsed.issues):
                    result.failed.append(parsed.label)
                result.errors += sum(1 for i in parsed.issues if i.severity == ERROR)
                result.warnings += sum(1 for i in parsed.issues if i.severity != ERROR)
        result.removed = _record_removals(ws, store, ingest_id, as_of, {label for _, label, _ in files})
        try:
            mark = store.change_mark()
            if _settled_mark(ws, as_of) == mark:  # settled on this day since the last record: a no-op
                result.settled = {"applied": 0, "invalid": 0, "confiscated": 0}
            else:
                result.settled = settle(store, ingest_id, playbook, as_of)
                _remember_settled(ws, as_of, store.change_mark())
        except AlreadyRecorded as exc:  # another process settled the same decisions meanwhile: rolled back
            log.info("the settlement was already made by another process: %s", exc)
        except Exception as exc:  # what was recorded stays; the next ingest settles again
            log.error("the settlement (decisions, confiscations) failed: %s: %s", type(exc).__name__, _one_line(exc))
            log.info("the failure of the settlement", exc_info=exc)
            result.settle_error = f"{type(exc).__name__}: {_one_line(exc)}"
        # Every file listed, judged by the listed stat and recorded (or unchanged), nothing failed:
        # the next run for this day with the same listing, playbook and store would do nothing.
        if clean and noted is not None and seen is not None and not result.failed and not result.settle_error:
            result.quiet = quiet.finish(ws, as_of, noted, seen, order)
    finally:
        store.close()
    return result


# The settlement last made: the day it was made for and the store's change mark after it. Settling
# again on the same day with nothing recorded since applies nothing and confiscates nothing (every
# decision has its result, every overdue deal has moved to a supervisor), so an ingest that finds
# nothing new skips it. A file beside the store, not in it: it decides nothing, it only saves work.
SETTLED_STATE = ".sheetsales-settled.json"


def _settled_mark(ws: Workspace, as_of: dt.date) -> str | None:
    try:
        state = json.loads((ws.root / SETTLED_STATE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(state, dict) or state.get("as_of") != as_of.isoformat():
        return None
    mark = state.get("mark")
    return mark if isinstance(mark, str) else None


def _remember_settled(ws: Workspace, as_of: dt.date, mark: str) -> None:
    path = ws.root / SETTLED_STATE
    tmp = path.with_name(f".{SETTLED_STATE}.{os.getpid()}.tmp")
    try:
        tmp.write_text(json.dumps({"as_of": as_of.isoformat(), "mark": mark}), encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:  # the next ingest settles again: slower, never wrong
        log.warning("cannot write %s: %s", path, exc)


def check_file(path: Path, ws: Workspace | None, as_of: dt.date, lang: str,
               playbook: Playbook | None = None) -> Parsed:
    """What ``ingest`` would record for ``path``'s content, recording nothing (``sheetsales check``).

    Inside a workspace the same decisions as ingest are made, by the same functions: the playbook in
    force, a content that crashed the reader before (``reader-crashed``, not read again), an
    exception while reading (``file-failed``), identity by folder (``foreign-workbook``,
    ``outside-folder``) and one workbook per kind among the folder's files (``duplicate-workbook``).
    Outside a workspace the file is read against ``playbook`` (default: the default one).
    """
    if ws is None:
        return read_file(None, path, path.name, "", playbook or Playbook(), lang, as_of=as_of)
    store = ws.store()
    try:
        playbook, _ = load_playbook(ws, store, as_of)
        label, folder_rep, in_inbox = path.name, "", False
        try:
            rel = path.resolve().relative_to(ws.inbox.resolve()).as_posix()
            label = rel.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
            folder_rep, in_inbox = folder_of(label), True
        except ValueError:
            pass
        sha = file_sha256(path)
        parsed = read_file(store, path, label, sha, playbook, lang, folder_rep=folder_rep, in_inbox=in_inbox,
                           workspace_id=ws.workspace_id, as_of=as_of)
        if not folder_rep:
            return parsed
        states = store.path_states(as_of)
        members = []
        for other_path, other, other_folder in inbox_files(ws):
            if other_folder != folder_rep or other == label:
                continue
            state = states.get(other)
            try:
                other_sha = file_sha256(other_path)
            except OSError:
                members.append(_member(other, state))
                continue
            if state is not None and state["sha256"] == other_sha:
                members.append(_member(other, state))
            else:  # a new content ingest has not recorded yet: it will read it too
                members.append(_member(other, state, read_file(
                    store, other_path, other, other_sha, playbook, lang, folder_rep=folder_rep, in_inbox=True,
                    workspace_id=ws.workspace_id, as_of=as_of)))
        members.append(_member(label, states.get(label), parsed))
        return judge(parsed, members, ws.lang, folder_rep)
    finally:
        store.close()


def _record_removals(ws: Workspace, store: Store, ingest_id: int, as_of: dt.date, seen: set[str]) -> list[str]:
    """Record files gone from the inbox as removal versions, so their issues close.

    Only a file whose folder is still there counts as removed: a folder or share that vanished is
    "source unavailable", never "the rep deleted everything". A rep's last MPC list stays in force.
    """
    if not ws.inbox.is_dir():
        return []
    removed = []
    with store.transaction() as conn:
        for label in sorted(store.present_paths(conn, as_of) - seen):
            if not (ws.inbox / label).parent.is_dir():
                continue
            try:
                store.add_file_version(conn, ingest_id=ingest_id, observed_on=as_of, path=label, sha256=REMOVED,
                                       size=0, archive="", kind=None, rep=None, week=None, readable=False)
            except AlreadyRecorded:  # another process recorded the removal meanwhile
                continue
            removed.append(label)
    return removed


def _read_new(ws: Workspace, store: Store, ingest_id: int, as_of: dt.date, playbook: Playbook,
              path: Path, label: str, folder_rep: str, known: tuple[int, int, int] | None = None,
              stat: tuple[int, int] | None = None) -> _Read | None:
    """Archive and read ``path`` unless its content is what the store holds for it (None).

    ``known``: the (size, mtime_ns, recorded_ns) remembered with the content the store holds for
    the path; a file still showing that size and time is not even hashed. ``stat``: its (size,
    mtime_ns) as the inbox listing saw it, taken before hashing like the file's own stat.
    """
    stat = stat or _stat(path)  # before hashing: a write after it changes the time seen next run
    if known is not None and stat == known[:2] and known[2] - stat[1] >= RACY_NS:
        return None
    # Cheap check next: the same bytes as the latest recorded version change nothing.
    sha = file_sha256(path)
    with store.transaction() as conn:
        if store.latest_sha(conn, label, as_of) == sha:
            add_file_stat(conn, label, stat[0], stat[1], sha)
            return None
    sha, archived, size = ws.stage_and_archive(path)
    parsed = read_file(store, archived, label, sha, playbook, ws.lang, folder_rep=folder_rep, in_inbox=True,
                       workspace_id=ws.workspace_id, ingest_id=ingest_id, record=True, as_of=as_of)
    return _Read(label, folder_rep, sha, archived, size, parsed, stat)


def _record(ws: Workspace, store: Store, ingest_id: int, as_of: dt.date, read: _Read) -> Parsed | None:
    """Record one file's version and what is valid in it, in one transaction; a failure rolls back
    this file alone and records it as ``file-failed``. None: another process recorded it already."""
    try:
        with store.transaction() as conn:
            _record_version(conn, ws, store, ingest_id, as_of, read, read.parsed)
        return read.parsed
    except AlreadyRecorded:
        return None
    except Exception as exc:
        failed = failed_file(read.label, read.folder_rep, exc)
    try:
        with store.transaction() as conn:
            _record_version(conn, ws, store, ingest_id, as_of, read, failed)
    except AlreadyRecorded:
        return None
    return failed


def _record_version(conn: Any, ws: Workspace, store: Store, ingest_id: int, as_of: dt.date, read: _Read,
                    parsed: Parsed) -> None:
    fv_id = store.add_file_version(
        conn, ingest_id=ingest_id, observed_on=as_of, path=read.label, sha256=read.sha, size=read.size,
        archive=read.archived.relative_to(ws.root).as_posix(), kind=parsed.kind or None,
        rep=parsed.rep or None, week=parsed.week or None, readable=parsed.readable,
    )
    if read.stat is not None:
        add_file_stat(conn, read.label, read.stat[0], read.stat[1], read.sha)
    if parsed.readable and parsed.kind == "mpc":
        _store_mpc(conn, store, fv_id, as_of, parsed)
    elif parsed.readable and parsed.kind == "weekly":
        _store_weekly(conn, store, fv_id, as_of, parsed)
    elif parsed.readable and parsed.kind == "decisions":
        _store_decisions(conn, store, fv_id, as_of, parsed)
    elif parsed.readable and parsed.kind == "help":
        help.store_help(conn, store, fv_id, as_of, parsed)
    elif parsed.readable and parsed.kind == "cards":
        care.store_cards(conn, store, fv_id, as_of, parsed)
    elif parsed.readable and parsed.kind == "lost":
        lost.store_lost(conn, store, fv_id, as_of, parsed)
    store.add_issues(conn, ingest_id, as_of, parsed.issues, file_version_id=fv_id)


def _store_mpc(conn: Any, store: Store, fv_id: int, as_of: dt.date, parsed: Parsed) -> None:
    rows, events = [], []
    records = parsed.tables.get("mpc", [])
    previous_stages = last_stages(conn, (opportunity_key(parsed.rep, r.values["customer"], r.values["category"])
                                         for r in records), as_of)
    for r in records:
        v = r.values
        key = opportunity_key(parsed.rep, v["customer"], v["category"])
        rows.append({
            "file_version_id": fv_id, "observed_on": as_of, "rep": parsed.rep, "opp_key": key, "row": r.row,
            "customer": v["customer"], "customer_norm": normalise_customer(v["customer"]),
            "category": v["category"], "model": v["model"], "amount": v["amount"], "sign_date": v["sign_date"],
            "delivery_date": v["delivery_date"], "stage": v["stage"], "win_rate": v["win_rate"],
            "status": v["status"], "detail": v["detail"], "owner_name": v["owner_name"],
            "resources": v["resources"], "distributor": v["distributor"], "milestones": v["milestones"],
            "q_answered": v["q_answered"], "c_clear": v["c_clear"], "c_first": v["c_first"], "c_win": v["c_win"],
            "qualification": v.get("qualification"),
        })
        previous = previous_stages.get(key)
        if previous != v["stage"]:
            events.append({"file_version_id": fv_id, "observed_on": as_of, "opp_key": key, "rep": parsed.rep,
                           "stage": v["stage"], "prev_stage": previous})
    store.add_rows(conn, opportunities, rows)
    store.add_rows(conn, stage_events, events)
    listed = {r["opp_key"] for r in rows}
    store.add_rows(conn, held_rows, [
        {"file_version_id": fv_id, "observed_on": as_of, "rep": parsed.rep, "row": r.row,
         "opp_key": key}
        for r in parsed.tables.get("mpc_rejected", [])
        if (key := opportunity_key(parsed.rep, r.values["customer"], r.values["category"])) not in listed
    ])


def _store_decisions(conn: Any, store: Store, fv_id: int, as_of: dt.date, parsed: Parsed) -> None:
    store.add_rows(conn, decisions, [
        {"file_version_id": fv_id, "observed_on": as_of, "author": parsed.rep, "file": parsed.label,
         "sheet": parsed.sheets["decisions"], "row": r.row, "fingerprint": decision_fingerprint(parsed.rep, r.values),
         "deal": r.values["deal"], "decision": r.values["decision"], "to_person": r.values["to"],
         "days": r.values["days"], "reason": r.values["reason"], "date": r.values["date"]}
        for r in parsed.tables.get("decisions", [])
    ])


def _store_weekly(conn: Any, store: Store, fv_id: int, as_of: dt.date, parsed: Parsed) -> None:
    base = {"file_version_id": fv_id, "observed_on": as_of, "rep": parsed.rep, "week": parsed.week}
    log_rows = [logchain.log_row(r) for r in parsed.tables.get("log", [])]
    # Every version's rows as read (the no-activity rule reads them); the log in force is the chain's.
    store.add_rows(conn, activities, [
        {**base, "fingerprint": lr.fingerprint, "row": lr.row, "content": lr.values["content"] or "",
         **{k: lr.values[k] for k in ("date", "time", "unit", "person", "contact", "result", "hours", "cost",
                                      "remarks", "deal", "types")}}
        for lr in log_rows])
    parsed.issues += logchain.accept(store, conn, fv_id=fv_id, as_of=as_of, rep=parsed.rep, week=parsed.week,
                                     rows=log_rows, label=parsed.label,
                                     sheet=parsed.sheets.get("log", LOG_TABLE_V1.zh), names=parsed.activity_names)
    store.add_rows(conn, plans, [{**base, "row": r.row, **{c.key: r.values[c.key] for c in PLAN_TABLE.columns}}
                                 for r in parsed.tables.get("plan", [])])
    store.add_rows(conn, contracts, [
        {**base, "row": r.row, **{c.key: r.values[c.key] for c in CONTRACTS_TABLE.columns}}
        for r in parsed.tables.get("contracts", [])
    ])
    store.add_rows(conn, expenses, [
        {**base, "row": r.row, **{c.key: r.values[c.key] for c in EXPENSES_TABLE.columns}}
        for r in parsed.tables.get("expenses", [])
    ])
    if parsed.notes:
        store.add_rows(conn, weekly_notes, [{"file_version_id": fv_id, "rep": parsed.rep, "week": parsed.week,
                                             **parsed.notes}])
