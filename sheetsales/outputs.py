"""Outputs that people may have open: move a checked file into place, or beside it when locked.

Every generated file is built into a temporary file in the target's folder, checked, flushed to
disk and moved over the target in one step (``os.replace``), so a reader sees the old file or
the new one, never half of one, and a crash leaves the previous file byte-identical.

On Windows a workbook open in Excel cannot be replaced: the move fails with a sharing violation
(``PermissionError``). It is tried again after a back-off; if the target stays locked, the new
file is moved in as a timestamped copy beside it (``summary-20261123-073000.xlsx``) and the
caller says so (:func:`target_of` tells a copy from a target). Only the last ``keep`` copies of
a target are kept. Temporary files left by a process that was killed are removed at the next
write, once they are old enough not to belong to a write still running.
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


def move_into_place(tmp: Path, path: Path, policy: ReplacePolicy | None = None) -> Path:
    """Move the checked file ``tmp`` onto ``path``; returns where it went (``path`` or a timestamped copy)."""
    policy = policy or POLICY
    fsync_file(tmp)
    delays = (*policy.delays, None)
    for delay in delays:
        try:
            policy.replace(tmp, path)
            return path
        except PermissionError as exc:  # Windows: the target is open in Excel
            if delay is None:
                log.debug("%s still locked: %s", path, exc)
                break
            log.info("%s is locked (open in Excel?); trying again in %.1f s", path.name, delay)
            policy.sleep(delay)
    copy = copy_path(path, policy.now())
    policy.replace(tmp, copy)
    log.warning("%s is locked (open in Excel?); the new version was written to %s", path, copy.name)
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
