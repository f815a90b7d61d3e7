"""Service settings from ``sheetsales.toml``: the watcher's ``[watch]`` and the ``[schedule]`` tables.

::

    [watch]
    polling = false          # true on SMB/NFS shares, which deliver no change events
    poll_interval = 5        # seconds between two looks of the polling observer
    reconcile_interval = 60  # seconds between full scans that catch what events missed
    debounce = 0.3           # seconds of quiet after a file's last event before it is read
    settle = 0.3             # seconds its size and modification time must stay the same
                             # (not waited for a file renamed onto its name that opens complete)
    max_tries = 5            # checks of a file that does not open before it is reported
    max_wait = 300           # seconds a file may keep changing before it is read as it is
    keep_copies = 5          # timestamped copies kept beside an output that was open in Excel

    [schedule]
    cron = "30 7 * * 1"      # one cron expression or a list of them (here: Mondays 07:30)
    timezone = "Asia/Shanghai"  # default: the machine's time zone
    digest = true            # write reports/digest-<week>.html at each scheduled run

Every key is optional. A setting that is not understood stops the service with a message,
rather than being silently ignored for weeks.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, fields, replace
from typing import Any

from .workspace import CONFIG, Workspace, WorkspaceError

DEFAULT_CRON = "30 7 * * 1"  # Monday 07:30, before the weekly MPC review


@dataclass(frozen=True)
class WatchSettings:
    polling: bool = False
    poll_interval: float = 5.0
    reconcile_interval: float = 60.0
    debounce: float = 0.3  # Excel's save is a burst of events within milliseconds
    settle: float = 0.3  # LibreOffice writes in place; the zip check is what guards a half-written file
    max_tries: int = 5
    retry_delay: float = 1.0  # first wait after a check that failed; doubles, up to 30 s
    max_wait: float = 300.0
    batch_wait: float = 15.0  # a ready file waits at most this long for the rest of its burst
    keep_copies: int = 5
    tick: float = 0.1  # how often the watcher looks at its queue
    failure_delay: float = 10.0  # first wait after a failed run; doubles, up to 5 minutes


@dataclass(frozen=True)
class ScheduleSettings:
    cron: tuple[str, ...] = ()
    timezone: str = ""
    digest: bool = True


def _coerce(cls: type, table: dict[str, Any], section: str) -> Any:
    known = {f.name: f for f in fields(cls)}
    values: dict[str, Any] = {}
    for key, value in table.items():
        f = known.get(key)
        if f is None:
            raise WorkspaceError(f"{CONFIG}: unknown setting [{section}] {key}; known: {', '.join(known)}")
        default = getattr(cls(), key)
        if isinstance(default, bool):
            ok = isinstance(value, bool)
        elif isinstance(default, int):
            ok = isinstance(value, int) and not isinstance(value, bool) and value >= 0
        elif isinstance(default, float):
            ok = isinstance(value, int | float) and not isinstance(value, bool) and value >= 0
            value = float(value) if ok else value
        elif key == "cron":
            value = (value,) if isinstance(value, str) else value
            ok = isinstance(value, list | tuple) and all(isinstance(v, str) and v.strip() for v in value)
            value = tuple(value) if ok else value
        else:
            ok = isinstance(value, str)
        if not ok:
            raise WorkspaceError(f"{CONFIG}: [{section}] {key} = {value!r} is not valid (default: {default!r})")
        values[key] = value
    return replace(cls(), **values)


def load_settings(ws: Workspace) -> tuple[WatchSettings, ScheduleSettings]:
    """The ``[watch]`` and ``[schedule]`` settings of ``ws`` (defaults for what is not set)."""
    cfg = tomllib.loads((ws.root / CONFIG).read_text(encoding="utf-8"))
    watch = cfg.get("watch", {})
    schedule = cfg.get("schedule", {})
    if not isinstance(watch, dict) or not isinstance(schedule, dict):
        raise WorkspaceError(f"{CONFIG}: [watch] and [schedule] must be tables")
    return _coerce(WatchSettings, watch, "watch"), _coerce(ScheduleSettings, schedule, "schedule")
