"""Realistic benchmark workspaces of N reps, built with the project's own templates and filling.

An organisation of ``reps`` reps (Chinese names, six regions, teams of about ten under a supervisor,
a regional manager per region, one director), each with:

- an MPC list of ``deals`` deals (default 60): milestones ticked up to the stage, the qualification
  answered as far as the deal got, C931 ticked from 方案设计 on, some won and lost;
- a weekly report for each of the last ``weeks`` weeks (default 3: the history a shared folder keeps)
  with ``log`` work-log rows (default 30), the week's contracts and expenses;
- a decisions workbook per supervisor (a third of them have decided something);
- some bad files: about 2 % of reps typed a slip in one row (kept out), one rep in 100 has a damaged
  weekly report and one in 100 left a Save As copy of the MPC list next to the original.

The workspace is generated once per size and cached under ``reports/bench/<size>/``; it is generated
again when this module (or the size or parameters) changes: ``ensure_workspace``. Templates come from
``Workspace.write_template`` / ``handout`` and every workbook is typed with ``sheetsales.service.demo.fill_workbook``
(the path a person's Excel save takes in the demo and the tests).

    python benchmarks/workspace_gen.py REPS [--root reports/bench] [--jobs 2]
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import random
import shutil
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sheetsales
from sheetsales.method.playbook import DEFAULT_PRODUCTS, DEFAULT_STAGES, Person, Playbook, Target
from sheetsales.reading.names import opportunity_key
from sheetsales.reading.specs import (
    C931_TABLE,
    CONTRACTS_TABLE,
    DECISIONS_TABLE,
    EXPENSES_TABLE,
    LOG_TABLE,
    QUALIFICATION_TABLE,
    TICK,
    WEEKLY_FORM,
    mpc_table,
)
from sheetsales.reading.templates import iso_week, template_filename
from sheetsales.service.demo import fill_workbook
from sheetsales.service.workspace import Workspace, init_workspace

AS_OF = dt.date(2026, 11, 20)  # a Friday: the week's reports are in
LANG = "zh-CN"
GENERATOR_VERSION = 3  # bump to force regeneration when something outside this file changes the output
# 3: weekly report template version 2 (the log picks the deal and ticks activity types; the plan sheet)

REGIONS = (("华东", "华东销售部"), ("华北", "华北销售部"), ("华南", "华南销售部"), ("华中", "华中销售部"),
           ("西南", "西南销售部"), ("西北", "西北销售部"))
CITIES = ("苏州", "无锡", "常州", "宁波", "上海", "合肥", "天津", "唐山", "保定", "济南", "深圳", "东莞", "佛山",
          "广州", "武汉", "长沙", "成都", "重庆", "西安", "兰州", "郑州", "青岛", "厦门", "嘉兴")
BRAND_CHARS = "恒远瑞丰金鼎宏达天成鑫源永固博创嘉泰精诚航德力汇通凯利新锐海川明荣盛华睿立信晟京中科宇昌启"
INDUSTRIES = ("精密机械", "汽车零部件", "电子科技", "模具", "液压设备", "钣金制造", "医疗器械", "轨道交通装备",
              "航空部件", "新能源科技", "工程机械", "阀门")
SUFFIXES = ("有限公司", "股份有限公司", "集团有限公司")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志红玉兰俊峰海燕文斌晨宇浩然子轩欣怡雨涵"
DETAIL = ("客户提出产能扩充需求,内部立项中", "已上门拜访设备科,找到内线", "方案初稿已提交,等待技术反馈",
          "已安排参观样板客户,技术倾向我方", "技术方案已确认,等待招标", "高层倾向我方,评估中",
          "合同条款谈判中,付款方式待定", "已签约,等待到货验收")
ACTIVITIES = ("电话了解需求,确认立项意向", "上门拜访设备科,结识技术科长", "提交技术方案初稿", "陪同客户参观样板工厂",
              "参加技术交流会,答疑", "拜访分管副总,汇报方案优势", "商务谈判:付款方式与交期", "合同条款逐条确认",
              "内部周会,MPC周评", "整理客户资料,更新MPC一览表")
RESULTS = ("客户认可,约下周再谈", "需补充报价明细", "确认了关键需求", "对方要求降价5%", "拿到采购时间表", "进展顺利")
ANSWERS = ("产能不足,计划扩产", "中型制造企业,符合", "要求本地服务网点,我方满足", "已列入年度预算", "付款记录良好",
           "计划明年一季度签约", "有,技术部科长", "2台,高于我方最低量", "预计毛利约25%,高于底线")
CATEGORIES = list(dict.fromkeys(c for c, _ in DEFAULT_PRODUCTS))
MODELS = {c: [m for cc, m in DEFAULT_PRODUCTS if cc == c] for c in CATEGORIES}
STATUS = {"open": "跟进中", "won": "已签约", "lost": "已丢单"}
SLIPS = ("text-date", "negative-amount", "unknown-stage")


@dataclass(frozen=True)
class Params:
    reps: int
    deals: int = 60
    log: int = 30
    weeks: int = 3
    seed: int = 8

    def key(self) -> str:
        """Changes whenever the generated workspace would: parameters, this file, GENERATOR_VERSION, the release."""
        h = hashlib.sha256(Path(__file__).read_bytes())
        h.update(json.dumps([self.reps, self.deals, self.log, self.weeks, self.seed, GENERATOR_VERSION,
                             sheetsales.__version__]).encode())
        return h.hexdigest()[:16]


def person_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def team(reps: int, seed: int = 8) -> tuple[Person, ...]:
    """Director D001, one manager per region (M01…), a supervisor (S001…) per ~10 reps, reps R0001…."""
    rng = random.Random(f"team-{seed}")
    n_sup = max(1, (reps + 9) // 10)
    regions = REGIONS[: min(len(REGIONS), n_sup)]
    people = [Person("D001", person_name(rng), "全国", "销售部", "", 8)]
    people += [Person(f"M{r + 1:02d}", person_name(rng), region, dept, "D001", 6)
               for r, (region, dept) in enumerate(regions)]
    for s in range(n_sup):
        r = s % len(regions)
        people.append(Person(f"S{s + 1:03d}", person_name(rng), regions[r][0], f"{regions[r][0]}{s // len(regions) + 1}组",
                             f"M{r + 1:02d}", 4))
    for i in range(reps):
        sup = people[1 + len(regions) + i % n_sup]
        people.append(Person(f"R{i + 1:04d}", person_name(rng), sup.region, sup.team, sup.id, 2))
    return tuple(people)


def playbook_for(p: Params) -> Playbook:
    people = team(p.reps, p.seed)
    teams = sorted({x.team for x in people if x.id.startswith("R")})
    targets = [Target(t, f"{AS_OF.year}-{m:02d}", 3_000_000.0) for t in teams for m in range(1, 13)]
    return Playbook(stages=DEFAULT_STAGES, team=people, targets=tuple(targets))


def customer(rng: random.Random) -> str:
    """A company name; two-character brands from BRAND_CHARS make about 2.3 M (name, category) pairs, so
    reps claim the same customer (撞单) about as rarely as in life: ~1 % of deals at 500 reps."""
    brand = "".join(rng.sample(BRAND_CHARS, 2))
    return rng.choice(CITIES) + brand + rng.choice(INDUSTRIES) + rng.choice(SUFFIXES)


def deals_for(rng: random.Random, n: int) -> list[dict[str, Any]]:
    """One rep's deals (internal form; ``mpc_rows`` types them)."""
    out: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    while len(out) < n:
        name, category = customer(rng), rng.choice(CATEGORIES)
        if (name, category) in seen:
            continue
        seen.add((name, category))
        stage = rng.choices(range(1, 9), weights=(14, 16, 16, 14, 12, 10, 8, 10))[0]
        status = "won" if stage == 8 else ("lost" if rng.random() < 0.06 else "open")
        sign = AS_OF + dt.timedelta(days=rng.randrange(-60, -5) if status == "won" else rng.randrange(10, 240))
        out.append({"customer": name, "category": category, "model": rng.choice(MODELS[category] or [""]),
                    "amount": rng.randrange(5, 300) * 10_000, "sign_date": sign, "stage": stage, "status": status,
                    "answered": 9 if stage >= 3 else (2 if stage == 1 else 5) - (rng.random() < 0.2),
                    "overclaim": rng.random() < 0.05})
    return out


def mpc_rows(deals: list[dict[str, Any]], owner: str, slip: str | None) -> list[dict[str, Any]]:
    rows = []
    for no, d in enumerate(deals, 1):
        stage = DEFAULT_STAGES[d["stage"] - 1]
        met = d["stage"] - 1 - (1 if d["overclaim"] and d["stage"] > 1 else 0)
        row = {"no": no, "category": d["category"], "model": d["model"], "customer": d["customer"],
               "amount": d["amount"], "sign_date": d["sign_date"], "delivery_date": d["sign_date"] + dt.timedelta(weeks=8),
               "stage": stage.name_zh, "win_rate": {"won": 1.0, "lost": 0.0}.get(d["status"], stage.probability),
               "status": STATUS[d["status"]], "detail": DETAIL[d["stage"] - 1], "owner_name": owner,
               **{f"m{m}": TICK for m in range(1, min(met, len(DEFAULT_STAGES) - 1) + 1)}}
        rows.append(row)
    if slip and rows:
        row = rows[len(rows) // 2]
        if slip == "text-date":
            row["sign_date"] = f"{AS_OF.year + 1}年3月底"
        elif slip == "negative-amount":
            row["amount"] = -row["amount"]
        else:
            row["stage"] = "谈判中"
    return rows


def qualification_rows(deals: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"customer": d["customer"], "category": d["category"],
             **{f"q{n}": ANSWERS[n - 1] for n in range(1, d["answered"] + 1)}} for d in deals]


def c931_rows(deals: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for d in deals:
        if d["stage"] < 3:
            continue
        clear = min(9, d["stage"] + 1)
        first = max(0, d["stage"] - 5)
        keys = [f"c{i}" for i in range(1, clear + 1)] + [f"f{i}" for i in range(1, first + 1)]
        if d["stage"] == 8:
            keys.append("w1")
        rows.append({"customer": d["customer"], "category": d["category"], **dict.fromkeys(keys, TICK)})
    return rows


def weekly_rows(rng: random.Random, deals: list[dict[str, Any]], monday: dt.date, n_log: int
                ) -> tuple[dict[str, str], list[dict], list[dict], list[dict]]:
    days = [monday + dt.timedelta(days=i) for i in range(5)]
    log = []
    for _ in range(n_log):
        d = rng.choice(deals)
        start = rng.randint(17, 30) / 2
        hours = rng.choice((1.0, 1.5, 2.0, 3.0))
        log.append({"date": rng.choice(days), "time": f"{int(start):02d}:{int(start % 1 * 60):02d}",
                    "content": rng.choice(ACTIVITIES), "unit": d["customer"], "person": person_name(rng) + "工",
                    "contact": f"139{rng.randrange(10**8):08d}", "result": rng.choice(RESULTS), "hours": hours,
                    "cost": rng.choice((0, 0, 60, 120, 260))})
    log.sort(key=lambda r: (r["date"], r["time"]))
    won = [d for d in deals if d["status"] == "won"][: rng.randint(0, 2)]
    contracts = [{"customer": d["customer"], "category": d["category"], "model": d["model"], "quantity": 1,
                  "amount": d["amount"], "remarks": "预付30%,到货60%"} for d in won]
    expenses = [{"date": day, "travel": rng.randrange(200, 2600, 10), "entertainment": rng.choice((0, 380, 650)),
                 "other": rng.choice((0, 45)), "remarks": f"高铁往返{rng.choice(CITIES)}"}
                for day in sorted(rng.sample(days, rng.randint(1, 3)))]
    form = {"key_events": ";".join(f"{d['customer']}推进中" for d in deals[:3]),
            "market_news": "汽车零部件行业扩产,询价明显增多。"}
    return form, log, contracts, expenses


def _mondays(weeks: int) -> list[dt.date]:
    last = AS_OF - dt.timedelta(days=AS_OF.weekday())
    return [last - dt.timedelta(weeks=weeks - 1 - i) for i in range(weeks)]


def _fill_reps(root: str, p: Params, rep_ids: list[str]) -> int:
    """Type every workbook of ``rep_ids`` (run in a worker process); returns the number of files."""
    ws = Workspace.open(Path(root))
    playbook = playbook_for(p)
    mpc = mpc_table(len(playbook.stages))
    files = 0
    for rid in rep_ids:
        rep = playbook.person(rid)
        assert rep is not None
        rng = random.Random(f"{p.seed}-{rid}")
        number = int(rid[1:])
        deals = deals_for(rng, p.deals)
        slip = SLIPS[number % 3] if number % 50 == 7 else None
        folder = ws.inbox / rid
        path = folder / template_filename("mpc", LANG, rid)
        fill_workbook(path, ((mpc, mpc_rows(deals, rep.name, slip)), (QUALIFICATION_TABLE, qualification_rows(deals)),
                             (C931_TABLE, c931_rows(deals))))
        files += 1
        if number % 100 == 3:  # a Save As copy left beside the list
            shutil.copyfile(path, folder / f"{path.stem} - 副本.xlsx")
            files += 1
        for monday in _mondays(p.weeks):
            week = iso_week(monday)
            weekly = folder / template_filename("weekly", LANG, rid, week)
            if not weekly.exists():
                ws.write_template(weekly, "weekly", playbook, rid, week)
            form, log, contracts, expenses = weekly_rows(rng, deals, monday, p.log)
            fill_workbook(weekly, ((LOG_TABLE, log), (CONTRACTS_TABLE, contracts), (EXPENSES_TABLE, expenses)),
                          form=(WEEKLY_FORM, form))
            files += 1
        if number % 100 == 5 and p.weeks > 1:  # a damaged save: the first week's report cut short
            weekly = folder / template_filename("weekly", LANG, rid, iso_week(_mondays(p.weeks)[0]))
            data = weekly.read_bytes()
            weekly.write_bytes(data[: len(data) // 3])
    return files


def _fill_decisions(ws: Workspace, p: Params, playbook: Playbook) -> int:
    """A third of the supervisors decided something about their reps' deals."""
    files = 0
    for sup in [x for x in playbook.team if x.id.startswith("S")][::3]:
        reps = [x for x in playbook.team if x.supervisor == sup.id][:2]
        rows = []
        for rep in reps:
            deals = deals_for(random.Random(f"{p.seed}-{rep.id}"), p.deals)
            d = next(d for d in deals if d["status"] == "open")
            rows.append({"deal": opportunity_key(rep.id, d["customer"], d["category"]), "decision": "延期",
                         "days": 14, "reason": "客户内部审批推迟,同意延期", "date": AS_OF - dt.timedelta(days=1)})
        if rows:
            fill_workbook(ws.inbox / sup.id / template_filename("decisions", LANG, sup.id), ((DECISIONS_TABLE, rows),))
            files += 1
    return files


def generate(root: Path, p: Params, jobs: int = 0) -> dict[str, Any]:
    """Build the workspace in ``root`` (deleted first); returns what was built and how long it took."""
    started = time.perf_counter()
    if root.exists():
        shutil.rmtree(root)
    playbook = playbook_for(p)
    ws = init_workspace(root, LANG, playbook=playbook, as_of=AS_OF)
    ids = [r.id for r in playbook.reps]
    jobs = jobs or min(2, os.cpu_count() or 1)
    chunks = [ids[i::jobs] for i in range(jobs)]
    if jobs == 1:
        files = _fill_reps(str(root), p, ids)
    else:
        with ProcessPoolExecutor(jobs) as pool:
            files = sum(pool.map(_fill_reps, [str(root)] * jobs, [p] * jobs, chunks))
    files += _fill_decisions(ws, p, playbook)
    return {"reps": p.reps, "files": files, "deals": p.reps * p.deals, "log_rows": p.reps * p.weeks * p.log,
            "seconds": round(time.perf_counter() - started, 1)}


def generate_check_file(root: Path, rows: int = 20_000, seed: int = 8) -> Path:
    """A one-rep workspace whose MPC list holds ``rows`` deals (the ``check`` workload)."""
    if root.exists():
        shutil.rmtree(root)
    p = Params(reps=1, seed=seed)
    playbook = playbook_for(p)
    ws = init_workspace(root, LANG, playbook=playbook, as_of=AS_OF)
    rep = playbook.reps[0]
    deals = deals_for(random.Random(f"{seed}-check"), rows)
    path = ws.inbox / rep.id / template_filename("mpc", LANG, rep.id)
    fill_workbook(path, ((mpc_table(len(playbook.stages)), mpc_rows(deals, rep.name, None)),
                         (QUALIFICATION_TABLE, qualification_rows(deals)), (C931_TABLE, c931_rows(deals))))
    return path


def ensure_workspace(base: Path, p: Params, jobs: int = 0, log: Any = print) -> Path:
    """The cached workspace of ``p`` under ``base/<reps>/workspace``, generated when missing or stale."""
    folder = base / str(p.reps)
    stamp = folder / "generator.json"
    key = p.key()
    if stamp.is_file() and json.loads(stamp.read_text()).get("key") == key and (folder / "workspace").is_dir():
        return folder / "workspace"
    log(f"generating the {p.reps}-rep workspace in {folder} …")
    folder.mkdir(parents=True, exist_ok=True)
    stamp.unlink(missing_ok=True)
    info = generate(folder / "workspace", p, jobs)
    log(f"  {info['files']} workbooks, {info['deals']} deals, {info['log_rows']} log rows in {info['seconds']} s")
    stamp.write_text(json.dumps({"key": key, **info}), encoding="utf-8")
    return folder / "workspace"


def ensure_check_file(base: Path, rows: int = 20_000, log: Any = print) -> Path:
    folder = base / f"check-{rows}"
    stamp = folder / "generator.json"
    key = Params(reps=1, deals=rows).key()
    if stamp.is_file() and json.loads(stamp.read_text()).get("key") == key:
        return Path(json.loads(stamp.read_text())["file"])
    log(f"generating a {rows}-row MPC list in {folder} …")
    folder.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    path = generate_check_file(folder / "workspace", rows)
    log(f"  {path.name} in {time.perf_counter() - started:.1f} s")
    stamp.write_text(json.dumps({"key": key, "file": str(path)}), encoding="utf-8")
    return path


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("reps", type=int)
    ap.add_argument("--root", default="reports/bench")
    ap.add_argument("--jobs", type=int, default=0, help="worker processes (default: up to 2)")
    args = ap.parse_args()
    print(ensure_workspace(Path(args.root), Params(reps=args.reps), args.jobs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
