"""The figures of the last report, kept for the next one when nothing they come from has changed.

A report (``report``, ``report --json``, the watcher's and the scheduler's runs) first asks
:func:`summary_for`: when the store holds exactly the records it held when the figures were last
computed, for the same date, language, playbook file, settings and code, the kept
:class:`~sheetsales.analyses.analyse.Summary` is loaded (a fraction of a second) instead of analysing the
whole history again; the writers then find every output unchanged by its content digest.

What the figures come from, as one key: the store's identity (its URL and, for SQLite, the file
itself) and the highest id of every table whose rows a report can show (``Store.content_mark``:
the store is append-only, so any new record changes it), ``as_of``, the workspace language, the
playbook file's and ``sheetsales.toml``'s size and modification time, the size and modification
time of every module of the package (a new release or a changed rule computes again) and the
capability modules in use (``sections.MODULES``).
Anything else — a missing, damaged or foreign file — means the figures are computed.

The file is kept in the workspace folder (``.sheetsales-figures.pickle``, beside the database,
never in the shared ``reports/`` folder: only the process that writes the store writes it). It is
signed with a key of the user running sheetsales (kept in their state folder, readable by them
only) and unpickled only when the signature holds: a pickle is code, and a file planted in a folder
others can write must never run.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import json
import logging
import os
import pickle
import secrets
from pathlib import Path
from typing import TYPE_CHECKING

from .. import __version__
from ..method.dealstates import store_identity
from . import sections

if TYPE_CHECKING:
    from ..service.workspace import Workspace
    from ..storage.store import Store
    from .analyse import Summary

log = logging.getLogger(__name__)

FIGURES = ".sheetsales-figures.pickle"
# Bookkeeping, not figures: a run that recorded nothing new still adds rows to these.
NOT_FIGURES = ("ingests", "reads", "read_ends", "file_stats")


@functools.lru_cache(maxsize=1)
def code_signature() -> str:
    """The package's modules as they are on disk (name, size, modification time)."""
    folder = Path(__file__).resolve().parent.parent
    stats = []
    for path in sorted(folder.rglob("*.py")):
        st = path.stat()
        stats.append((str(path.relative_to(folder)), st.st_size, st.st_mtime_ns))
    return hashlib.sha256(json.dumps([__version__, stats]).encode()).hexdigest()


def _stat(path: Path) -> list:
    try:
        st = path.stat()
    except OSError:
        return []
    return [st.st_size, st.st_mtime_ns]


def figures_key(ws: Workspace, store: Store, as_of: dt.date) -> str:
    """What the figures of a report as of ``as_of`` come from, as one string."""
    parts = [list(store_identity(store)), store.content_mark(NOT_FIGURES), as_of.isoformat(), ws.lang,
             _stat(ws.playbook_path), _stat(ws.root / "sheetsales.toml"), code_signature(), list(sections.MODULES)]
    return hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()


MAGIC = b"sheetsales-figures-1\n"


def _secret() -> bytes:
    """This user's key for signing the kept figures: created on first use, readable by this user only
    (beside the list of workspaces, in the user's state folder, never in a shared folder)."""
    from ..service.workspace import registry_path

    path = registry_path().parent / "figures.key"
    try:
        key = path.read_bytes()
        if len(key) >= 32:
            return key
    except OSError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(32)
    tmp = path.with_name(f"figures.key.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key)
    os.replace(tmp, path)
    return key


def load(ws: Workspace, key: str) -> Summary | None:
    """The kept figures when they were computed from ``key``; None otherwise.

    The file is unpickled only when its signature (HMAC-SHA256 with this user's key) is right: a file
    put there by anyone else, or damaged, is never unpickled and the figures are computed."""
    try:
        data = (ws.root / FIGURES).read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        log.info("the kept figures cannot be read: %s", exc)
        return None
    try:
        signature, payload = data[len(MAGIC):len(MAGIC) + 32], data[len(MAGIC) + 32:]
        if not data.startswith(MAGIC) or not hmac.compare_digest(
                signature, hmac.new(_secret(), payload, hashlib.sha256).digest()):
            log.info("the kept figures are not signed by this user: computed again")
            return None
        kept_key, summary = pickle.loads(payload)
    except Exception as exc:  # written by another release: computed again
        log.info("the kept figures cannot be used: %s", exc)
        return None
    return summary if kept_key == key else None


def keep(ws: Workspace, key: str, summary: Summary) -> None:
    """Keep ``summary`` as the figures of ``key`` (a failure only costs an analysis next time)."""
    path = ws.root / FIGURES
    tmp = path.with_name(f"{FIGURES}.{os.getpid()}.tmp")
    try:
        payload = pickle.dumps((key, summary), protocol=pickle.HIGHEST_PROTOCOL)
        with open(tmp, "wb") as f:
            f.write(MAGIC + hmac.new(_secret(), payload, hashlib.sha256).digest() + payload)
        os.replace(tmp, path)
    except Exception as exc:
        log.warning("cannot keep the figures in %s: %s", path, exc)
        try:
            tmp.unlink()
        except OSError:
            pass


def summary_for(ws: Workspace, store: Store, as_of: dt.date, *, keep_now: bool = True) -> tuple[Summary, str]:
    """The summary as of ``as_of``: the kept figures when nothing they come from changed, else analysed.

    Returns the summary and the key to keep it under ("" when it was the kept one). With
    ``keep_now`` it is kept at once; a report keeps it (:func:`keep`) after its outputs are written,
    so that a save's summary is not delayed by it.
    """
    from ..storage.ingest import load_playbook
    from .analyse import analyse

    key = figures_key(ws, store, as_of)
    summary = load(ws, key)
    if summary is not None:
        return summary, ""
    playbook, _ = load_playbook(ws, store, as_of)
    summary = analyse(store, playbook, as_of, ws.lang)
    if keep_now:
        keep(ws, key, summary)
    return summary, key
