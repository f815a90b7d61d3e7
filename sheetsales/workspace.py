"""A workspace: the folder a sales-ops manager keeps next to the shared inbox.

::

    DIR/
      sheetsales.toml   language, workspace id, optional database URL
      playbook.xlsx     the method as data (managers edit it)
      inbox/<id>/       each person's folder, pre-filled with their templates
      reports/          generated output (summary.xlsx, feedback/<id>.xlsx)
      archive/          every ingested file version, content-addressed, kept forever
      sheetsales.db     the SQLite store
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
import tomllib
import uuid
from dataclasses import dataclass
from pathlib import Path

from .playbook import Playbook, read_playbook, write_playbook
from .store import Store, sqlite_url
from .templates import build_template, iso_week, template_filename

LANGS = ("zh-CN", "en")
CONFIG = "sheetsales.toml"


class WorkspaceError(Exception):
    """A workspace that cannot be used (missing, not initialised): an install/usage problem."""


@dataclass
class Workspace:
    root: Path
    lang: str
    workspace_id: str
    database_url: str

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
        return Store(self.database_url)

    @classmethod
    def open(cls, root: Path) -> Workspace:
        root = Path(root)
        cfg_path = root / CONFIG
        if not cfg_path.is_file():
            raise WorkspaceError(f"{root} is not a sheetsales workspace (no {CONFIG}); run: sheetsales init {root}")
        cfg = tomllib.loads(cfg_path.read_text(encoding="utf-8"))
        lang = cfg.get("language", "zh-CN")
        url = os.environ.get("SHEETSALES_DATABASE_URL") or cfg.get("database_url") or sqlite_url(
            (root / "sheetsales.db").resolve())
        return cls(root=root, lang=lang if lang in LANGS else "zh-CN",
                   workspace_id=cfg.get("workspace_id", ""), database_url=url)

    # --- handing out templates ------------------------------------------------------------
    def handout(self, playbook: Playbook, as_of: dt.date) -> list[Path]:
        """Create missing person folders and templates; never overwrite anything."""
        written = []
        week = iso_week(as_of)
        for person in playbook.team:
            folder = self.inbox / person.id
            folder.mkdir(parents=True, exist_ok=True)
        bosses = {p.supervisor for p in playbook.team if p.supervisor}
        for person in playbook.team:
            decisions = self.inbox / person.id / template_filename("decisions", self.lang, person.id)
            if person.id in bosses and not decisions.exists():
                written.append(self.write_template(decisions, "decisions", playbook, person.id))
        for rep in playbook.reps:
            folder = self.inbox / rep.id
            mpc = folder / template_filename("mpc", self.lang, rep.id)
            if not mpc.exists():
                written.append(self.write_template(mpc, "mpc", playbook, rep.id))
            weekly = folder / template_filename("weekly", self.lang, rep.id, week)
            if not weekly.exists():
                written.append(self.write_template(weekly, "weekly", playbook, rep.id, week))
        return written

    def write_template(self, path: Path, kind: str, playbook: Playbook, rep_id: str = "", week: str = "") -> Path:
        """Write a template atomically (temporary file, then rename), never over an existing file."""
        rep = playbook.person(rep_id) if rep_id else None
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
        build_template(tmp, kind, playbook, self.lang, rep=rep, workspace=self.workspace_id, week=week)
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
                   as_of: dt.date | None = None) -> Workspace:
    """Create a workspace; an existing playbook or configuration is left as it is."""
    if lang not in LANGS:
        raise WorkspaceError(f"unknown language {lang!r}; use one of {', '.join(LANGS)}")
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
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
    for d in (ws.inbox, ws.reports, ws.archive):
        d.mkdir(parents=True, exist_ok=True)
    if ws.playbook_path.exists():
        # A workspace initialised again keeps the managers' playbook and hands out templates from it.
        existing, _ = read_playbook(ws.playbook_path, ws.lang)
        playbook = existing or playbook or Playbook.default(ws.lang)
    else:
        playbook = playbook or Playbook.default(ws.lang)
        tmp = ws.playbook_path.with_name(".playbook.xlsx.tmp")
        write_playbook(tmp, playbook, ws.lang)
        os.replace(tmp, ws.playbook_path)
    ws.handout(playbook, as_of or dt.date.today())
    ws.store().close()
    return ws
