"""What each output was last written from: rewrite only the outputs whose content changed.

Every generated workbook (``summary.xlsx``, ``regions/<region>.xlsx``, ``feedback/<person>.xlsx``)
has a *fingerprint*: a hash of exactly what it is built from (the tables handed to its builder, the
language, the date its titles show) and of the writer itself (its layout version, the release and
the package's code signature, so that a new release rewrites every output once). The manifest
(``reports/.sheetsales-manifest.json``) records, for each output put in place, that fingerprint and
the file's size and modification time as written. A report skips an output only when its
fingerprint is unchanged *and* the file is still there with the recorded size and modification time:
an output someone deleted, damaged or replaced is written again, without reading any file.

The fingerprint must be the same in every process (``PYTHONHASHSEED`` varies: a set's order does):
it is canonical JSON with sorted keys, sets sorted, dates as ISO text. Anything it cannot spell
exactly (an object of no known kind) gives no fingerprint, which always means "rewrite", never
"skip". Only what went into place is recorded: an output written beside a locked target as a
timestamped copy leaves no entry, so the next report tries its target again.
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Any

from .outputs import describe, temp_path

log = logging.getLogger(__name__)

MANIFEST = ".sheetsales-manifest.json"
FORMAT = 1  # of the manifest file itself
# Where earlier releases recorded the same, one file per output (and regions/.sheetsales-<region>.json):
# removed once a manifest is written.
LEGACY = (".sheetsales-summary.json", "feedback/.sheetsales-feedback.json")


def _canonical(value: Any) -> Any:
    """JSON for what :func:`json.dumps` does not spell itself; anything unknown raises (no fingerprint)."""
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, set | frozenset):
        return sorted(json.dumps(v, default=_canonical, ensure_ascii=False, sort_keys=True) for v in value)
    if isinstance(value, decimal.Decimal | Path):
        return str(value)
    raise TypeError(f"no canonical form for {type(value).__name__}")


def canonical(value: Any) -> str:
    """``value`` as canonical JSON (sorted keys, sets sorted, dates ISO); raises on an unknown kind."""
    return json.dumps(value, default=_canonical, ensure_ascii=False, sort_keys=True)


def fingerprint(*parts: Any) -> str | None:
    """A hash of ``parts``, the same in every process; None when they cannot be spelled exactly."""
    try:
        return hashlib.sha256(canonical(parts).encode("utf-8", "surrogatepass")).hexdigest()
    except Exception as exc:  # a value of no known kind, a dict with mixed keys, …: written again
        log.debug("no fingerprint (the output is rewritten): %s", describe(exc))
        return None


def record_hash(record: Any) -> bytes | None:
    """The hash of one record, to combine into a fingerprint (None when it has none)."""
    try:
        return hashlib.sha256(canonical(record).encode("utf-8", "surrogatepass")).digest()
    except Exception:
        return None


class Manifest:
    """The outputs of a folder (``reports/``): per output, its fingerprint, size and modification time.

    Also the ledger of one run: :attr:`written` and :attr:`unchanged` list the outputs it wrote and
    the ones it found current. Loaded at the start of a report, saved (atomically) at its end; a run
    killed half-way loses only the entries of what it wrote, which are then written once more.
    """

    def __init__(self, folder: Path, entries: dict[str, dict] | None = None) -> None:
        self.folder = folder
        self.entries: dict[str, dict] = entries or {}
        self.written: list[Path] = []
        self.unchanged: list[Path] = []

    @classmethod
    def load(cls, folder: Path) -> Manifest:
        """The manifest of ``folder`` (empty when there is none, or it cannot be read: all is written)."""
        try:
            data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return cls(folder)
        entries = data.get("outputs") if isinstance(data, dict) and data.get("format") == FORMAT else None
        if not isinstance(entries, dict):
            return cls(folder)
        return cls(folder, {k: v for k, v in entries.items() if isinstance(v, dict)})

    def key(self, path: Path) -> str:
        try:
            return path.relative_to(self.folder).as_posix()
        except ValueError:
            return str(path)

    def current(self, path: Path, fingerprint: str | None) -> bool:
        """True when ``path`` is there exactly as written from ``fingerprint`` (noted as unchanged)."""
        if not fingerprint or self.recorded(path) != fingerprint:
            return False
        self.unchanged.append(path)
        return True

    def recorded(self, path: Path) -> str | None:
        """The fingerprint ``path`` was written from, when the file is there as written; else None."""
        entry = self.entries.get(self.key(path))
        if entry is None:
            return None
        try:
            st = path.stat()
        except OSError:
            return None
        if entry.get("size") != st.st_size or entry.get("mtime_ns") != st.st_mtime_ns:
            return None
        return entry.get("fingerprint") or None

    def record(self, path: Path, fingerprint: str | None, target: Path | None = None) -> None:
        """``path`` was written from ``fingerprint`` and went to ``target`` (default ``path``).

        Only a file that went to its own place is recorded; one written beside it (a timestamped copy)
        or without a fingerprint removes the entry, so the next run writes ``path`` again."""
        target = path if target is None else target
        self.written.append(target)
        key = self.key(path)
        if target != path or not fingerprint:
            self.entries.pop(key, None)
            return
        try:
            st = path.stat()
        except OSError:
            self.entries.pop(key, None)
            return
        self.entries[key] = {"fingerprint": fingerprint, "size": st.st_size, "mtime_ns": st.st_mtime_ns}

    def save(self) -> None:
        """Write the manifest atomically (a failure only costs rewriting unchanged outputs next time)."""
        path = self.folder / MANIFEST
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            tmp = temp_path(path)
            tmp.write_text(json.dumps({"format": FORMAT, "outputs": self.entries}, ensure_ascii=False,
                                      sort_keys=True, indent=0), encoding="utf-8")
            os.replace(tmp, path)
        except OSError as exc:
            log.warning("could not record what the outputs in %s were written from: %s", self.folder, describe(exc))
            return
        try:
            legacy = [self.folder / name for name in LEGACY] + list((self.folder / "regions").glob(".sheetsales-*.json"))
        except OSError:
            legacy = []
        for old in legacy:
            try:
                old.unlink()
            except OSError:
                pass
