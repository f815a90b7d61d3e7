"""The no-op ingest: an inbox nothing touched since the last ingest is known so without the pipeline.

Most ``sheetsales ingest`` runs (a scheduled task, a user pressing the button twice) find nothing
new. The full run then still imports SQLAlchemy, openpyxl, xlsxwriter and the analyses (about
0.4 s before any work), opens and checks the store, hashes the playbook, asks the store for every
path's state and remembered stat, and records an empty ingest. This module decides "nothing
changed" from what costs nothing: the command-line ingest leaves :data:`QUIET_STATE` beside the
store when it ends, saying what the next run for the same day would find; the next run compares

- the workspace's settings (language, id, regions, database) and the day (``--as-of``),
- the store's mark: the highest row id of every table and the schema revision, one query in plain
  ``sqlite3`` (the store only appends, so any record by any process changes it),
- the playbook's SHA-256 (what the full run compares with the store),
- the inbox listing: every folder, and every file's size, modification time, change time and
  inode (a save, a copy over it, a rename onto it or a ``touch`` each change one of them),

and when all of them are as recorded, the full run would read nothing, hand out nothing (every
template it hands out is in the listing, the day and the store are the same), record no removal
and settle nothing (the store is as the last settlement left it): the command says what the full
run would say (the same lines, the same exit status) and stops, holding the workspace lock
throughout. Anything else, or any doubt (a folder that cannot be listed, another database than
a SQLite file, a file written too close to the moment it was listed), is a full run.

Only the standard library is imported here: this module is what the no-op path costs.

The stats a state records are trusted only when every file's times are at least ``RACY_NS``
older than the moment the listing began (the rule :mod:`sheetsales.storage.ingest` applies to
each file's remembered stat): a write within the same tick of a coarse clock could otherwise keep
them. A run that lists such a file leaves no state, so the next run is a full one.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import __version__
from .migrations import HEAD

QUIET_STATE = ".sheetsales-quiet.json"
FORMAT = 1

# A file's times are trusted when at least this much older than the moment its listing began (as
# ``ingest.RACY_NS``: 2 s, the tick of FAT and of some shares).
RACY_NS = 2_000_000_000


@dataclass(frozen=True)
class Listing:
    """The inbox as one ``digest`` of every entry, and each file's (size, mtime_ns) by label."""

    digest: str
    stats: dict[str, tuple[int, int]]
    newest_ns: int  # the latest modification or change time of any file (0: no file)
    started_ns: int  # when the listing began

    @property
    def trusted(self) -> bool:
        """Whether no file was written within ``RACY_NS`` of the listing (see the module docstring)."""
        return self.started_ns - self.newest_ns >= RACY_NS


def _label(parts: tuple[str, ...]) -> str:
    """The label :func:`sheetsales.storage.ingest.inbox_files` gives the same parts."""
    return "/".join(parts).encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def listing(inbox: Path) -> Listing | None:
    """Every folder and file under ``inbox``, walked as ``ingest.inbox_files`` walks it (a link to a
    folder is not entered, a link to a file counts with its target's stat); None when the inbox
    is missing or any part of it cannot be listed or stat'ed (only a full run can say what then)."""
    started = time.time_ns()
    entries: list[tuple[tuple[str, ...], str]] = []
    stats: dict[str, tuple[int, int]] = {}
    newest = 0
    pending: list[tuple[str, tuple[str, ...]]] = [(str(inbox), ())]
    try:
        if not os.path.isdir(inbox):
            return None
        while pending:
            folder, parts = pending.pop()
            with os.scandir(folder) as it:
                for entry in it:
                    here = (*parts, entry.name)
                    if entry.is_dir(follow_symlinks=False):
                        entries.append((here, "d"))
                        pending.append((entry.path, here))
                    elif entry.is_file():
                        st = entry.stat()
                        entries.append((here, f"f {st.st_size} {st.st_mtime_ns} {st.st_ctime_ns} {st.st_ino}"))
                        stats[_label(here)] = (st.st_size, st.st_mtime_ns)
                        newest = max(newest, st.st_mtime_ns, st.st_ctime_ns)
                    else:  # a broken link, a socket: listed by name, so that it cannot appear unseen
                        entries.append((here, "o"))
    except OSError:
        return None
    digest = hashlib.sha256()
    for parts, what in sorted(entries):
        digest.update("/".join(parts).encode("utf-8", "surrogateescape") + b"\0" + what.encode() + b"\n")
    return Listing(digest.hexdigest(), stats, newest, started)


def sqlite_url(path: Path) -> str:
    """The URL of the SQLite store at ``path`` (an absolute path: ``sqlite:////abs/path.db``)."""
    return f"sqlite:///{path}"


def sqlite_path(database_url: str) -> str | None:
    """The file of a plain SQLite URL (``sqlite:////abs/path.db``); None for any other database."""
    prefix = "sqlite:///"
    if not database_url.startswith(prefix) or "?" in database_url:
        return None
    path = database_url[len(prefix):]
    return path if path and path != ":memory:" and os.path.isfile(path) else None


def store_mark(database_url: str) -> str | None:
    """The store's schema revision and the highest row id of each of its tables, as one string.

    The store appends and never updates or deletes (:mod:`sheetsales.storage.store`), so any row
    recorded by any process changes it; a migration changes the revision. Read with the standard
    library's ``sqlite3`` in one query, without opening the store (SQLAlchemy's import alone costs
    more than the whole no-op). None for a database other than a SQLite file, or on any error.
    """
    path = sqlite_path(database_url)
    if path is None:
        return None
    try:
        conn = sqlite3.connect(f"file:{path}?mode=rw", uri=True, timeout=5)  # never creates a file
    except sqlite3.Error:
        return None
    try:
        names = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%' ORDER BY name")]
        if "alembic_version" not in names:
            return None
        tables = [n for n in names if n != "alembic_version"]
        quoted = ['"' + n.replace('"', '""') + '"' for n in tables]
        row = conn.execute("SELECT (SELECT group_concat(version_num) FROM alembic_version)"
                           + "".join(f", (SELECT max(rowid) FROM {q})" for q in quoted)).fetchone()
    except sqlite3.Error:
        return None
    finally:
        conn.close()
    if row[0] != HEAD:  # a store to migrate (or a newer one to refuse): the full run says what to do
        return None
    return ",".join([str(row[0]), *(f"{n}:{v or 0}" for n, v in zip(tables, row[1:], strict=True))])


def playbook_sha(path: Path) -> str:
    """The playbook's SHA-256 as the full run computes it; "" when there is none or it cannot be read."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return ""


def _settings(ws: Any) -> dict[str, Any]:
    return {"format": FORMAT, "version": __version__, "lang": ws.lang, "workspace_id": ws.workspace_id,
            "regions": list(ws.regions), "database_url": ws.database_url}


def begin(ws: Any) -> dict[str, Any] | None:
    """What a full ingest notes before it starts (the playbook as it reads it), for :func:`finish`;
    None for a store this module cannot mark (not a SQLite file)."""
    if sqlite_path(ws.database_url) is None:
        return None
    return {"playbook": playbook_sha(ws.playbook_path)}


def finish(ws: Any, as_of: Any, noted: dict[str, Any], seen: Listing, order: list[str]) -> dict[str, Any] | None:
    """The state a full ingest leaves when it ends (its writes done, still under the lock): ``noted``
    by :func:`begin`, the listing it worked from (``seen``, taken before any file was read) and the
    labels in the order it went through them. None when the listing cannot be trusted."""
    if not seen.trusted:
        return None
    mark = store_mark(ws.database_url)
    if mark is None:
        return None
    return {**_settings(ws), "as_of": as_of.isoformat(), "playbook": noted["playbook"], "mark": mark,
            "listing": seen.digest, "labels": order}


def remember(ws: Any, state: dict[str, Any] | None) -> None:
    """Keep ``state`` (completed by the command: ``open`` counts, ``departed`` folders) for the next
    run; None forgets the last one. A state that cannot be written only makes the next run a full one."""
    path = ws.root / QUIET_STATE
    try:
        if state is None:
            path.unlink(missing_ok=True)
            return
        tmp = path.with_name(f".{QUIET_STATE}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(state, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        pass


def unchanged(ws: Any, as_of: Any) -> dict[str, Any] | None:
    """The state the last ingest left, when the workspace is exactly as it said (see the module
    docstring); None when a full run is needed. Call it holding the workspace lock."""
    try:
        state = json.loads((ws.root / QUIET_STATE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(state, dict) or any(state.get(k) != v for k, v in _settings(ws).items()):
        return None
    if state.get("as_of") != as_of.isoformat() or not isinstance(state.get("labels"), list):
        return None
    if not isinstance(state.get("open"), dict) or not isinstance(state.get("departed"), list):
        return None
    if store_mark(ws.database_url) != state.get("mark"):
        return None
    if playbook_sha(ws.playbook_path) != state.get("playbook"):
        return None
    seen = listing(ws.inbox)
    if seen is None or seen.digest != state.get("listing"):
        return None
    return state
