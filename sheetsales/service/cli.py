"""The ``sheetsales`` command: a thin shell over the pipeline.

Every command takes ``--as-of DATE`` so any week can be replayed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import math
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from .. import __version__
from ..i18n import t
from ..reading.specs import TEMPLATE_SPECS
from ..storage import quiet
from .workspace import (
    LANGS,
    Workspace,
    WorkspaceBusy,
    WorkspaceError,
    departed_folders,
    init_workspace,
    remember_workspace,
    workspace_by_id,
)

# The pipeline (the store and SQLAlchemy, the readers, the analyses, the writers: about 0.4 s of
# imports) is imported by the commands that use it: an ingest that finds nothing new needs none of it.
if TYPE_CHECKING:
    from ..method.playbook import Playbook

EXIT_BUSY = 75  # another sheetsales run held the workspace past [lock] timeout (sysexits' EX_TEMPFAIL)
PROGRESS_DELAY = 1.0  # seconds a run goes on before its progress bar appears: short runs show none
EXIT_PIPE = 141  # the output's reader closed the pipe: what a shell reports for a process ended by SIGPIPE


def _waiting(message: str) -> None:
    """Another run holds the workspace: say so, then wait."""
    print(message, file=sys.stderr, flush=True)


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (yyyy-mm-dd): {text!r}") from None


def _week(text: str) -> str:
    """An ISO week as ``--week`` takes it (2026-W48)."""
    import re

    if not text.strip():  # not given: the week of --as-of
        return ""
    found = re.fullmatch(r"(\d{4})-?W(\d{1,2})", text.strip().upper())
    if found:
        try:
            dt.date.fromisocalendar(int(found.group(1)), int(found.group(2)), 1)
            return f"{found.group(1)}-W{int(found.group(2)):02d}"
        except ValueError:
            pass
    raise argparse.ArgumentTypeError(f"not an ISO week (yyyy-Www, e.g. 2026-W48): {text!r}")


def _progress(unit: str = "file") -> Callable[[int, int, str], None]:
    """Progress of a long run: a bar (tqdm) on a terminal, shown once the run takes PROGRESS_DELAY;
    plain lines, one every 50 files and the last, when stderr is a pipe or a log file."""
    if not sys.stderr.isatty():
        def lines(n: int, total: int, label: str) -> None:
            if n == total or n % 50 == 0:
                print(f"[{n}/{total}] {label}", file=sys.stderr, flush=True)

        return lines
    from tqdm import tqdm

    state: dict[str, tqdm] = {}

    def bar(n: int, total: int, label: str) -> None:
        if "bar" not in state:
            state["bar"] = tqdm(total=total, unit=unit, delay=PROGRESS_DELAY, leave=False, file=sys.stderr,
                                dynamic_ncols=True)
        state["bar"].set_postfix_str(label[-40:], refresh=False)
        state["bar"].update(n - state["bar"].n)
        if n >= total:
            state.pop("bar").close()

    return bar


def cmd_init(args: argparse.Namespace) -> int:
    from ..method.playbook import Playbook, read_playbook

    ws = init_workspace(Path(args.dir), lang=args.lang, as_of=args.as_of, on_wait=_waiting, sample=args.sample)
    print(t("cli.init_done", ws.lang, path=ws.root.resolve()))
    for d in ("playbook.xlsx", "inbox", "reports", "archive"):
        print(f"  {ws.root / d}")
    playbook, _ = read_playbook(ws.playbook_path, ws.lang)
    for folder, files in departed_folders(ws, playbook) if playbook is not None else []:
        print(t("cli.departed", ws.lang, folder=folder, files=files))
    sample = playbook is not None and {p.id for p in playbook.team} == {p.id for p in Playbook.default().team}
    print(t("cli.init_next_sample" if sample else "cli.init_next", ws.lang, root=ws.root,
            playbook=ws.playbook_path))
    return 0


def cmd_template(args: argparse.Namespace) -> int:
    from ..reading.templates import iso_week, template_filename
    from ..storage.ingest import load_playbook

    ws = Workspace.open(Path(args.workspace))
    store = ws.store()
    try:
        playbook, _ = load_playbook(ws, store, args.as_of)
    finally:
        store.close()
    if args.rep and playbook.person(args.rep) is None:
        print(f"error: {args.rep} is not in the playbook's team sheet", file=sys.stderr)
        return 2
    week = args.week or (iso_week(args.as_of) if args.kind == "weekly" else "")
    out = Path(args.output) if args.output else Path(template_filename(args.kind, ws.lang, args.rep, week))
    if out.exists():
        print(f"error: {out} exists; sheetsales never overwrites a file a person may have filled", file=sys.stderr)
        return 2
    if not out.parent.is_dir():
        print(f"error: no such folder: {out.parent}", file=sys.stderr)
        return 2
    lists = None
    if args.kind == "weekly" and args.rep:  # the log's customer drop-down: the rep's open deals
        from ..method.logchain import own_deals

        store = ws.store()
        try:
            lists = {"deal": own_deals(store, args.as_of).get(args.rep, [])}
        finally:
            store.close()
    if args.kind == "lost" and args.rep:  # the customer drop-down: the rep's lost deals
        store = ws.store()
        try:
            lists = {"deal": store.lost_customers(args.as_of).get(args.rep, [])}
        finally:
            store.close()
    ws.write_template(out, args.kind, playbook, args.rep, week, lists=lists)
    print(t("cli.template_done", ws.lang, path=out))
    return 0


def _end_on_sigterm() -> None:
    """SIGTERM (a cron timeout, a service stop) ends the run as Ctrl-C does: a file being read is then
    recorded as interrupted, not as one that took the reader down (reader-crashed)."""
    import signal
    import threading

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))


def _quiet_ingest(ws: Workspace, args: argparse.Namespace, state: dict) -> int:
    """What :func:`cmd_ingest` says when the inbox is as the last ingest left it (``state``, see
    :mod:`sheetsales.storage.quiet`): the lines and exit status of a full run that finds nothing new."""
    labels = state["labels"]
    if not args.quiet:  # the same progress as a full run's, file by file
        progress = _progress()
        for n, label in enumerate(labels, 1):
            progress(n, len(labels), label)
    remember_workspace(ws)
    for folder, files in state["departed"]:
        print(t("cli.departed", ws.lang, folder=folder, files=files))
    print(t("cli.ingest_done", ws.lang, new=0, unchanged=len(labels), rejected=0, errors=0, warnings=0))
    print(t("cli.ingest_open", ws.lang, errors=state["open"].get("error", 0),
            warnings=state["open"].get("warning", 0)))
    return 0


def cmd_ingest(args: argparse.Namespace) -> int:
    ws = Workspace.open(Path(args.dir))
    _end_on_sigterm()
    with ws.lock(on_wait=_waiting, command="sheetsales ingest"):
        unchanged = quiet.unchanged(ws, args.as_of)
        if unchanged is None:
            from ..storage.ingest import ingest

            result = ingest(ws, args.as_of, progress=None if args.quiet else _progress())
    if unchanged is not None:
        return _quiet_ingest(ws, args, unchanged)
    from ..storage.ingest import load_playbook

    if result.unavailable:
        print(t("cli.inbox_unavailable", ws.lang, path=ws.inbox), file=sys.stderr)
        return 1
    remember_workspace(ws)
    for issue in result.playbook_issues:
        print(issue.render(ws.lang))
    for parsed in result.files:
        for issue in parsed.issues:
            print(issue.render(ws.lang))
    store = ws.store()
    try:
        playbook, _ = load_playbook(ws, store, args.as_of)
        still_open = Counter(store.current_issue_counts(args.as_of))
    finally:
        store.close()
    departed = departed_folders(ws, playbook)
    # The next run for this day: what this one leaves (the store is read above, after the state's mark
    # was taken under the lock, so a state whose mark still holds saw these very counts).
    quiet.remember(ws, result.quiet and {**result.quiet, "open": dict(still_open), "departed": departed})
    for folder, files in departed:
        print(t("cli.departed", ws.lang, folder=folder, files=files))
    print(t("cli.ingest_done", ws.lang, new=result.new, unchanged=result.unchanged, rejected=result.rejected,
            errors=result.errors, warnings=result.warnings))
    print(t("cli.ingest_open", ws.lang, errors=still_open["error"], warnings=still_open["warning"]))
    if result.settle_error:
        print(t("cli.settle_failed", ws.lang, error=result.settle_error), file=sys.stderr)
    # Exit 1 when a file read now (or the playbook) has errors, a file failed (file-failed,
    # reader-crashed) or the settlement failed: all reported above; the rest is recorded either way.
    errors = any(i.severity == "error" for i in result.playbook_issues) or any(p.errors for p in result.files)
    return 1 if errors or result.failed or result.settle_error else 0


def _find_workspace(path: Path) -> Workspace | None:
    for parent in [path.resolve().parent, *path.resolve().parents]:
        if (parent / "sheetsales.toml").is_file():
            return Workspace.open(parent)
    return None


def _hidden_sheets(path: Path) -> tuple[dict[str, str], dict[str, list[str]]]:
    """What a workbook's hidden sheets record: ``_sheetsales`` (kind, lang, workspace, rep…) and the
    drop-down lists of ``_lists`` (its playbook's categories…); empty when it has none.

    Read through the guarded reader (sniffing, archive and extent checks before calamine sees the
    file): a damaged or hostile file gives nothing here and ``check`` then says what is wrong."""
    from ..reading.read import open_workbook, read_meta
    from ..reading.specs import LISTS_SHEET, META_SHEET

    meta: dict[str, str] = {}
    lists: dict[str, list[str]] = {}
    try:
        raw, _ = open_workbook(path, path.name, only=(META_SHEET, LISTS_SHEET))
        if raw is None:
            return meta, lists
        meta = read_meta(raw)
        found = raw.sheet(LISTS_SHEET)
        if found is not None:
            rows = found[1]
            for c, key in enumerate(rows[0] if rows else []):
                lists[str(key)] = [str(r[c]).strip() for r in rows[1:]
                                   if c < len(r) and r[c] is not None and str(r[c]).strip()]
    except Exception:  # not a workbook, a damaged one: check itself says what is wrong
        pass
    return meta, lists


def _default_playbook(meta: dict[str, str], lists: dict[str, list[str]]) -> Playbook:
    """Outside every workspace: the default method; its sample products in either language and the
    categories the workbook's own drop-down offers count, and the person its hidden sheet names is
    on the team (there is no Team sheet to look them up in)."""
    from ..method.playbook import DEFAULT_PRODUCTS, DEFAULT_PRODUCTS_EN, Person, Playbook

    playbook = Playbook()
    team = playbook.team
    if meta.get("rep") and playbook.person(meta["rep"]) is None:
        team = (*team, Person(meta["rep"], meta.get("rep_name") or meta["rep"], "", ""))
    products = DEFAULT_PRODUCTS + DEFAULT_PRODUCTS_EN
    known = {c for c, _ in products}
    products += tuple((c, "") for c in dict.fromkeys(lists.get("category", [])) if c not in known)
    return replace(playbook, team=team, products=products)


def cmd_check(args: argparse.Namespace) -> int:
    path = Path(args.file)
    if not path.is_file():
        print(f"error: {path} is a folder; give a workbook (.xlsx)" if path.is_dir() else f"error: no such file: {path}",
              file=sys.stderr)
        return 2
    meta, lists = _hidden_sheets(path)
    found_by_id = False
    if args.workspace:
        ws: Workspace | None = Workspace.open(Path(args.workspace))
    else:
        ws = _find_workspace(path)
        if ws is None and meta.get("workspace"):  # a copy outside its workspace: the hidden sheet names it
            ws = workspace_by_id(meta["workspace"], near=Path.cwd())
            found_by_id = ws is not None
    lang = args.lang or (ws.lang if ws is not None else "") or (
        meta["lang"] if meta.get("lang") in LANGS else "zh-CN")
    # What ingest would record for this file: the same reading, identity and copy decisions.
    from ..storage.ingest import check_file

    parsed = check_file(path, ws, args.as_of, lang, playbook=_default_playbook(meta, lists))
    note = (t("cli.check_against", lang, path=ws.root.resolve()) if found_by_id
            else t("cli.check_no_workspace", lang) if ws is None else "")
    if note:
        print(note, file=sys.stderr)
    if args.json:
        print(json.dumps({"file": str(path), "kind": parsed.kind, "rep": parsed.rep, "week": parsed.week,
                          "workspace": str(ws.root.resolve()) if ws is not None else None,
                          "readable": parsed.readable, "issues": [i.as_record(lang) for i in parsed.issues]},
                         ensure_ascii=False, indent=2))
    else:
        for issue in parsed.issues:
            print(issue.render(lang))
        if not parsed.errors:
            print(t("cli.check_ok", lang, file=path.name))
    return 1 if parsed.errors else 0


def cmd_report(args: argparse.Namespace) -> int:
    from ..outputs.report import build_summary, output_messages, run_report

    ws = Workspace.open(Path(args.dir))
    # Even --no-write holds the lock: the figures then come from a store no ingest is half-way through.
    with ws.lock(on_wait=_waiting, command="sheetsales report"):
        if args.json and args.no_write:
            summary = build_summary(ws, args.as_of)
            failed = False
        else:
            result = run_report(ws, args.as_of, progress=None if args.quiet else _progress("output"))
            summary = result.summary
            if not args.json:
                if result.summary_path is not None:
                    print(t("cli.report_done", ws.lang, path=result.summary_path.resolve()))
                print(t("cli.feedback_done", ws.lang, path=(ws.reports / "feedback").resolve(),
                        count=len(result.feedback)))
                print(t("cli.outputs_done", ws.lang, written=len(result.written), unchanged=len(result.unchanged)))
            for line in output_messages(result, ws.lang):  # beside the target, or not written
                print(line, file=sys.stderr if args.json else sys.stdout)
            failed = bool(result.failed)
    if args.json:
        print(json.dumps(_strict_json(summary.to_json()), ensure_ascii=False, indent=2))
    return 1 if failed else 0


def _strict_json(value: object) -> object:
    """``value`` with every non-finite number as text ("inf", as the workbooks show it): strict JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    if isinstance(value, dict):
        return {k: _strict_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_strict_json(v) for v in value]
    return value


def cmd_verify(args: argparse.Namespace) -> int:
    from ..method.logchain import verify

    ws = Workspace.open(Path(args.dir))
    store = ws.store()
    try:
        result = verify(store, args.as_of)
    finally:
        store.close()
    if result.ok:
        print(t("cli.verify_ok", ws.lang, people=result.people, entries=result.entries, as_of=args.as_of))
        return 0
    b = result.broken
    print(t("cli.verify_broken", ws.lang, rep=b.rep, seq=b.seq, week=b.week, date=b.date,
            reason=t(f"verify.{b.reason}", ws.lang)))
    return 1


def cmd_demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    run_demo(Path(args.dir), as_of=args.as_of, lang=args.lang, weeks=args.weeks)  # holds the workspace lock
    return 0


def cmd_build_templates(args: argparse.Namespace) -> int:
    from ..reading.templates import build_committed_templates

    for path in build_committed_templates(Path(args.dir)):
        print(path)
    return 0


def _service_logging(log_file: str) -> None:
    """Services log what they do: INFO to stderr (the journal under systemd) and, with --log, to a file."""
    logger = logging.getLogger("sheetsales")
    logger.setLevel(logging.INFO)
    if log_file:
        from logging.handlers import RotatingFileHandler

        handler = RotatingFileHandler(log_file, maxBytes=1 << 20, backupCount=5, encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        logger.addHandler(handler)


def _until_signalled(run: object, stop: object) -> None:
    """Run a service until Ctrl-C or SIGTERM (systemd stop, Task Scheduler end) asks it to stop."""
    import signal

    for name in ("SIGINT", "SIGTERM", "SIGBREAK"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), lambda *_: stop())
    run()


def cmd_watch(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from ..outputs import outputs
    from ..outputs.digest import write_digest
    from .schedule import Schedule, Scheduler
    from .settings import load_settings
    from .watch import Watcher

    ws = Workspace.open(Path(args.dir))
    settings, schedule_settings = load_settings(ws)
    if args.polling:
        settings = replace(settings, polling=True)
    outputs.configure(keep=settings.keep_copies)
    scheduler, wall = None, dt.datetime.now
    if schedule_settings.cron and not args.no_schedule:
        schedule = Schedule.from_settings(schedule_settings)
        scheduler, wall = Scheduler(schedule, schedule.now()), schedule.now
    _service_logging(args.log)
    watcher = Watcher(ws, settings, scheduler=scheduler, digest=schedule_settings.digest, as_of=args.as_of,
                      digest_fn=write_digest, wall=wall)
    _until_signalled(watcher.run, watcher.stop)
    return 0


def cmd_schedule(args: argparse.Namespace) -> int:
    import threading

    from ..outputs import outputs
    from ..outputs.report import output_messages
    from .schedule import Schedule, scheduled_run, serve_schedule
    from .settings import load_settings

    ws = Workspace.open(Path(args.dir))
    settings, schedule_settings = load_settings(ws)
    schedule = Schedule.from_settings(schedule_settings, args.cron)
    if args.show_next:
        for when in schedule.upcoming(schedule.now(), args.show_next):
            print(when.strftime("%Y-%m-%d %H:%M %a %Z").strip())
        return 0
    outputs.configure(keep=settings.keep_copies)
    if args.once:
        done = scheduled_run(ws, args.as_of or schedule.now().date(), schedule_settings.digest, on_wait=_waiting)
        if done.report.summary_path is not None:
            print(t("cli.report_done", ws.lang, path=done.report.summary_path.resolve()))
        for line in output_messages(done.report, ws.lang):
            print(line)
        if done.digest:
            print(t("schedule.digest_done", ws.lang, path=done.digest.resolve()))
        if done.unavailable:
            print(t("cli.inbox_unavailable", ws.lang, path=ws.inbox), file=sys.stderr)
        return 1 if done.unavailable or done.report.failed else 0
    _service_logging(args.log)
    stop = threading.Event()
    _until_signalled(lambda: serve_schedule(ws, schedule, args.as_of, schedule_settings.digest, stop), stop.set)
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="sheetsales", description="Sales-process control for teams that live in Excel.")
    p.add_argument("--version", action="version", version=f"sheetsales {__version__}")
    p.add_argument("-v", "--verbose", action="store_true", help="log what happens")
    sub = p.add_subparsers(dest="command", required=True)

    def cmd(name: str, func: object, help_text: str, each_run: bool = False) -> argparse.ArgumentParser:
        sp = sub.add_parser(name, help=help_text, description=help_text)
        sp.add_argument("--as-of", type=_date, default=None if each_run else dt.date.today(), metavar="DATE",
                        help="act as on this date (yyyy-mm-dd); default "
                             + ("the date of each run" if each_run else "today"))
        sp.set_defaults(func=func)
        return sp

    sp = cmd("init", cmd_init, "create a workspace: playbook, inbox folders with templates, reports, archive, store")
    sp.add_argument("dir", help="the workspace folder (created when missing; a workspace there is kept as it is)")
    sp.add_argument("--lang", choices=LANGS, default="zh-CN", help="language of the workbooks and messages "
                    "(default zh-CN)")
    sp.add_argument("--sample", action="store_true", help="put the sample team (D01, S01, R01-R03) on the "
                    "playbook's Team sheet, to try sheetsales out; without it the Team sheet is left for you to fill")

    sp = cmd("template", cmd_template, "hand out one template again")
    sp.add_argument("kind", choices=tuple(TEMPLATE_SPECS), help="which template")
    sp.add_argument("--rep", default="", help="person id from the team sheet")
    sp.add_argument("--week", type=_week, default="", help="ISO week for a weekly report, e.g. 2026-W48")
    sp.add_argument("-o", "--output", default="", help="file to write (never overwritten)")
    sp.add_argument("-w", "--workspace", default=".", help="workspace folder (default: current folder)")

    sp = cmd("ingest", cmd_ingest, "read every new or changed workbook of the inbox into the store "
             "(exit 1 when a file read has errors, 0 when all is well)")
    sp.add_argument("dir", help="the workspace folder")
    sp.add_argument("-q", "--quiet", action="store_true", help="no progress bar or progress lines")

    sp = cmd("check", cmd_check, "validate one workbook without recording anything (exit 1 on errors)")
    sp.add_argument("file", help="the workbook to check (.xlsx), inside or outside a workspace")
    sp.add_argument("--json", action="store_true", help="print the issues as JSON")
    sp.add_argument("--lang", choices=LANGS, default="", help="language of the messages (default: the "
                    "workspace's, else the workbook's)")
    sp.add_argument("-w", "--workspace", default="", metavar="DIR", help="check against this workspace's "
                    "playbook (default: the workspace holding FILE, else the one its hidden sheet names)")

    sp = cmd("report", cmd_report, "write reports/summary.xlsx and reports/feedback/<id>.xlsx")
    sp.add_argument("dir", help="the workspace folder")
    sp.add_argument("--json", action="store_true", help="also print the figures as JSON")
    sp.add_argument("--no-write", action="store_true", help="with --json: print only, write no workbook")
    sp.add_argument("-q", "--quiet", action="store_true", help="no progress bar or progress lines")

    sp = cmd("verify", cmd_verify, "prove the daily logs unchanged: walk every person's hash chain of accepted log "
             "rows (exit 1 and the first broken link when a row was altered or deleted)")
    sp.add_argument("dir", help="the workspace folder")

    sp = cmd("demo", cmd_demo, "build a demo workspace with a realistic team and eight weeks of saves")
    sp.add_argument("dir", nargs="?", default="reports/demo", help="where to build it (default reports/demo)")
    sp.add_argument("--lang", choices=LANGS, default="zh-CN", help="language of the demo (default zh-CN)")
    sp.add_argument("--weeks", type=int, default=8, help="weeks of saves to replay (default 8)")

    sp = cmd("watch", cmd_watch, "watch the inbox: every save is ingested and the reports regenerated within "
             "seconds; runs the [schedule] of sheetsales.toml too", each_run=True)
    sp.add_argument("dir", help="the workspace folder")
    sp.add_argument("--polling", action="store_true", help="poll instead of change events (SMB/NFS shares)")
    sp.add_argument("--no-schedule", action="store_true", help="ignore the [schedule] of sheetsales.toml")
    sp.add_argument("--log", default="", metavar="FILE", help="also log to FILE (rotated at 1 MB, 5 kept)")

    sp = cmd("schedule", cmd_schedule, "regenerate the reports and the week's HTML digest on a cron schedule",
             each_run=True)
    sp.add_argument("dir", help="the workspace folder")
    sp.add_argument("--cron", action="append", default=[], metavar="EXPR",
                    help='cron expression, e.g. "30 7 * * 1" (Mondays 07:30); default: [schedule] cron')
    sp.add_argument("--once", action="store_true", help="do one scheduled run now and exit (for cron or Task Scheduler)")
    sp.add_argument("--show-next", type=int, default=0, metavar="N", help="print the next N scheduled times and exit")
    sp.add_argument("--log", default="", metavar="FILE", help="also log to FILE (rotated at 1 MB, 5 kept)")

    sp = cmd("build-templates", cmd_build_templates, "regenerate the committed blank templates")
    sp.add_argument("dir", nargs="?", default="workbook_templates", help="where (default workbook_templates)")
    return p


def _refusals() -> tuple[type[Exception], ...]:
    """WorkspaceError, and the store's StoreVersionError once the store was imported: only then can
    it have been raised (importing it to name it would cost the no-op ingest SQLAlchemy's import)."""
    store = sys.modules.get(f"{__package__.rpartition('.')[0]}.storage.store")
    return (WorkspaceError,) if store is None else (WorkspaceError, store.StoreVersionError)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(message)s")
    try:
        return args.func(args)
    except WorkspaceBusy as exc:  # another run held the workspace too long: nothing was changed
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BUSY
    except _refusals() as exc:  # WorkspaceError; StoreVersionError: too old or too new a store
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # the reader went away (`sheetsales report --json | head -1`): not an error to tell
        _quiet_stdout()
        return EXIT_PIPE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except OSError as exc:  # a folder or file the user named: missing, not allowed, a file where a folder goes
        if args.verbose:
            logging.getLogger("sheetsales").exception("%s", exc)
        where = f": {exc.filename}" if exc.filename else ""
        print(f"error: {exc.strerror or exc}{where}", file=sys.stderr)
        return 2


def _quiet_stdout() -> None:
    """Point stdout at the null device, so that Python's own flush at exit finds no closed pipe."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout is no real file (a test's capture): nothing to flush
        pass


if __name__ == "__main__":
    sys.exit(main())
