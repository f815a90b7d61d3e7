"""Watch: the shared inbox comes alive — a rep saves, and within seconds the reports follow.

The watcher is a thin shell over the pipeline (``ingest`` then ``run_report``). What it decides
lives in :class:`InboxTracker`, which a test drives with a clock of its own:

- every event (created, modified, moved — both names —, deleted) *notices* a path; lock and
  temporary files are ignored (:func:`sheetsales.reading.read.ignored_name`), and so are events that
  only say a file was opened;
- a noticed file is looked at once it has been quiet for ``debounce`` seconds. It is *ready*
  when its size and modification time stayed the same for ``settle`` seconds and a private copy
  of it opens as a zip (a half-written workbook does not). A file whose last event moved it onto
  its name (Excel ends every save so: the file arrives whole) is ready at the first look when
  its copy opens complete, without waiting to settle. A file that does not open is tried
  again with back-off; after ``max_tries`` (or ``max_wait`` seconds of changing) it is reported
  (``file-incomplete``) and read as it is, and ingest says what is wrong with it;
- a run is due when every noticed file is ready: one ingest and one regeneration per burst. The
  ingest looks only at the batch's files (``ingest(only=...)``): the others are as the last run
  saw them; removals and the hand-out still consider the whole inbox.
  Before a run a scan compares every file with what the last run saw, so a file that is being
  written without an event yet holds the run back; the same scan, every ``reconcile_interval``,
  catches what events missed (shares on SMB or NFS deliver none);
- a file whose size and time are what the last run saw is no news: the watcher never reacts to
  what the pipeline itself wrote (the templates it hands out; its reports are not in the inbox).

:class:`Watcher` feeds the tracker from a watchdog observer (inotify, or polling), supervises it
and restarts it, treats a vanished or empty inbox as "source unavailable" (never as deletions),
runs the pipeline, and survives every error: a failed run is retried later and no save is dropped.
The rep's file is never held open: it is copied to private staging (a few milliseconds) and the
copy is checked; ingest stages and archives again before it parses.

Each run holds the workspace lock (a manual ``sheetsales ingest`` meanwhile waits, and the
watcher waits for one that is under way). The reports follow the store, not only the watcher's
own runs: whenever the store holds records newer than the outputs show (someone else's ingest),
they are regenerated. A report that fails is retried on its own back-off: it never delays the
ingest of the next save.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import shutil
import stat
import threading
import time
import uuid
import zipfile
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from watchdog.events import FileSystemEvent, FileSystemEventHandler

from ..i18n import t
from ..issues import Issue
from ..outputs.report import ReportResult, output_messages, outputs_current, run_report
from ..reading.read import ZIP_MAGIC, ignored_name
from ..storage.ingest import IngestResult, ingest
from ..storage.store import Store
from .settings import WatchSettings
from .workspace import Workspace, WorkspaceBusy

log = logging.getLogger(__name__)

Sig = tuple[int, int]  # (size, modification time in ns): what "the file changed" means here
Clock = Callable[[], float]
STALE_CHECK = 1.0  # seconds between two looks at whether someone else's ingest made the reports stale


class SourceUnavailable(OSError):
    """The inbox (often a share) cannot be reached: nothing in it may be taken as deleted."""


def file_sig(path: Path) -> Sig:
    st = os.stat(path)
    return st.st_size, st.st_mtime_ns


def opens_as_workbook(path: Path) -> bool:
    """True when ``path`` is complete enough to read: a zip whose entries all check, or not a zip at all.

    A file that is not a zip (a CSV, an old .xls) is complete as far as waiting goes: ingest
    reports what it is. An empty file is not complete: savers create the file before writing it.
    """
    try:
        with path.open("rb") as fh:
            head = fh.read(len(ZIP_MAGIC))
        if head != ZIP_MAGIC:
            return bool(head)
        with zipfile.ZipFile(path) as zf:
            return zf.testzip() is None
    except Exception:  # BadZipFile, EOFError, zlib.error, OSError: not (yet) a whole file
        return False


@dataclass
class _Pending:
    first: float  # when the file was first noticed (bounds how long it may keep changing)
    last_event: float
    gen: int = 0  # bumped by every event: a run only clears what it saw
    sig: Sig | None = None
    since: float = 0.0  # when ``sig`` was first seen
    next_check: float = 0.0
    tries: int = 0
    ready: bool = False
    ready_at: float = 0.0
    issue: Issue | None = None
    renamed: bool = False  # its last event moved it onto its name (Excel's save): complete at once


@dataclass
class Batch:
    """What one run covers: the ready files (with the event generation seen) and the inbox as scanned."""

    gens: dict[Path, int]
    snapshot: dict[Path, Sig]
    issues: list[Issue] = field(default_factory=list)
    full: bool = False  # a start-up or scheduled run, not triggered by saves

    @property
    def paths(self) -> list[Path]:
        return sorted(self.gens)


class InboxTracker:
    """Decides which files are ready and when a run is due; thread-safe, clock injectable.

    ``notice`` is called from the observer's thread; ``due``, ``reconcile``, ``done`` from the
    watcher's loop. ``extra`` are single files watched besides the inbox (the playbook).
    """

    def __init__(self, inbox: Path, settings: WatchSettings | None = None, *, extra: Sequence[Path] = (),
                 staging: Path | None = None, clock: Clock = time.monotonic) -> None:
        self.inbox = Path(os.path.abspath(inbox))
        self.extra = [Path(os.path.abspath(p)) for p in extra]
        self.s = settings or WatchSettings()
        self.staging = staging
        self.clock = clock
        self.known: dict[Path, Sig] = {}  # what the last successful run saw
        self.pending: dict[Path, _Pending] = {}
        self.scan_requested = False
        self.lock = threading.RLock()

    # --- naming -----------------------------------------------------------------------------
    def relevant(self, path: Path) -> bool:
        if path in self.extra:
            return True
        return self.inbox in path.parents and not ignored_name(path.name)

    def label(self, path: Path) -> tuple[str, str]:
        """(label as ingest names the file, folder rep)."""
        try:
            rel = path.relative_to(self.inbox)
        except ValueError:
            return path.name, ""
        return rel.as_posix(), rel.parts[0] if len(rel.parts) > 1 else ""

    # --- events -----------------------------------------------------------------------------
    def notice(self, path: Path | str, renamed: bool = False) -> bool:
        """A file may have changed (an event, or a scan found it different); False when it is ignored.

        ``renamed``: the event moved the file onto this name (how Excel ends a save).
        """
        path = Path(os.path.abspath(path))
        if not self.relevant(path):
            return False
        with self.lock:
            self._notice(path, self.clock(), renamed)
        return True

    def _notice(self, path: Path, now: float, renamed: bool = False) -> None:
        p = self.pending.get(path)
        if p is None:
            p = self.pending[path] = _Pending(first=now, last_event=now)
        p.last_event = now
        p.gen += 1
        p.ready, p.sig, p.tries, p.next_check, p.issue = False, None, 0, 0.0, None
        p.renamed = renamed

    def request_scan(self) -> None:
        """A folder appeared, vanished or moved: compare everything at the next turn."""
        self.scan_requested = True

    # --- scanning ---------------------------------------------------------------------------
    def scan(self) -> dict[Path, Sig]:
        """The signature of every candidate file, as ingest would list them.

        Raises :class:`SourceUnavailable` when the inbox cannot be listed, or when it is empty
        (no file, no folder) although files were there: an unmounted share, not deletions.
        Files in a folder that cannot be listed keep their last known signature.
        """
        try:
            if not stat.S_ISDIR(os.stat(self.inbox).st_mode):
                raise SourceUnavailable(f"{self.inbox} is not a folder")
        except SourceUnavailable:
            raise
        except OSError as exc:
            raise SourceUnavailable(str(exc)) from exc
        out: dict[Path, Sig] = {}
        unreadable: list[Path] = []
        folders = 0
        stack = [self.inbox]
        while stack:
            folder = stack.pop()
            try:
                with os.scandir(folder) as it:
                    entries = list(it)
            except OSError as exc:
                if folder == self.inbox:
                    raise SourceUnavailable(str(exc)) from exc
                unreadable.append(folder)
                continue
            for entry in entries:
                try:
                    if entry.is_dir(follow_symlinks=False):
                        folders += 1
                        stack.append(Path(entry.path))
                    elif not ignored_name(entry.name) and entry.is_file():
                        st = entry.stat()
                        out[Path(entry.path)] = (st.st_size, st.st_mtime_ns)
                except OSError:
                    continue  # vanished while listed
        inbox_known = [p for p in self.known if p not in self.extra]
        if not out and not folders and inbox_known:
            raise SourceUnavailable(f"{self.inbox} is empty")
        for path in inbox_known:
            if path not in out and any(f in path.parents for f in unreadable):
                out[path] = self.known[path]
        for path in self.extra:
            try:
                out[path] = file_sig(path)
            except OSError:
                pass
        return out

    def reconcile(self) -> list[Path]:
        """Notice every file that differs from what the last run saw and is not already noticed."""
        snapshot = self.scan()
        with self.lock:
            self.scan_requested = False
            now = self.clock()
            changed = [p for p, sig in snapshot.items() if self.known.get(p) != sig and p not in self.pending]
            changed += [p for p in self.known if p not in snapshot and p not in self.pending]
            for path in changed:
                self._notice(path, now)
        return sorted(changed)

    # --- deciding ---------------------------------------------------------------------------
    def due(self) -> Batch | None:
        """Advance every noticed file; a batch when a run should happen now."""
        with self.lock:
            now = self.clock()
            self._advance(now)
            if not any(p.ready for p in self.pending.values()):
                return None
            waiting = [p for p in self.pending.values() if not p.ready]
            if waiting:
                oldest = min(p.ready_at for p in self.pending.values() if p.ready)
                if now - oldest < self.s.batch_wait:
                    return None
            snapshot = self.scan()
            # A change no event announced yet (or one since a file was found ready) holds the run back.
            fresh = [p for p, sig in snapshot.items() if self.known.get(p) != sig and (
                p not in self.pending or (self.pending[p].ready and self.pending[p].sig not in (None, sig)))]
            if fresh:
                for path in fresh:
                    self._notice(path, now)
                return None
            return self._batch(snapshot)

    def full_batch(self) -> Batch:
        """A run not triggered by saves (start-up, schedule): covers whatever is ready too."""
        snapshot = self.scan()
        with self.lock:
            batch = self._batch(snapshot)
        batch.full = True
        return batch

    def _batch(self, snapshot: dict[Path, Sig]) -> Batch:
        ready = {path: p for path, p in self.pending.items() if p.ready}
        return Batch(gens={path: p.gen for path, p in ready.items()}, snapshot=snapshot,
                     issues=[p.issue for p in ready.values() if p.issue])

    def done(self, batch: Batch, written: Iterable[Path] = ()) -> None:
        """The run succeeded: what it saw is known; files that changed meanwhile stay noticed.

        ``written`` are files the pipeline itself put in the inbox (templates it handed out).
        """
        with self.lock:
            self.known = dict(batch.snapshot)
            for path in written:
                path = Path(os.path.abspath(path))
                try:
                    self.known[path] = file_sig(path)
                except OSError:
                    continue
            for path, gen in batch.gens.items():
                p = self.pending.get(path)
                if p is not None and p.gen == gen:
                    del self.pending[path]

    def idle(self) -> bool:
        with self.lock:
            return not self.pending

    # --- one file ---------------------------------------------------------------------------
    def _advance(self, now: float) -> None:
        s = self.s
        for path, p in list(self.pending.items()):
            if p.ready or now < p.next_check:
                continue
            overdue = now - p.first >= s.max_wait
            if now - p.last_event < s.debounce and not overdue:
                continue
            try:
                sig = file_sig(path)
            except FileNotFoundError:
                self._check_root()
                if path in self.known:
                    self._ready(p, now)  # deleted (or moved away): ingest records it
                else:
                    del self.pending[path]
                continue
            except OSError:
                self._check_root()
                self._retry(path, p, now, overdue)
                continue
            if sig == self.known.get(path):
                del self.pending[path]  # what the last run saw: no news
                continue
            if sig != p.sig:
                first_look = p.sig is None
                p.sig, p.since = sig, now
                if overdue:
                    self._give_up(path, p, now)
                elif first_look and p.renamed and self._complete(path, sig):
                    self._ready(p, now)  # moved in whole and opens complete: nothing is writing it
                else:
                    p.next_check = now + s.settle
                continue
            if now - p.since < s.settle:
                p.next_check = p.since + s.settle
                continue
            if self._complete(path, sig):
                self._ready(p, now)
            else:
                self._retry(path, p, now, overdue)

    def _complete(self, path: Path, sig: Sig) -> bool:
        """Copy the file to private staging (never holding the rep's file open) and check the copy."""
        staging = self.staging or Path(os.environ.get("TMPDIR", "/tmp"))
        staging.mkdir(parents=True, exist_ok=True)
        copy = staging / f"{uuid.uuid4().hex}{path.suffix.lower()}"
        try:
            shutil.copyfile(path, copy)
            if file_sig(path) != sig:  # written to while copied
                return False
            return opens_as_workbook(copy)
        except OSError:
            return False
        finally:
            try:
                copy.unlink(missing_ok=True)
            except OSError:
                pass

    def _ready(self, p: _Pending, now: float) -> None:
        p.ready, p.ready_at = True, now

    def _retry(self, path: Path, p: _Pending, now: float, overdue: bool) -> None:
        p.tries += 1
        if p.tries >= self.s.max_tries or overdue:
            self._give_up(path, p, now)
            return
        p.sig = None
        p.next_check = now + min(self.s.retry_delay * 2 ** (p.tries - 1), 30.0)
        log.info("%s is not complete yet (check %d of %d)", self.label(path)[0], p.tries, self.s.max_tries)

    def _give_up(self, path: Path, p: _Pending, now: float) -> None:
        label, rep = self.label(path)
        p.issue = Issue("file-incomplete", label, rep=rep,
                        params={"tries": max(p.tries, 1), "seconds": round(now - p.first)})
        self._ready(p, now)

    def _check_root(self) -> None:
        try:
            if os.path.isdir(self.inbox):
                return
        except OSError:
            pass
        raise SourceUnavailable(f"{self.inbox} cannot be reached")


# --------------------------------------------------------------------------------------------
# The observer: watchdog events → tracker
# --------------------------------------------------------------------------------------------
IGNORED_EVENTS = {"opened", "closed_no_write", "attrib"}  # reading a file is not changing it


class _Handler(FileSystemEventHandler):
    def __init__(self, tracker: InboxTracker) -> None:
        self.tracker = tracker

    def dispatch(self, event: FileSystemEvent) -> None:
        try:
            if event.event_type in IGNORED_EVENTS:
                return
            if event.is_directory:
                if event.event_type in ("created", "deleted", "moved"):
                    self.tracker.request_scan()
                return
            dest = getattr(event, "dest_path", "")
            if event.src_path:
                self.tracker.notice(os.fsdecode(event.src_path))
            if dest:
                self.tracker.notice(os.fsdecode(dest), renamed=event.event_type == "moved")
        except Exception:  # an observer thread that raises stops watching: never let it
            log.exception("watcher: could not handle %r", event)


def make_observer(polling: bool, poll_interval: float) -> Any:
    if polling:
        from watchdog.observers.polling import PollingObserver

        return PollingObserver(timeout=poll_interval)
    from watchdog.observers import Observer

    return Observer()


# --------------------------------------------------------------------------------------------
# The watcher
# --------------------------------------------------------------------------------------------
class Watcher:
    """Runs the pipeline whenever the tracker says so, on schedule, and never dies.

    ``as_of`` fixes the date of every run (default: the date at each run). ``scheduler`` (see
    :mod:`sheetsales.service.schedule`) adds scheduled runs with the HTML digest. ``ingest_fn``,
    ``report_fn``, ``digest_fn``, ``clock`` and ``wall`` are seams for tests; ``ingest_fn`` is called
    as ``ingest`` is, with ``only=`` the batch's paths for a run triggered by saves.
    """

    def __init__(self, ws: Workspace, settings: WatchSettings | None = None, *, scheduler: Any = None,
                 digest: bool = True, as_of: dt.date | None = None,
                 ingest_fn: Callable[..., IngestResult] = ingest,
                 report_fn: Callable[[Workspace, dt.date], ReportResult] = run_report,
                 digest_fn: Callable[[Any, Path], Path] | None = None,
                 clock: Clock = time.monotonic, wall: Callable[[], dt.datetime] = dt.datetime.now) -> None:
        self.ws = ws
        self.s = settings or WatchSettings()
        self.scheduler = scheduler
        self.digest = digest
        self.as_of = as_of
        self.ingest_fn, self.report_fn = ingest_fn, report_fn
        self.digest_fn = digest_fn
        self.clock, self.wall = clock, wall
        self.tracker = InboxTracker(ws.inbox, self.s, extra=(ws.playbook_path,), staging=ws.staging / "watch",
                                    clock=clock)
        self.stats: Counter[str] = Counter()
        self.issues: list[Issue] = []
        self.runs: list[list[str]] = []  # the files each run was triggered by (the last 100 runs)
        # Files a run could not read or record (locked, vanished, an error before archiving): the
        # next run looks at them again, as a run over the whole inbox would.
        self._again: set[Path] = set()
        self.observer: Any = None
        self.observer_kind = ""
        self._root_id: tuple[int, int] | None = None
        self._stop = threading.Event()
        self.available = True
        self.busy = False  # inside a turn of the loop (a run may be under way)
        self.caught_up = False
        self.report_due = False  # the start-up run reports when the outputs do not show the store
        self._scheduled: dt.datetime | None = None
        self._retry_at = 0.0
        self._next_source_check = 0.0
        self._failures = 0
        self._next_reconcile = clock() + self.s.reconcile_interval
        self._report_retry_at = 0.0  # a failing report backs off on its own: saves are still ingested
        self._report_failures = 0
        self._digest_due = False
        self._next_stale_check = 0.0
        self._attempted: tuple[str, dt.date] | None = None  # (store mark, as_of) of the last report tried
        self._store: Store | None = None
        self._warm_for: dt.date | None = None  # the day whose deal states the idle watcher loaded

    # --- life cycle -------------------------------------------------------------------------
    def run(self) -> None:
        """Watch until :meth:`stop` (or Ctrl-C)."""
        lang = self.ws.lang
        log.info(t("watch.started", lang, path=self.ws.inbox, observer="polling" if self.s.polling else "events",
                   interval=f"{self.s.reconcile_interval:g}"))
        if self.scheduler is not None:
            log.info(t("schedule.next", lang, when=_fmt_time(self.scheduler.next)))
        _clear(self.ws.staging / "watch")  # copies left by a watcher that was killed while checking
        try:
            while not self._stop.is_set():
                self.tick()
                self._stop.wait(self.s.tick)
        finally:
            self._stop_observer()
            if self._store is not None:
                self._store.close()
                self._store = None
            log.info(t("watch.stopped", lang))

    def stop(self) -> None:
        self._stop.set()

    def tick(self) -> None:
        """One turn of the loop. Never raises: an error is logged and the turn is tried again later."""
        self.busy = True
        try:
            self._turn()
        except SourceUnavailable as exc:
            self._unavailable(exc)
        except Exception as exc:
            self._failed(exc)
        finally:
            self.busy = False

    # --- one turn ---------------------------------------------------------------------------
    def _turn(self) -> None:
        if self.scheduler is not None:
            fired = self.scheduler.due(self.wall())
            if fired is not None:
                self._scheduled = fired
        now = self.clock()
        if now < self._retry_at:
            return
        if self._scheduled is not None:
            self._scheduled_run(self._scheduled)
            return
        if not self._source_back():
            return
        self._supervise()
        if not self.caught_up:
            self._run(self.tracker.full_batch())
            return
        if now >= self._next_reconcile or self.tracker.scan_requested:
            self._next_reconcile = now + self.s.reconcile_interval
            found = self.tracker.reconcile()
            if found:
                self.stats["reconciled"] += len(found)
                log.info(t("watch.scan_found", self.ws.lang, count=len(found)))
        batch = self.tracker.due()
        if batch is not None:
            self._run(batch)  # saves first: a report that keeps failing never keeps them out of the store
        elif now >= self._report_retry_at and (self.report_due or self._stale(now)):
            with self._lock():
                self._try_report(self._as_of(), digest=self._digest_due)
        elif self._warm_for != self._as_of():
            self._warm(self._as_of())

    def _warm(self, as_of: dt.date) -> None:
        """Idle, once a day: load what the next save's report would otherwise load first: pandas and the
        day's deal states (the whole history replayed once; each save then refreshes what it touched).
        A save's summary then waits for its own work only (at 500 reps 1 to 3 s of the first save)."""
        self._warm_for = as_of
        try:
            import pandas  # noqa: F401  (the analysis imports it lazily)

            from ..method.dealstates import deal_states
            from ..storage.ingest import load_playbook

            with self._lock():
                store = self.ws.store()
                try:
                    playbook, _ = load_playbook(self.ws, store, as_of)
                    deal_states(store, playbook, as_of)
                finally:
                    store.close()
        except Exception as exc:  # only a head start: the next run does the same work itself
            log.debug("warming up for %s: %s", as_of, exc)

    def _as_of(self) -> dt.date:
        return self.as_of or self.wall().date()

    def _lock(self) -> Any:
        """The workspace lock, waited for with a message in the log; a stop request ends the wait."""
        return self.ws.lock(on_wait=self._waiting, cancel=self._stop.is_set, command="sheetsales watch")

    def _waiting(self, message: str) -> None:
        self.stats["lock_waits"] += 1
        log.warning(message)

    def _mark(self) -> str:
        if self._store is None:
            self._store = self.ws.store()
        return self._store.change_mark()

    def _stale(self, now: float | None = None) -> bool:
        """Whether the store holds records the outputs do not show (whoever recorded them).

        With ``now``, looks at most every :data:`STALE_CHECK` seconds. A state of the store the
        watcher already tried to report is not tried again here (a failing output is not rewritten
        in a loop); a new record, or a new day, is.
        """
        if now is not None:
            if now < self._next_stale_check:
                return False
            self._next_stale_check = now + STALE_CHECK
        as_of = self._as_of()
        mark = self._mark()
        if self._attempted == (mark, as_of) or outputs_current(self.ws, mark, as_of):
            return False
        log.info(t("watch.outputs_stale", self.ws.lang))
        return True

    def _run(self, batch: Batch) -> IngestResult:
        lang = self.ws.lang
        if batch.paths:
            log.info(t("watch.saved", lang, files=", ".join(self.tracker.label(p)[0] for p in batch.paths)))
        for issue in batch.issues:
            self.issues = [*self.issues[-99:], issue]  # the last hundred, for whoever asks
            log.warning(issue.render(lang))
        as_of = self._as_of()
        started = self.clock()
        with self._lock():
            if batch.full:
                result = self.ingest_fn(self.ws, as_of)
            else:  # only what the saves touched is looked at (removals and the hand-out stay global)
                result = self.ingest_fn(self.ws, as_of, only=sorted({*batch.paths, *self._again}))
            self._again = {Path(os.path.abspath(self.ws.inbox / p.label)) for p in result.files
                           if p.label in result.failed or any(i.code == "file-unreadable" for i in p.issues)}
            self.stats["ingests"] += 1
            self.runs = [*self.runs[-99:], [self.tracker.label(p)[0] for p in batch.paths]]
            if result.unavailable:
                raise SourceUnavailable(str(self.ws.inbox))
            self.tracker.done(batch, result.handed_out)
            self.caught_up = True
            for issue in result.playbook_issues:
                log.warning(issue.render(lang))
            for parsed in result.files:
                for issue in parsed.issues:
                    log.info(issue.render(lang))
            changed = bool(result.new or result.removed or result.handed_out or result.playbook_issues
                           or Path(os.path.abspath(self.ws.playbook_path)) in batch.gens)
            # Nothing new for this run (another process recorded the save) may still mean stale reports.
            self.report_due = self.report_due or changed or self._stale()
            self._failures = 0
            if self.report_due and self.clock() >= self._report_retry_at:
                self._try_report(as_of, digest=self._digest_due)
        log.info(t("watch.run_done", lang, new=result.new, seconds=f"{self.clock() - started:.1f}"))
        return result

    def _try_report(self, as_of: dt.date, digest: bool = False) -> ReportResult | None:
        """Regenerate the reports; a failure is logged and retried on the report's own back-off."""
        try:
            return self._report(as_of, digest)
        except Exception as exc:
            self._report_failed(exc, digest)
            return None

    def _report(self, as_of: dt.date, digest: bool = False) -> ReportResult:
        lang = self.ws.lang
        with self._lock():
            self._attempted = (self._mark(), as_of)
            result = self.report_fn(self.ws, as_of)
        self.stats["reports"] += 1
        self.report_due = self._digest_due = False
        self._report_failures = 0
        self._report_retry_at = 0.0
        if getattr(result, "summary_path", None) is not None:
            log.info(t("cli.report_done", lang, path=result.summary_path))
        for problem in getattr(result, "problems", []):
            self.stats["locked" if problem.locked else "output_failures"] += 1
        for line in output_messages(result, lang) if hasattr(result, "problems") else []:
            log.warning(line)
        if digest and self.digest_fn is not None:
            try:
                out = self.digest_fn(result.summary, self.ws.reports)
            except Exception as exc:  # the workbooks are written: the digest alone failed
                self.stats["output_failures"] += 1
                log.error(t("output.failed", lang, target="digest", error=f"{type(exc).__name__}: {exc}"),
                          exc_info=True)
            else:
                self.stats["digests"] += 1
                log.info(t("schedule.digest_done", lang, path=out))
        return result

    def _report_failed(self, exc: Exception, digest: bool) -> None:
        self._report_failures += 1
        self.stats["failures"] += 1
        self.stats["report_failures"] += 1
        self.report_due = True
        self._digest_due = self._digest_due or digest
        delay = min(self.s.failure_delay * 2 ** (self._report_failures - 1), 300.0)
        self._report_retry_at = self.clock() + delay
        log.warning(t("watch.report_failed", self.ws.lang, error=f"{type(exc).__name__}: {exc}", delay=f"{delay:g}"),
                    exc_info=not isinstance(exc, OSError | WorkspaceBusy))

    def _scheduled_run(self, fired: dt.datetime) -> None:
        """A scheduled run: ingest when the inbox is there, then the reports and the digest regardless."""
        lang = self.ws.lang
        log.info(t("schedule.run", lang, when=_fmt_time(fired)))
        as_of = self._as_of()
        try:
            batch = self.tracker.full_batch()
        except SourceUnavailable as exc:
            self._unavailable(exc)
            batch = None
        with self._lock():
            if batch is not None:
                result = self.ingest_fn(self.ws, as_of)
                self.stats["ingests"] += 1
                if not result.unavailable:
                    self.tracker.done(batch, result.handed_out)
                    self.caught_up = True
            self._scheduled = None
            self.stats["scheduled"] += 1
            self._try_report(as_of, digest=self.digest)  # a failure is retried on the report's back-off
        log.info(t("schedule.next", lang, when=_fmt_time(self.scheduler.next)))

    # --- errors, the source, the observer ------------------------------------------------------
    def _failed(self, exc: Exception) -> None:
        self._failures += 1
        self.stats["failures"] += 1
        delay = min(self.s.failure_delay * 2 ** (self._failures - 1), 300.0)
        self._retry_at = self.clock() + delay
        log.warning(t("watch.run_failed", self.ws.lang, error=f"{type(exc).__name__}: {exc}", delay=f"{delay:g}"),
                    exc_info=not isinstance(exc, OSError | WorkspaceBusy))

    def _unavailable(self, exc: OSError) -> None:
        if self.available:
            self.available = False
            self.stats["unavailable"] += 1
            log.warning(t("watch.unavailable", self.ws.lang, path=self.ws.inbox) + f" ({exc})")
        self._stop_observer()

    def _source_back(self) -> bool:
        if self.available:
            return True
        now = self.clock()
        if now < self._next_source_check:  # a dead share may take long to answer: ask once a second
            return False
        self._next_source_check = now + 1.0
        try:
            self.tracker.scan()
        except SourceUnavailable:
            return False
        self.available = True
        log.info(t("watch.available", self.ws.lang, path=self.ws.inbox))
        self.tracker.request_scan()
        return True

    def _root_identity(self) -> tuple[int, int] | None:
        try:
            st = os.stat(self.ws.inbox)
        except OSError:
            return None
        return st.st_dev, st.st_ino

    def _supervise(self) -> None:
        """Start the observer, or restart it when it died or the inbox was replaced (a remount)."""
        obs = self.observer
        root = self._root_identity()
        if root is None:
            raise SourceUnavailable(f"{self.ws.inbox} cannot be reached")
        if obs is None:
            reason = ""
        elif not obs.is_alive() or not all(e.is_alive() for e in list(obs.emitters)):
            reason = "observer stopped"
        elif root != self._root_id:
            reason = "inbox replaced"
        else:
            return
        if obs is not None:
            self._stop_observer()
            self.stats["restarts"] += 1
            log.warning(t("watch.observer_restarted", self.ws.lang, reason=reason))
            self.tracker.request_scan()  # events may have been lost while it was down
        self._start_observer(root)

    def _start_observer(self, root: tuple[int, int]) -> None:
        handler = _Handler(self.tracker)
        polling = self.s.polling
        for attempt in (polling, True):
            obs = make_observer(attempt, self.s.poll_interval)
            try:
                obs.schedule(handler, str(self.tracker.inbox), recursive=True)
                obs.schedule(handler, str(self.ws.root.absolute()), recursive=False)  # the playbook
                obs.daemon = True
                obs.start()
            except OSError as exc:  # e.g. the inotify watch limit: fall back to polling
                if attempt:
                    raise
                log.warning("watcher: change events unavailable (%s); polling every %g s instead",
                            exc, self.s.poll_interval)
                continue
            self.observer, self.observer_kind, self._root_id = obs, ("polling" if attempt else "events"), root
            return

    def _stop_observer(self) -> None:
        obs, self.observer = self.observer, None
        if obs is None:
            return
        try:
            obs.stop()
            obs.join(timeout=5)
        except Exception:
            log.debug("watcher: stopping the observer failed", exc_info=True)


def _clear(folder: Path) -> None:
    try:
        for leftover in folder.iterdir():
            leftover.unlink(missing_ok=True)
    except OSError:
        pass


def _fmt_time(when: dt.datetime | None) -> str:
    return when.strftime("%Y-%m-%d %H:%M %Z").strip() if when else "-"
