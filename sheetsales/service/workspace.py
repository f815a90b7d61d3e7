"""A workspace: the folder a sales-ops manager keeps next to the shared inbox.

::

    DIR/
      sheetsales.toml   language, workspace id, optional database URL
      playbook.xlsx     the method as data (managers edit it)
      inbox/<id>/       each person's folder, pre-filled with their templates
      reports/          generated output (summary.xlsx, feedback/<id>.xlsx)
      archive/          every ingested file version, content-addressed, kept forever
      sheetsales.db     the SQLite store
      .sheetsales.lock  the one-writer lock (and .sheetsales.lock.json: who holds it)

One process at a time writes a workspace: every command that writes the store or the outputs
holds :meth:`Workspace.lock` (an OS-level file lock through ``filelock``: ``flock`` on Unix,
``LockFileEx`` on Windows, released by the operating system when the holder dies). A second
process waits, saying who holds it, and gives up after ``[lock] timeout`` seconds.

When the store is a PostgreSQL database, the lock also takes a session-level advisory lock of that
database (``pg_advisory_lock``, one key per database), held on a connection of its own for the run:
several workspaces — the offices of one organisation, each with its own inbox — that share one
database run one at a time, so a file version is recorded once and a deal confiscated once. The
server releases it when the holder's connection ends (the process died, the network went).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import socket
import sys
import threading
import time
import tomllib
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from filelock import FileLock, Timeout

from ..i18n import t
from ..outputs.waiting import books, refresh, remember, untouched
from ..storage.quiet import sqlite_url

# The playbook, the templates and the store (SQLAlchemy, openpyxl, xlsxwriter) are imported where
# they are used: opening a workspace and holding its lock must stay cheap for the no-op ingest
# (:mod:`sheetsales.storage.quiet`), which uses nothing else.
if TYPE_CHECKING:
    from ..method.playbook import Person, Playbook
    from ..storage.store import Store

LANGS = ("zh-CN", "en")
CONFIG = "sheetsales.toml"
LOCK_FILE = ".sheetsales.lock"
LOCK_INFO = ".sheetsales.lock.json"  # the holder's pid, host, command and start time
DEFAULT_LOCK_TIMEOUT = 600.0  # seconds a command waits for another run to finish


class WorkspaceError(Exception):
    """A workspace that cannot be used (missing, not initialised): an install/usage problem."""


class WorkspaceBusy(WorkspaceError):
    """Another sheetsales run held the workspace longer than this one was allowed to wait."""


_held = threading.local()  # per thread: {lock path: (FileLock, depth)}, so nested holds are free


def lock_holder(root: Path) -> dict:
    """Who holds (or last held) the workspace lock, from its side file; {} when nobody says."""
    try:
        info = json.loads((Path(root) / LOCK_INFO).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return info if isinstance(info, dict) else {}


def _holder_params(root: Path, lang: str) -> dict[str, str]:
    info = lock_holder(root)
    unknown = t("lock.unknown", lang)
    return {k: str(info.get(k) or unknown) for k in ("pid", "host", "command", "since")}


def _write_holder(root: Path, command: str) -> None:
    info = {"pid": os.getpid(), "host": socket.gethostname(), "command": command,
            "since": dt.datetime.now().isoformat(timespec="seconds")}
    side = Path(root) / LOCK_INFO
    tmp = side.with_name(f"{side.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(json.dumps(info, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, side)
    except OSError:  # the lock holds without its side file; the waiting message then says "unknown"
        pass


# The advisory lock's key: one constant, so every workspace whose store is the same database shares it.
# It fits in 31 bits, so pg_locks shows it as (classid 0, objid DB_LOCK_KEY, objsubid 1).
DB_LOCK_KEY = 0x53534C4B  # "SSLK"
DB_LOCK_POLL = 0.2  # seconds between two tries of a held database lock


def _is_postgres(url: str) -> bool:
    return url.startswith(("postgresql", "postgres:"))


def _db_holder_params(conn, lang: str) -> dict[str, str]:
    """Who holds the database lock: the application name its holder gave its connection."""
    from sqlalchemy import text

    unknown = t("lock.unknown", lang)
    row = conn.execute(text(
        "SELECT a.application_name, a.backend_start FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
        "WHERE l.locktype = 'advisory' AND l.granted AND l.classid = 0 AND l.objid = :key AND l.objsubid = 1"
    ), {"key": DB_LOCK_KEY}).first()
    if row is None:
        return dict.fromkeys(("pid", "host", "command", "since"), unknown)
    parts = (row[0] or "").split("|", 3)
    if len(parts) != 4 or parts[0] != "sheetsales":
        parts = ["", unknown, unknown, row[0] or unknown]
    since = row[1].astimezone().replace(tzinfo=None).isoformat(timespec="seconds") if row[1] else unknown
    return {"pid": parts[1] or unknown, "host": parts[2] or unknown, "command": parts[3] or unknown, "since": since}


def _database_lock(url: str, lang: str, timeout: float, on_wait: Callable[[str], None] | None,
                   cancel: Callable[[], bool] | None, command: str):
    """Take the database's advisory lock on a connection of its own; returns the connection.

    Waits like the file lock (``on_wait`` hears who holds it); :class:`WorkspaceBusy` after ``timeout``.
    """
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import DBAPIError
    from sqlalchemy.pool import NullPool

    name = f"sheetsales|{os.getpid()}|{socket.gethostname()[:24]}|{command}"[:63]
    engine = create_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT",
                           connect_args={"application_name": name})
    try:
        conn = engine.connect()
    except DBAPIError as exc:
        from ..storage.store import unreachable_message

        engine.dispose()
        raise WorkspaceError(unreachable_message(url, exc.orig)) from None
    try:
        seconds = f"{timeout:g}"
        deadline = time.monotonic() + timeout
        told = False
        while not conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": DB_LOCK_KEY}).scalar():
            if not told:
                told = True
                if on_wait is not None:
                    on_wait(t("lock.waiting", lang, seconds=seconds, **_db_holder_params(conn, lang)))
            if time.monotonic() >= deadline or (cancel is not None and cancel()):
                raise WorkspaceBusy(t("lock.timeout", lang, seconds=seconds, **_db_holder_params(conn, lang)))
            time.sleep(DB_LOCK_POLL)
    except BaseException:
        conn.close()
        engine.dispose()
        raise
    return conn


def _release_database_lock(conn) -> None:
    from sqlalchemy import text

    engine = conn.engine
    try:
        conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": DB_LOCK_KEY})
    except Exception:  # the connection is gone: the server released the lock with it
        pass
    finally:
        conn.close()
        engine.dispose()


@contextmanager
def workspace_lock(root: Path, lang: str = "zh-CN", timeout: float = DEFAULT_LOCK_TIMEOUT, *,
                   on_wait: Callable[[str], None] | None = None, cancel: Callable[[], bool] | None = None,
                   command: str = "", database_url: str = "") -> Iterator[None]:
    """Hold the workspace's one-writer lock; re-entrant within a thread.

    When another process (or thread) holds it, ``on_wait`` gets a message in ``lang`` saying who
    and for how long this one waits; after ``timeout`` seconds (or when ``cancel()`` turns true)
    :class:`WorkspaceBusy` is raised with a message saying who held it. A holder that dies frees
    the lock: the operating system releases it with the process. With a PostgreSQL
    ``database_url``, the database's advisory lock is taken too, after the file lock, within the
    same ``timeout`` (see the module's docstring).
    """
    root = Path(root)
    path = os.path.abspath(root / LOCK_FILE)
    held: dict[str, list] = _held.__dict__.setdefault("locks", {})
    if path in held:  # this thread holds it already
        held[path][1] += 1
        try:
            yield
        finally:
            held[path][1] -= 1
        return
    lock = FileLock(path, thread_local=False)
    started = time.monotonic()
    try:
        lock.acquire(timeout=0)
    except Timeout:
        seconds = f"{timeout:g}"
        if on_wait is not None:
            on_wait(t("lock.waiting", lang, seconds=seconds, **_holder_params(root, lang)))
        try:
            lock.acquire(timeout=timeout, cancel_check=cancel)
        except Timeout:
            raise WorkspaceBusy(t("lock.timeout", lang, seconds=seconds, **_holder_params(root, lang))) from None
    command = command or " ".join(["sheetsales", *sys.argv[1:2]])
    db_conn = None
    try:
        if _is_postgres(database_url):
            db_conn = _database_lock(database_url, lang, max(0.0, timeout - (time.monotonic() - started)),
                                     on_wait, cancel, command)
    except BaseException:
        lock.release()
        raise
    held[path] = [lock, 1]
    try:
        _write_holder(root, command)
        yield
    finally:
        del held[path]
        try:
            (root / LOCK_INFO).unlink(missing_ok=True)
        except OSError:
            pass
        if db_conn is not None:
            _release_database_lock(db_conn)
        lock.release()


def holds_lock(root: Path) -> bool:
    """True when this thread holds ``root``'s workspace lock."""
    return os.path.abspath(Path(root) / LOCK_FILE) in _held.__dict__.get("locks", {})


@dataclass
class Workspace:
    root: Path
    lang: str
    workspace_id: str
    database_url: str
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT  # [lock] timeout: seconds a run waits for another
    # [office] regions: the playbook regions whose people this workspace's inbox serves (empty: everyone).
    # Offices that share one database each serve their own regions, so no file is in two inboxes.
    regions: tuple[str, ...] = ()

    def serves(self, person: Person) -> bool:
        """Whether ``person`` (of the playbook) has their inbox folder in this workspace."""
        return not self.regions or person.region in self.regions

    def lock(self, timeout: float | None = None, *, on_wait: Callable[[str], None] | None = None,
             cancel: Callable[[], bool] | None = None, command: str = "") -> AbstractContextManager[None]:
        """The one-writer lock of this workspace (see :func:`workspace_lock`)."""
        return workspace_lock(self.root, self.lang, self.lock_timeout if timeout is None else timeout,
                              on_wait=on_wait, cancel=cancel, command=command, database_url=self.database_url)

    @property
    def holds_lock(self) -> bool:
        return holds_lock(self.root)

    @property
    def inbox(self) -> Path:
        return self.root / "inbox"

    @property
    def reports(self) -> Path:
        return self.root / "reports"

    @property
    def archive(self) -> Path:
        return self.root / "archive"

    @property
    def staging(self) -> Path:
        return self.root / ".staging"

    @property
    def playbook_path(self) -> Path:
        return self.root / "playbook.xlsx"

    def store(self) -> Store:
        """The workspace's store; a schema to create or upgrade is migrated under the workspace lock."""
        from ..storage.store import Store

        return Store(self.database_url, upgrade_lock=self.lock)

    @classmethod
    def open(cls, root: Path) -> Workspace:
        root = Path(root)
        cfg_path = root / CONFIG
        if not cfg_path.is_file():
            raise WorkspaceError(not_a_workspace(root))
        try:
            cfg = tomllib.loads(cfg_path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:  # hand-edited and broken: say where
            raise WorkspaceError(f"{cfg_path} cannot be read ({exc}); fix it in a text editor (UTF-8)") from None
        lang = cfg.get("language", "zh-CN")
        url = os.environ.get("SHEETSALES_DATABASE_URL") or cfg.get("database_url") or sqlite_url(
            (root / "sheetsales.db").resolve())
        lock = cfg.get("lock", {})
        timeout = lock.get("timeout", DEFAULT_LOCK_TIMEOUT) if isinstance(lock, dict) else None
        if (not isinstance(lock, dict) or set(lock) - {"timeout"} or isinstance(timeout, bool)
                or not isinstance(timeout, int | float) or timeout < 0):
            raise WorkspaceError(f"{cfg_path}: [lock] takes one setting, timeout = seconds to wait for another "
                                 f"sheetsales run (default {DEFAULT_LOCK_TIMEOUT:g})")
        office = cfg.get("office", {})
        regions = office.get("regions", []) if isinstance(office, dict) else None
        if (not isinstance(office, dict) or set(office) - {"regions"} or not isinstance(regions, list)
                or not all(isinstance(r, str) and r for r in regions)):
            raise WorkspaceError(f"{cfg_path}: [office] takes one setting, regions = [\"<region>\", ...]: the "
                                 "playbook regions whose people this workspace's inbox serves (default: everyone)")
        return cls(root=root, lang=lang if lang in LANGS else "zh-CN",
                   workspace_id=cfg.get("workspace_id", ""), database_url=url, lock_timeout=float(timeout),
                   regions=tuple(regions))

    # --- handing out templates ------------------------------------------------------------
    def handout(self, playbook: Playbook, as_of: dt.date,
                lost_deals: Callable[[], dict[str, list[str]]] | None = None,
                own_deals: Callable[[], dict[str, list[str]]] | None = None,
                waiting_deals: Callable[[], dict[str, list[str]]] | None = None,
                refresh_waiting: bool = False) -> list[Path]:
        """Create missing person folders and templates; never overwrite anything.

        ``lost_deals`` (asked only when needed) gives, per rep with a deal marked lost, their
        customers: such a rep gets a lost-deal report whose drop-down lists them. ``own_deals`` (asked
        only when a weekly report is handed out) gives each rep's open deals: the drop-down of the
        daily log's and the plan's customer column. ``waiting_deals`` gives each supervisor the deals
        waiting for their decision: the drop-down of their decisions workbook, written again (with
        ``refresh_waiting``, after a settlement) while nobody has saved it (see :mod:`sheetsales.outputs.waiting`).
        A supervisor who has any decisions workbook (the first, or a dated one the report handed out
        later) gets no new first one."""
        from ..reading.templates import build_template, iso_week, template_filename

        written = []
        week = iso_week(as_of)
        team = [p for p in playbook.team if self.serves(p)]
        for person in team:
            folder = self.inbox / person.id
            folder.mkdir(parents=True, exist_ok=True)
        bosses = {p.supervisor for p in playbook.team if p.supervisor}
        waiting: dict[str, list[str]] | None = None
        for person in team:
            decisions = self.inbox / person.id / template_filename("decisions", self.lang, person.id)
            if person.id not in bosses:
                continue
            fresh = not decisions.exists() and not books(decisions.parent, self.lang, person.id)  # dated ones too
            if not fresh and (not refresh_waiting or waiting_deals is None
                              or untouched(self.root, decisions) is None):
                continue
            waiting = waiting_deals() if waiting_deals is not None and waiting is None else (waiting or {})
            listed = waiting.get(person.id, [])
            if fresh:
                written.append(self.write_template(decisions, "decisions", playbook, person.id,
                                                   lists={"waiting": listed}))
                remember(self.root, decisions, listed)
            elif refresh(self.root, decisions, listed, lambda tmp, pid=person.id, ls=listed: build_template(
                    tmp, "decisions", playbook, self.lang, rep=playbook.person(pid), workspace=self.workspace_id,
                    lists={"waiting": ls})):
                written.append(decisions)
        for person in team:  # everyone may ask for help and answer colleagues (help.py)
            help_book = self.inbox / person.id / template_filename("help", self.lang, person.id)
            if not help_book.exists():
                written.append(self.write_template(help_book, "help", playbook, person.id))
        losing: dict[str, list[str]] | None = None
        owning: dict[str, list[str]] | None = None
        for rep in (r for r in playbook.reps if self.serves(r)):
            folder = self.inbox / rep.id
            mpc = folder / template_filename("mpc", self.lang, rep.id)
            if not mpc.exists():
                written.append(self.write_template(mpc, "mpc", playbook, rep.id))
            weekly = folder / template_filename("weekly", self.lang, rep.id, week)
            if not weekly.exists():
                owning = own_deals() if own_deals is not None and owning is None else owning
                written.append(self.write_template(weekly, "weekly", playbook, rep.id, week,
                                                   lists={"deal": (owning or {}).get(rep.id, [])}))
            cards = folder / template_filename("cards", self.lang, rep.id)
            if not cards.exists():
                written.append(self.write_template(cards, "cards", playbook, rep.id))
            lost = folder / template_filename("lost", self.lang, rep.id)
            if lost_deals is not None and not lost.exists():
                losing = lost_deals() if losing is None else losing
                if rep.id in losing:
                    written.append(self.write_template(lost, "lost", playbook, rep.id, lists={"deal": losing[rep.id]}))
        return written

    def write_template(self, path: Path, kind: str, playbook: Playbook, rep_id: str = "", week: str = "",
                       lists: dict[str, list[str]] | None = None) -> Path:
        """Write a template atomically (temporary file, then rename), never over an existing file."""
        from ..reading.templates import build_template

        rep = playbook.person(rep_id) if rep_id else None
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
        build_template(tmp, kind, playbook, self.lang, rep=rep, workspace=self.workspace_id, week=week, lists=lists)
        try:
            os.link(tmp, path)  # fails if the target exists: a person's file is never replaced
        except FileExistsError:
            tmp.unlink()
            raise
        except OSError:
            if path.exists():
                tmp.unlink()
                raise FileExistsError(path) from None
            os.replace(tmp, path)
            return path
        tmp.unlink()
        return path

    # --- archiving ------------------------------------------------------------------------
    def stage_and_archive(self, source: Path) -> tuple[str, Path, int]:
        """Copy ``source`` to private staging, hash it, keep it in the archive; (sha256, archived, size).

        The person's file is held open only for the copy.
        """
        self.staging.mkdir(parents=True, exist_ok=True)
        staged = self.staging / f"{uuid.uuid4().hex}{source.suffix.lower()}"
        shutil.copyfile(source, staged)
        digest = hashlib.sha256()
        with staged.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
        sha = digest.hexdigest()
        target = self.archive / sha[:2] / f"{sha}{source.suffix.lower()}"
        if target.exists():
            staged.unlink()
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staged, target)
        return sha, target, target.stat().st_size


def init_workspace(root: Path, lang: str = "zh-CN", playbook: Playbook | None = None,
                   as_of: dt.date | None = None, on_wait: Callable[[str], None] | None = None,
                   sample: bool = False) -> Workspace:
    """Create a workspace; an existing playbook or configuration is left as it is.

    A new playbook has the default method (stages, products, settings) and an empty Team sheet for
    the managers to fill; ``sample`` puts the sample team (D01, S01, R01-R03) on it instead. The
    files are written under the workspace lock (``on_wait`` hears it when another run holds it).
    """
    if lang not in LANGS:
        raise WorkspaceError(f"unknown language {lang!r}; use one of {', '.join(LANGS)}")
    root = Path(root)
    if root.exists() and not root.is_dir():
        raise WorkspaceError(t("cli.init_not_folder", lang, path=root))
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # a file on the way, no permission, a read-only share
        raise WorkspaceError(t("cli.init_cannot_create", lang, path=root, error=exc.strerror or exc)) from None
    cfg = root / CONFIG
    if not cfg.exists():
        cfg.write_text(
            "# sheetsales workspace settings\n"
            f'language = "{lang}"\n'
            f'workspace_id = "{uuid.uuid4().hex[:12]}"\n'
            '# database_url = "postgresql+psycopg://user@host/sheetsales"  # default: sheetsales.db here\n',
            encoding="utf-8",
        )
    ws = Workspace.open(root)
    with ws.lock(on_wait=on_wait, command="sheetsales init"):
        _init_files(ws, playbook, as_of, sample)
    remember_workspace(ws)
    return ws


def starting_playbook(lang: str, sample: bool = False) -> Playbook:
    """A new workspace's playbook: the default method in ``lang``; the sample team only with ``sample``."""
    from ..method.playbook import Playbook

    playbook = Playbook.default(lang)
    return playbook if sample else replace(playbook, team=())


def _init_files(ws: Workspace, playbook: Playbook | None, as_of: dt.date | None, sample: bool = False) -> None:
    from ..method.playbook import read_playbook, write_playbook

    for d in (ws.inbox, ws.reports, ws.archive):
        d.mkdir(parents=True, exist_ok=True)
    if ws.playbook_path.exists():
        # A workspace initialised again keeps the managers' playbook and hands out templates from it.
        existing, _ = read_playbook(ws.playbook_path, ws.lang)
        playbook = existing or playbook or starting_playbook(ws.lang, sample)
    else:
        playbook = playbook or starting_playbook(ws.lang, sample)
        tmp = ws.playbook_path.with_name(".playbook.xlsx.tmp")
        write_playbook(tmp, playbook, ws.lang)
        os.replace(tmp, ws.playbook_path)
    ws.handout(playbook, as_of or dt.date.today())
    ws.store().close()


def departed_folders(ws: Workspace, playbook: Playbook) -> list[tuple[str, int]]:
    """(folder, number of files) for every inbox folder of someone no longer on the Team sheet.

    Such a person gets no new templates or feedback; their folder and files are kept as they are
    (sheetsales never deletes what a person saved), so the commands say so instead.
    """
    if not ws.inbox.is_dir():
        return []
    team = {p.id for p in playbook.team}
    out = []
    for folder in sorted(ws.inbox.iterdir()):
        if folder.is_dir() and not folder.name.startswith(".") and folder.name not in team:
            out.append((folder.name, sum(1 for f in folder.rglob("*") if f.is_file())))
    return out


def not_a_workspace(root: Path) -> str:
    """Why ``root`` cannot be opened, and where the workspace may be: never an invitation to create
    a workspace at a path that may just be mistyped."""
    root = Path(root)
    near = _workspace_near(root)
    hint = f" Did you mean {near}?" if near else ""
    if not root.exists():
        return f"no such folder: {root}. Give the workspace folder, the one that holds {CONFIG}.{hint}"
    if not root.is_dir():
        return f"{root} is a file; give the workspace folder, the one that holds {CONFIG}.{hint}"
    if not hint and not any(root.iterdir()):
        hint = f" To make this empty folder a workspace: sheetsales init {root}"
    return f"{root} is not a sheetsales workspace (no {CONFIG} in it).{hint}"


def _workspace_near(root: Path) -> Path | None:
    """A workspace that holds ``root`` (``ws/inbox`` typed for ``ws``), or one whose name is close."""
    import difflib

    path = root.absolute()
    for parent in path.parents:
        if (parent / CONFIG).is_file():
            return parent if root.is_absolute() else Path(os.path.relpath(parent))
    existing = next((p for p in path.parents if p.is_dir()), None)
    if existing is None or existing != path.parent:
        return None
    try:
        names = [d.name for d in existing.iterdir() if d.is_dir() and (d / CONFIG).is_file()]
    except OSError:
        return None
    close = difflib.get_close_matches(path.name, names, n=1, cutoff=0.6)
    return root.parent / close[0] if close else None


# --- the workspaces of this machine ------------------------------------------------------------
# ``sheetsales check FILE`` run on a workbook outside any workspace (a copy mailed to a manager)
# finds its workspace by the id the workbook's hidden sheet records, in this per-user list.
REGISTRY_ENV = "SHEETSALES_REGISTRY"


def registry_path() -> Path:
    """The per-user list of workspaces: ``$SHEETSALES_REGISTRY``, else the user's state folder
    (``~/.local/state/sheetsales`` on Linux, ``%LOCALAPPDATA%\\sheetsales`` on Windows)."""
    env = os.environ.get(REGISTRY_ENV)
    if env:
        return Path(env)
    from platformdirs import user_state_path

    return user_state_path("sheetsales", appauthor=False) / "workspaces.json"


def _read_registry(path: Path) -> dict[str, str]:
    try:
        known = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in known.items()} if isinstance(known, dict) else {}


def remember_workspace(ws: Workspace) -> None:
    """Note ``ws`` (id -> folder) in the per-user list; a list that cannot be written is no error."""
    if not ws.workspace_id:
        return
    path = registry_path()
    known = _read_registry(path)
    root = str(ws.root.resolve())
    if known.get(ws.workspace_id) == root:
        return
    known[ws.workspace_id] = root
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(known, ensure_ascii=False, indent=1, sort_keys=True), encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        pass


def workspace_by_id(workspace_id: str, near: Path | None = None) -> Workspace | None:
    """The workspace whose id is ``workspace_id``: the folder ``near`` or one of its parents (the
    current folder, say), else the per-user list; None when neither knows it."""
    candidates = []
    if near is not None:
        near = Path(near).resolve()
        candidates += [d for d in (near, *near.parents) if (d / CONFIG).is_file()]
    listed = _read_registry(registry_path()).get(workspace_id)
    if listed:
        candidates.append(Path(listed))
    for root in candidates:
        try:
            ws = Workspace.open(root)
        except (WorkspaceError, OSError, ValueError):
            continue
        if ws.workspace_id == workspace_id:
            return ws
    return None
