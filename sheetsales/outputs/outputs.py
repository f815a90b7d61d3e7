"""Outputs that people may have open: move a checked file into place, or beside it when locked.

Every generated file is built into a temporary file in the target's folder, checked, flushed to
disk and moved over the target in one step (``os.replace``), so a reader sees the old file or
the new one, never half of one, and a crash leaves the previous file byte-identical.

On Windows a workbook open in Excel cannot be replaced: the move fails with a sharing violation
(``PermissionError``). It is tried again after a back-off; if the target stays locked, the new
file is moved in as a timestamped copy beside it (``summary-20261123-073000.xlsx``) and the
caller says so (:func:`target_of` tells a copy from a target). Any other failure to replace the
target (a folder where the file should be, a permission refused, a share gone read-only) is not
waited on: the new file goes straight to the timestamped copy. Every such event is recorded as an
:class:`OutputProblem` for the run's result, so the command line and the watcher's log say so.
Only the last ``keep`` copies of a target are kept.

Temporary files left by a process that was killed are removed by :func:`clear_debris` at the
start of every report run (which holds the workspace lock, so no other writer is under way) and,
for writers without the lock, at the next write once they are an hour old.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

log = logging.getLogger(__name__)

STALE_AFTER = 3600.0  # seconds: no write takes this long, so an older temporary file is debris
_COPY = re.compile(r"^(?P<stem>.+)-(?P<stamp>\d{8}-\d{6})(?:-(?P<n>\d+))?$")
_TEMP = re.compile(r"^\..*\.tmp(\.[^.]+)?$")  # .summary.1a2b3c4d.tmp.xlsx, .sheetsales-feedback.json.tmp


@dataclass(frozen=True)
class OutputProblem:
    """An output that could not be put in place: written beside it as ``copy``, or not at all."""

    target: Path
    error: str  # "IsADirectoryError: [Errno 21] Is a directory: ..."
    copy: Path | None = None
    locked: bool = False  # the target was open (a sharing violation that outlasted the back-off)


def describe(exc: BaseException) -> str:
    """One line for a log or a message: the error class and what it says."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


@dataclass
class ReplacePolicy:
    """How a checked file is moved into place; the seams tests (and Windows) exercise."""

    delays: tuple[float, ...] = (0.5, 1.0, 2.0, 4.0)  # back-off between tries on a locked target
    keep: int = 5  # timestamped copies kept per target
    replace: Callable[[Path, Path], None] = field(default=os.replace)
    sleep: Callable[[float], None] = field(default=time.sleep)
    now: Callable[[], dt.datetime] = field(default=dt.datetime.now)


POLICY = ReplacePolicy()


def configure(**changes: object) -> ReplacePolicy:
    """Change the default policy (the watcher sets ``keep`` from ``sheetsales.toml``)."""
    global POLICY
    POLICY = replace(POLICY, **changes)
    return POLICY


def temp_path(path: Path) -> Path:
    """A fresh temporary name beside ``path``, with the same suffix (``.summary.1a2b3c4d.tmp.xlsx``)."""
    return path.with_name(f".{path.stem}.{uuid.uuid4().hex[:8]}.tmp{path.suffix}")


def remove_stale_temps(path: Path, older_than: float = STALE_AFTER) -> list[Path]:
    """Remove temporary files of ``path`` left by a killed process; young ones may be a write in progress."""
    removed = []
    cutoff = time.time() - older_than
    try:
        candidates = list(path.parent.glob(f".{path.stem}.*.tmp{path.suffix}"))
    except OSError:
        return removed
    for tmp in candidates:
        try:
            if tmp.stat().st_mtime < cutoff:
                tmp.unlink()
                removed.append(tmp)
        except OSError:
            continue
    return removed


def clear_debris(*folders: Path) -> list[Path]:
    """Remove every temporary file of an interrupted write in ``folders`` (not recursive), whatever its age.

    Only for a caller that holds the workspace lock: then no other write can be under way.
    """
    removed = []
    for folder in folders:
        try:
            entries = list(folder.iterdir())
        except OSError:
            continue
        for tmp in entries:
            if not _TEMP.match(tmp.name):
                continue
            try:
                if tmp.is_file():
                    tmp.unlink()
                    removed.append(tmp)
            except OSError:
                continue
    if removed:
        log.info("removed %d temporary files of interrupted writes: %s", len(removed),
                 ", ".join(p.name for p in removed))
    return removed


def fsync_file(path: Path) -> None:
    """Flush ``path`` to disk before it replaces anything (best effort: some shares refuse)."""
    try:
        fd = os.open(path, os.O_RDWR | getattr(os, "O_BINARY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def move_into_place(tmp: Path, path: Path, policy: ReplacePolicy | None = None,
                    problems: list[OutputProblem] | None = None) -> Path:
    """Move the checked file ``tmp`` onto ``path``; returns where it went (``path`` or a timestamped copy).

    A sharing violation (``PermissionError``: open in Excel on Windows) is tried again after each
    of ``policy.delays``; any other ``OSError`` is not waited on. Either way the file then goes to a
    timestamped copy beside ``path``, recorded in ``problems``. When even the copy cannot be
    written, the first error is raised (``tmp`` stays for the caller to remove).
    """
    policy = policy or POLICY
    fsync_file(tmp)
    delays = (*policy.delays, None)
    failure: OSError | None = None
    locked = False
    for delay in delays:
        try:
            policy.replace(tmp, path)
            return path
        except PermissionError as exc:  # Windows: the target is open in Excel
            failure, locked = exc, True
            if delay is None:
                log.debug("%s still locked: %s", path, exc)
                break
            log.info("%s is locked (open in Excel?); trying again in %.1f s", path.name, delay)
            policy.sleep(delay)
        except OSError as exc:  # a folder in the way, a read-only share, …: waiting will not help
            failure = exc
            break
    copy = copy_path(path, policy.now())
    try:
        policy.replace(tmp, copy)
    except OSError as exc:
        log.warning("%s could not be replaced (%s) nor written beside it (%s)", path, describe(failure), describe(exc))
        raise failure from exc
    if locked:
        log.warning("%s is locked (open in Excel?); the new version was written to %s", path, copy.name)
    else:
        log.warning("%s could not be replaced (%s); the new version was written to %s", path, describe(failure),
                    copy.name)
    if problems is not None:
        problems.append(OutputProblem(path, describe(failure), copy, locked))
    prune_copies(path, policy.keep)
    return copy


def copy_path(path: Path, when: dt.datetime) -> Path:
    """``<stem>-yyyymmdd-hhmmss<suffix>`` beside ``path``, numbered when that name is taken."""
    base = f"{path.stem}-{when:%Y%m%d-%H%M%S}"
    copy = path.with_name(base + path.suffix)
    n = 2
    while copy.exists():
        copy = path.with_name(f"{base}-{n}{path.suffix}")
        n += 1
    return copy


def target_of(path: Path) -> Path | None:
    """The target a timestamped copy stands in for, or None when ``path`` is not such a copy."""
    m = _COPY.match(path.stem)
    return path.with_name(m["stem"] + path.suffix) if m else None


def copies_of(path: Path) -> list[Path]:
    """The timestamped copies of ``path``, oldest first."""
    out = []
    try:
        for p in path.parent.glob(f"{path.stem}-*{path.suffix}"):
            m = _COPY.match(p.stem)
            if m and m["stem"] == path.stem:
                out.append((m["stamp"], int(m["n"] or 1), p))
    except OSError:
        return []
    return [p for *_, p in sorted(out)]


def prune_copies(path: Path, keep: int) -> list[Path]:
    """Delete all but the last ``keep`` copies of ``path``; a copy someone holds open stays."""
    removed = []
    copies = copies_of(path)
    for old in copies[: max(len(copies) - max(keep, 0), 0)]:
        try:
            old.unlink()
            removed.append(old)
        except OSError:
            continue
    return removed
