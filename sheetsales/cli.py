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
from pathlib import Path

from . import __version__
from .i18n import t
from .ingest import check_file, ingest, load_playbook
from .report import build_summary, output_messages, run_report
from .store import StoreVersionError
from .templates import KINDS, build_committed_templates, iso_week, template_filename
from .workspace import LANGS, Workspace, WorkspaceBusy, WorkspaceError, init_workspace

EXIT_BUSY = 75  # another sheetsales run held the workspace past [lock] timeout (sysexits' EX_TEMPFAIL)


def _waiting(message: str) -> None:
    """Another run holds the workspace: say so, then wait."""
    print(message, file=sys.stderr, flush=True)


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (yyyy-mm-dd): {text!r}") from None


def _progress(total_hint: str = "") -> object:
    tty = sys.stderr.isatty()

    def show(n: int, total: int, label: str) -> None:
        if tty:
            sys.stderr.write(f"\r[{n}/{total}] {label[:70]:<70}")
            if n == total:
                sys.stderr.write("\n")
        elif n == total or n % 50 == 0:
            sys.stderr.write(f"[{n}/{total}] {label}\n")
        sys.stderr.flush()

    return show


def cmd_init(args: argparse.Namespace) -> int:
    ws = init_workspace(Path(args.dir), lang=args.lang, as_of=args.as_of, on_wait=_waiting)
    print(t("cli.init_done", ws.lang, path=ws.root.resolve()))
    for d in ("playbook.xlsx", "inbox", "reports", "archive"):
        print(f"  {ws.root / d}")
    return 0


def cmd_template(args: argparse.Namespace) -> int:
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
    ws.write_template(out, args.kind, playbook, args.rep, week)
    print(t("cli.template_done", ws.lang, path=out))
    return 0


def _end_on_sigterm() -> None:
    """SIGTERM (a cron timeout, a service stop) ends the run as Ctrl-C does: a file being read is then
    recorded as interrupted, not as one that took the reader down (reader-crashed)."""
    import signal
    import threading

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))


def cmd_ingest(args: argparse.Namespace) -> int:
    ws = Workspace.open(Path(args.dir))
    _end_on_sigterm()
    with ws.lock(on_wait=_waiting, command="sheetsales ingest"):
        result = ingest(ws, args.as_of, progress=None if args.quiet else _progress())
    if result.unavailable:
        print(t("cli.inbox_unavailable", ws.lang, path=ws.inbox), file=sys.stderr)
        return 1
    for issue in result.playbook_issues:
        print(issue.render(ws.lang))
    for parsed in result.files:
        for issue in parsed.issues:
            print(issue.render(ws.lang))
    print(t("cli.ingest_done", ws.lang, new=result.new, unchanged=result.unchanged, rejected=result.rejected,
            errors=result.errors, warnings=result.warnings))
    if result.settle_error:
        print(t("cli.settle_failed", ws.lang, error=result.settle_error), file=sys.stderr)
    # A file that failed (file-failed, reader-crashed) is reported above; the others are recorded.
    return 1 if result.failed or result.settle_error else 0


def _find_workspace(path: Path) -> Workspace | None:
    for parent in [path.resolve().parent, *path.resolve().parents]:
        if (parent / "sheetsales.toml").is_file():
            return Workspace.open(parent)
    return None


def cmd_check(args: argparse.Namespace) -> int:
    path = Path(args.file)
    if not path.is_file():
        print(f"error: no such file: {path}", file=sys.stderr)
        return 2
    ws = _find_workspace(path)
    lang = args.lang or (ws.lang if ws is not None else "")
    # What ingest would record for this file: the same reading, identity and copy decisions.
    parsed = check_file(path, ws, args.as_of, lang or "zh-CN")
    if not lang:  # outside a workspace: the language the workbook's hidden sheet records
        lang = parsed.lang if parsed.lang in ("zh-CN", "en") else "zh-CN"
        if lang != "zh-CN":
            parsed = check_file(path, ws, args.as_of, lang)
    if args.json:
        print(json.dumps({"file": str(path), "kind": parsed.kind, "rep": parsed.rep, "week": parsed.week,
                          "readable": parsed.readable, "issues": [i.as_record(lang) for i in parsed.issues]},
                         ensure_ascii=False, indent=2))
    else:
        for issue in parsed.issues:
            print(issue.render(lang))
        if not parsed.errors:
            print(t("cli.check_ok", lang, file=path.name))
    return 1 if parsed.errors else 0


def cmd_report(args: argparse.Namespace) -> int:
    ws = Workspace.open(Path(args.dir))
    # Even --no-write holds the lock: the figures then come from a store no ingest is half-way through.
    with ws.lock(on_wait=_waiting, command="sheetsales report"):
        if args.json and args.no_write:
            summary = build_summary(ws, args.as_of)
            failed = False
        else:
            result = run_report(ws, args.as_of)
            summary = result.summary
            if not args.json:
                if result.summary_path is not None:
                    print(t("cli.report_done", ws.lang, path=result.summary_path.resolve()))
                print(t("cli.feedback_done", ws.lang, path=(ws.reports / "feedback").resolve(),
                        count=len(result.feedback)))
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


def cmd_demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    run_demo(Path(args.dir), as_of=args.as_of, lang=args.lang, weeks=args.weeks)  # holds the workspace lock
    return 0


def cmd_build_templates(args: argparse.Namespace) -> int:
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

    from . import outputs
    from .digest import write_digest
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

    from . import outputs
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
    sp.add_argument("dir")
    sp.add_argument("--lang", choices=LANGS, default="zh-CN")

    sp = cmd("template", cmd_template, "hand out one template again")
    sp.add_argument("kind", choices=KINDS)
    sp.add_argument("--rep", default="", help="person id from the team sheet")
    sp.add_argument("--week", default="", help="ISO week for a weekly report, e.g. 2026-W48")
    sp.add_argument("-o", "--output", default="", help="file to write (never overwritten)")
    sp.add_argument("-w", "--workspace", default=".", help="workspace folder (default: current folder)")

    sp = cmd("ingest", cmd_ingest, "read every new or changed workbook of the inbox into the store")
    sp.add_argument("dir")
    sp.add_argument("-q", "--quiet", action="store_true", help="no progress")

    sp = cmd("check", cmd_check, "validate one workbook without recording anything (exit 1 on errors)")
    sp.add_argument("file")
    sp.add_argument("--json", action="store_true")
    sp.add_argument("--lang", choices=LANGS, default="")

    sp = cmd("report", cmd_report, "write reports/summary.xlsx and reports/feedback/<id>.xlsx")
    sp.add_argument("dir")
    sp.add_argument("--json", action="store_true", help="also print the figures as JSON")
    sp.add_argument("--no-write", action="store_true", help="with --json: print only, write no workbook")

    sp = cmd("demo", cmd_demo, "build a demo workspace with a realistic team and eight weeks of saves")
    sp.add_argument("dir", nargs="?", default="reports/demo")
    sp.add_argument("--lang", choices=LANGS, default="zh-CN")
    sp.add_argument("--weeks", type=int, default=8)

    sp = cmd("watch", cmd_watch, "watch the inbox: every save is ingested and the reports regenerated within "
             "seconds; runs the [schedule] of sheetsales.toml too", each_run=True)
    sp.add_argument("dir")
    sp.add_argument("--polling", action="store_true", help="poll instead of change events (SMB/NFS shares)")
    sp.add_argument("--no-schedule", action="store_true", help="ignore the [schedule] of sheetsales.toml")
    sp.add_argument("--log", default="", metavar="FILE", help="also log to FILE (rotated at 1 MB, 5 kept)")

    sp = cmd("schedule", cmd_schedule, "regenerate the reports and the week's HTML digest on a cron schedule",
             each_run=True)
    sp.add_argument("dir")
    sp.add_argument("--cron", action="append", default=[], metavar="EXPR",
                    help='cron expression, e.g. "30 7 * * 1" (Mondays 07:30); default: [schedule] cron')
    sp.add_argument("--once", action="store_true", help="do one scheduled run now and exit (for cron or Task Scheduler)")
    sp.add_argument("--show-next", type=int, default=0, metavar="N", help="print the next N scheduled times and exit")
    sp.add_argument("--log", default="", metavar="FILE", help="also log to FILE (rotated at 1 MB, 5 kept)")

    sp = cmd("build-templates", cmd_build_templates, "regenerate the committed blank templates")
    sp.add_argument("dir", nargs="?", default="workbook_templates")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(message)s")
    try:
        return args.func(args)
    except WorkspaceBusy as exc:  # another run held the workspace too long: nothing was changed
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BUSY
    except (WorkspaceError, StoreVersionError) as exc:  # StoreVersionError: too old or too new a store
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
