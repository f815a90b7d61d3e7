"""The demo: a realistic sales team living in Excel for a few weeks, ingested and reported.

``run_demo(root, as_of)`` builds a complete workspace under ``root``:

* a playbook with one director (D01), two supervisors (S01 over 华东/East, S02 over
  华北/North and 华南/South) and thirteen reps (R01-R13), monthly and quarterly targets
  per rep and yearly targets per team for the current and the next year, the default
  eight stages and products;
* ``weeks`` consecutive ISO weeks ending with the week of ``as_of`` (the demo's
  "today"). Each week every rep saves their living MPC list (retyping the whole
  list, as people do) and fills that week's report: key events, market news, 3-8
  daily log rows, contracts signed and expenses. Then the inbox is ingested as of
  that week's Friday (the last week: as of ``as_of``);
* deals evolve deterministically from a fixed seed: they advance, sometimes move
  back, change amount and signing date, new ones appear, some are won (with a
  contract row in the weekly report) and some are lost. Scripted moments make the
  MPC review worth reading: a rep deletes an open deal from the list (a deal "gone
  from the list"), a deal that sat in 项目立项 suddenly wins, and R01 carries the
  method's worked example (1,000,000 at 方案设计 20% and 500,000 at 方案确认 50%);
* a few deliberate data errors show what validation does: a signing date typed as
  text, a negative amount, an unknown stage name, a formula in an amount cell, a
  daily-log date outside its week, and an amount typed as words that is fixed the
  week after;
* finally ``run_report`` writes ``reports/summary.xlsx`` and ``reports/feedback/``.

Only ``as_of`` varies the output: the same ``as_of``, ``lang`` and ``weeks`` give the
same figures. A folder made by the demo carries a ``.sheetsales-demo`` marker and is
wiped and rebuilt on the next run; any other non-empty folder is refused.
"""

from __future__ import annotations

import datetime as dt
import random
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .fill import fill_form, fill_table
from .ingest import ingest
from .issues import ERROR
from .names import normalise_customer
from .playbook import DEFAULT_PRODUCTS, DEFAULT_STAGES, Person, Playbook, Target
from .report import run_report
from .specs import CONTRACTS_TABLE, EXPENSES_TABLE, LOG_TABLE, MPC_TABLE, WEEKLY_FORM
from .templates import iso_week, template_filename
from .workspace import CONFIG, LANGS, Workspace, WorkspaceError, init_workspace

SEED = 8_2026
DEMO_MARKER = ".sheetsales-demo"


class DemoError(WorkspaceError):
    """The demo cannot be built where it was asked to (the CLI prints it and exits 2)."""


@dataclass
class DemoResult:
    root: Path
    summary_path: Path
    feedback: list[Path]
    weeks: list[str]  # ISO weeks, oldest first
    ingest_dates: list[dt.date]
    files_ingested: int  # new files or new versions read, over all weeks
    issues: int  # data issues on the summary's Data issues sheet
    seconds: float = 0.0


# --------------------------------------------------------------------------------------------
# Messages
# --------------------------------------------------------------------------------------------
MESSAGES: dict[str, tuple[str, str]] = {
    "start": ("正在生成演示工作区 {root}:{weeks} 周,截至 {as_of}",
              "Building the demo workspace {root}: {weeks} weeks up to {as_of}"),
    "week": ("第 {i}/{n} 周 {week}:{reps} 名销售保存了文件,入库 {files} 个文件,{issues} 个数据问题",
             "week {i}/{n} {week}: {reps} reps saved, ingested {files} files, {issues} issues"),
    "done": ("完成,用时 {seconds:.1f} 秒。数据截至 {as_of}:", "Done in {seconds:.1f} s. As of {as_of}:"),
    "workspace": ("  工作区      {path}", "  workspace   {path}"),
    "summary": ("  汇总表      {path}", "  summary     {path}"),
    "feedback": ("  个人反馈    {path}({count} 人)", "  feedback    {path} ({count} people)"),
    "inbox": ("  共享收件箱  {path}(销售在这里填写模板)", "  inbox       {path} (where reps fill their templates)"),
    "playbook": ("  作战手册    {path}", "  playbook    {path}"),
    "refuse_files": ("{root} 不是空文件夹,也不是演示工作区;演示不会覆盖它。请指定一个新文件夹。",
                     "{root} is not empty and is not a demo workspace; the demo will not overwrite it. "
                     "Choose a new folder."),
    "refuse_workspace": ("{root} 是一个真实的 sheetsales 工作区(不是演示生成的);演示不会删除它。请指定一个新文件夹。",
                         "{root} is a sheetsales workspace that the demo did not make; the demo will not "
                         "delete it. Choose a new folder."),
    "refuse_file": ("{root} 是一个文件,不是文件夹。", "{root} is a file, not a folder."),
    "bad_weeks": ("周数必须在 1 到 52 之间(收到 {weeks})。", "weeks must be between 1 and 52 (got {weeks})."),
    "bad_playbook": ("演示的作战手册未通过校验:{issues}", "The demo playbook did not validate: {issues}"),
}


def _msg(key: str, lang: str, **params: Any) -> str:
    zh, en = MESSAGES[key]
    return (en if lang == "en" else zh).format(**params)


def _pick(pair: tuple[str, str], lang: str) -> str:
    return pair[1] if lang == "en" else pair[0]


# --------------------------------------------------------------------------------------------
# The team, the products and the targets
# --------------------------------------------------------------------------------------------
REGIONS: tuple[tuple[str, str], ...] = (("华东", "East"), ("华北", "North"), ("华南", "South"))
TEAMS: tuple[tuple[str, str], ...] = (("华东组", "East team"), ("华北组", "North team"), ("华南组", "South team"))
HEAD_OFFICE = (("全国", "National"), ("销售部", "Sales"))

# id, name (zh, en), level, region index or -1 for the head office, supervisor
MANAGERS: tuple[tuple[str, tuple[str, str], int, int, str], ...] = (
    ("D01", ("周建国", "Zhou Jianguo"), 8, -1, ""),
    ("S01", ("王海涛", "Wang Haitao"), 5, 0, "D01"),
    ("S02", ("陈立新", "Chen Lixin"), 5, 1, "D01"),  # also runs 华南组 (R10-R13 report to S02)
)
# id, name (zh, en), region index, supervisor, yearly target (CNY)
REPS: tuple[tuple[str, tuple[str, str], int, str, int], ...] = (
    ("R01", ("张伟", "Zhang Wei"), 0, "S01", 12_000_000),
    ("R02", ("李娜", "Li Na"), 0, "S01", 9_600_000),
    ("R03", ("刘洋", "Liu Yang"), 0, "S01", 8_400_000),
    ("R04", ("赵敏", "Zhao Min"), 0, "S01", 7_200_000),
    ("R05", ("孙浩", "Sun Hao"), 0, "S01", 6_000_000),
    ("R06", ("周婷", "Zhou Ting"), 1, "S02", 10_800_000),
    ("R07", ("吴磊", "Wu Lei"), 1, "S02", 8_400_000),
    ("R08", ("郑凯", "Zheng Kai"), 1, "S02", 7_200_000),
    ("R09", ("冯雪", "Feng Xue"), 1, "S02", 6_000_000),
    ("R10", ("何志强", "He Zhiqiang"), 2, "S02", 10_800_000),
    ("R11", ("黄丽", "Huang Li"), 2, "S02", 8_400_000),
    ("R12", ("林峰", "Lin Feng"), 2, "S02", 7_200_000),
    ("R13", ("郭静", "Guo Jing"), 2, "S02", 6_000_000),
)
# Monthly weights of a yearly target (sum 12): slow Q1 around the spring festival, strong June and Q4.
SEASON = (0.6, 0.6, 0.9, 1.0, 1.0, 1.3, 0.9, 0.9, 1.0, 1.1, 1.2, 1.5)

CATEGORY_EN = {"数控机床": "CNC machine tools", "激光切割机": "Laser cutters", "检测设备": "Inspection equipment",
               "自动化产线": "Automation lines", "售后服务": "After-sales service"}
MODEL_EN = {"SVC-年保": "SVC-Annual"}
# Amount range (CNY) of a deal by category.
AMOUNTS = {"数控机床": (300_000, 2_400_000), "激光切割机": (400_000, 3_000_000), "检测设备": (150_000, 900_000),
           "自动化产线": (1_000_000, 3_000_000), "售后服务": (80_000, 300_000)}


def _category(zh: str, lang: str) -> str:
    return CATEGORY_EN.get(zh, zh) if lang == "en" else zh


def _model(zh: str, lang: str) -> str:
    return MODEL_EN.get(zh, zh) if lang == "en" else zh


def demo_playbook(lang: str, as_of: dt.date, first_day: dt.date | None = None) -> Playbook:
    """The demo team, targets and products in ``lang`` (region, team and category names are data)."""
    team = [Person(pid, _pick(name, lang), _pick(HEAD_OFFICE[0] if r < 0 else REGIONS[r], lang),
                   _pick(HEAD_OFFICE[1] if r < 0 else TEAMS[r], lang), sup, level,
                   f"{name[1].replace(' ', '.').lower()}@example.com")
            for pid, name, level, r, sup in MANAGERS]
    team += [Person(pid, _pick(name, lang), _pick(REGIONS[r], lang), _pick(TEAMS[r], lang), sup, 2,
                    f"{name[1].replace(' ', '.').lower()}@example.com")
             for pid, name, r, sup, _ in REPS]
    year = as_of.year
    years = sorted({(first_day or as_of).year, year})
    targets: list[Target] = []
    for pid, _name, _r, _sup, yearly in REPS:
        for y in years:
            targets += [Target(pid, f"{y}-{m:02d}", round(yearly / 12 * SEASON[m - 1], -4)) for m in range(1, 13)]
        grow = yearly * 1.15  # next year's plan: +15%
        targets += [Target(pid, f"{year + 1}-Q{q}", round(grow / 12 * sum(SEASON[3 * q - 3:3 * q]), -4))
                    for q in range(1, 5)]
    for r, names in enumerate(TEAMS):
        total = sum(rep[4] for rep in REPS if rep[2] == r)
        targets.append(Target(_pick(names, lang), str(year), round(total * 1.05, -5)))  # a stretch over the reps
        targets.append(Target(_pick(names, lang), str(year + 1), round(total * 1.2, -5)))
    products = tuple((_category(c, lang), _model(m, lang)) for c, m in DEFAULT_PRODUCTS)
    return Playbook(stages=DEFAULT_STAGES, team=tuple(team), targets=tuple(targets), products=products)


# --------------------------------------------------------------------------------------------
# Names and phrases
# --------------------------------------------------------------------------------------------
PLACES: tuple[tuple[tuple[str, str], ...], ...] = (
    (("江苏", "Jiangsu"), ("苏州", "Suzhou"), ("无锡", "Wuxi"), ("常州", "Changzhou"), ("浙江", "Zhejiang"),
     ("宁波", "Ningbo"), ("上海", "Shanghai"), ("合肥", "Hefei"), ("嘉兴", "Jiaxing")),
    (("北京", "Beijing"), ("天津", "Tianjin"), ("河北", "Hebei"), ("唐山", "Tangshan"), ("保定", "Baoding"),
     ("山西", "Shanxi"), ("济南", "Jinan"), ("沧州", "Cangzhou")),
    (("广东", "Guangdong"), ("深圳", "Shenzhen"), ("东莞", "Dongguan"), ("佛山", "Foshan"), ("广州", "Guangzhou"),
     ("厦门", "Xiamen"), ("珠海", "Zhuhai"), ("中山", "Zhongshan")),
)
BRANDS = (("恒远", "Hengyuan"), ("瑞丰", "Ruifeng"), ("金鼎", "Jinding"), ("宏达", "Hongda"), ("天成", "Tiancheng"),
          ("鑫源", "Xinyuan"), ("永固", "Yonggu"), ("博创", "Bochuang"), ("嘉泰", "Jiatai"), ("精诚", "Jingcheng"),
          ("远航", "Yuanhang"), ("德力", "Deli"), ("汇通", "Huitong"), ("凯利", "Kaili"), ("新锐", "Xinrui"),
          ("海川", "Haichuan"), ("明泰", "Mingtai"), ("荣盛", "Rongsheng"), ("华睿", "Huarui"), ("立信", "Lixin"))
INDUSTRIES = (("精密机械", "Precision Machinery"), ("汽车零部件", "Auto Parts"), ("电子科技", "Electronics"),
              ("模具", "Mould"), ("液压设备", "Hydraulics"), ("钣金制造", "Sheet Metal"),
              ("医疗器械", "Medical Devices"), ("轨道交通装备", "Rail Equipment"), ("航空部件", "Aero Components"),
              ("新能源科技", "New Energy Technology"), ("工程机械", "Construction Machinery"), ("阀门", "Valve"))
SUFFIXES = (("有限公司", "Co., Ltd."), ("股份有限公司", "Co., Ltd."), ("集团有限公司", "Group Co., Ltd."))
SURNAMES = (("陈", "Chen"), ("刘", "Liu"), ("杨", "Yang"), ("黄", "Huang"), ("徐", "Xu"), ("马", "Ma"),
            ("朱", "Zhu"), ("胡", "Hu"), ("高", "Gao"), ("罗", "Luo"))
TITLES = (("工", "Eng."), ("总", "GM"), ("经理", "Mgr."), ("科长", "Chief"), ("主任", "Director"))
DISTRIBUTORS = (("华东机电贸易", "East China M&E Trading"), ("北方工业装备", "Northern Industrial Supply"),
                ("南方设备服务", "Southern Equipment Services"))

DETAIL = {
    1: (("客户提出产能扩充需求,内部立项中", "Customer wants more capacity; internal project being approved"),
        ("了解到新厂房规划,正在分析项目", "New plant planned; analysing the project")),
    2: (("已上门拜访设备科,找到内线", "Visited the equipment dept.; found an insider"),
        ("与技术科长建立联系,预算待定", "Contact with the technical chief; budget not fixed yet")),
    3: (("方案初稿已提交,等待技术反馈", "First draft of the solution sent; awaiting technical feedback"),
        ("采购小组已组建,正在收集需求", "Buying team formed; collecting requirements")),
    4: (("已安排参观样板客户,技术倾向我方", "Reference visit done; engineers lean to us"),
        ("客户在制定采购标准,我方参与", "Customer drafting buying criteria with our input")),
    5: (("技术方案已确认,等待招标", "Solution confirmed; tender expected"),
        ("已进入短名单,准备投标", "On the shortlist; preparing the bid")),
    6: (("高层倾向我方,评估中", "Senior management leans to us; evaluation going on"),
        ("首选供应商评估,竞品报价更低", "Preferred-supplier evaluation; competitor is cheaper")),
    7: (("合同条款谈判中,付款方式待定", "Negotiating terms; payment terms open"),
        ("价格基本谈妥,等待审批", "Price nearly agreed; waiting for approval")),
}
RESOURCES = {
    1: ("需要行业案例资料", "Industry references"), 2: ("需要技术部陪同拜访", "Engineer to join a visit"),
    3: ("需要技术部支持方案设计", "Engineering support for the solution"),
    4: ("需要安排样板客户参观", "A reference-site visit"), 5: ("需要总监拜访高层", "Director to meet their top"),
    6: ("需要特价审批", "Special price approval"), 7: ("需要法务审核合同", "Legal review of the contract"),
}
LOST_REASONS = (("价格因素,客户选择了竞争对手", "Lost on price to a competitor"),
                ("项目预算取消", "Project budget cancelled"),
                ("客户选用进口品牌", "Customer chose an imported brand"))
ACTIVITIES = {
    1: (("电话了解需求,确认立项意向", "Call to understand the need and the project"),),
    2: (("上门拜访设备科,结识技术科长", "Visit to the equipment dept., met the technical chief"),
        ("拜访采购部,了解预算", "Visit to purchasing about the budget")),
    3: (("提交技术方案初稿", "Sent the first draft of the solution"),
        ("与技术部讨论工艺方案", "Process discussion with their engineers")),
    4: (("陪同客户参观样板工厂", "Hosted a reference-site visit"),
        ("样机试切演示", "Test cut on a demo machine")),
    5: (("参加技术交流会,答疑", "Technical Q&A with the buying team"),
        ("准备投标文件", "Prepared the tender documents")),
    6: (("拜访分管副总,汇报方案优势", "Met the deputy GM to present our strengths"),),
    7: (("商务谈判:付款方式与交期", "Negotiated payment terms and delivery"),
        ("合同条款逐条确认", "Went through the contract clauses")),
    8: (("签约仪式,合同盖章", "Contract signing"),),
}
RESULTS = (("客户认可,约下周再谈", "Positive; follow-up next week"), ("需补充报价明细", "Needs a detailed quote"),
           ("确认了关键需求", "Key needs confirmed"), ("对方要求降价5%", "They ask for 5% off"),
           ("拿到采购时间表", "Got their buying timetable"), ("进展顺利", "Going well"))
OFFICE = ((("内部周会,MPC周评", "Weekly team meeting, MPC review"), ("明确本周重点商机", "Agreed this week's focus")),
          (("整理客户资料,更新MPC一览表", "Updated customer records and the MPC list"), ("已完成", "Done")))
MARKET_NEWS = (
    ("竞争对手A推出低价机型,报价下调约8%。", "Competitor A launched a budget model, about 8% cheaper."),
    ("汽车零部件行业扩产,询价明显增多。", "Auto-parts makers are expanding; more enquiries."),
    ("钢材价格上涨,部分客户推迟采购。", "Steel prices up; some customers postpone purchases."),
    ("地方政府出台设备更新补贴政策。", "The provincial government announced subsidies for equipment renewal."),
    ("新能源客户对交期要求更紧。", "New-energy customers want shorter delivery times."),
    ("进口品牌交期延长到6个月。", "Imported brands now quote 6-month delivery."),
    ("行业展会将于下月举行,客户邀约中。", "Trade fair next month; inviting customers."),
    ("客户普遍要求延长付款周期。", "Customers ask for longer payment terms."),
)
TRAVEL = (("高铁往返{place}", "Train to {place} and back"), ("自驾拜访{place}客户", "Drove to customers in {place}"),
          ("{place}出差住宿", "Hotel in {place}"))


# --------------------------------------------------------------------------------------------
# The deals
# --------------------------------------------------------------------------------------------
@dataclass
class Deal:
    customer: tuple[str, str]
    category: str  # the zh-CN category, translated when written
    model: str
    amount: int
    sign_date: dt.date
    stage: int
    contact: tuple[str, str]
    phone: str
    optimism: float = 0.0  # the rep's win-rate estimate minus the stage probability
    status: str = "open"  # open | won | lost
    distributor: tuple[str, str] | None = None
    frozen: bool = False  # kept out of the random walk (worked example, scripted cases)
    detail_pick: int = 0
    lost_reason: int = 0
    closed_on: dt.date | None = None
    typo: tuple[str, Any] | None = None  # (column, value typed instead), kept until fixed


@dataclass
class Rep:
    id: str
    name: tuple[str, str]
    region: int
    deals: list[Deal] = field(default_factory=list)
    events: list[tuple[str, Deal]] = field(default_factory=list)  # this week's: new|advanced|won|lost|...


@dataclass(frozen=True)
class Week:
    index: int
    monday: dt.date
    ingest_on: dt.date
    iso: str

    @property
    def workdays(self) -> list[dt.date]:
        return [d for d in (self.monday + dt.timedelta(days=i) for i in range(5)) if d <= self.ingest_on] or [
            self.monday]


def demo_weeks(as_of: dt.date, weeks: int) -> list[Week]:
    """The ``weeks`` ISO weeks ending with ``as_of``'s; each ingested on its Friday, the last on ``as_of``."""
    last_monday = as_of - dt.timedelta(days=as_of.weekday())
    out = []
    for i in range(weeks):
        monday = last_monday - dt.timedelta(weeks=weeks - 1 - i)
        ingest_on = as_of if i == weeks - 1 else monday + dt.timedelta(days=4)
        out.append(Week(i, monday, ingest_on, iso_week(monday)))
    return out


# Days from today within which a deal at each stage is expected to sign.
SIGN_WITHIN = {1: (90, 210), 2: (70, 180), 3: (45, 150), 4: (35, 120), 5: (25, 100), 6: (14, 75), 7: (5, 40)}

# R01's two deals of the method's worked example (seed 002): customer, category, model, amount, stage.
WORKED_EXAMPLE: tuple[tuple[tuple[str, str], str, str, int, int], ...] = (
    (("江苏恒远精密机械有限公司", "Jiangsu Hengyuan Precision Machinery Co., Ltd."), "数控机床", "VMC-850", 1_000_000, 3),
    (("苏州瑞丰汽车零部件有限公司", "Suzhou Ruifeng Auto Parts Co., Ltd."), "检测设备", "CMM-700", 500_000, 5),
)


class Simulation:
    """Thirteen reps' pipelines, week by week, from one seeded random generator."""

    def __init__(self, weeks: list[Week], as_of: dt.date, seed: int = SEED) -> None:
        self.rng = random.Random(seed)
        self.weeks = weeks
        self.as_of = as_of
        self.used: set[str] = set()
        self.reps = [Rep(pid, name, r) for pid, name, r, _sup, _t in REPS]
        self.used.update(normalise_customer(n) for name, *_ in WORKED_EXAMPLE for n in name)
        self._opening(weeks[0])

    # --- building blocks ---------------------------------------------------------------------
    def _customer(self, region: int) -> tuple[str, str]:
        rng = self.rng
        while True:
            place, brand = rng.choice(PLACES[region]), rng.choice(BRANDS)
            industry, suffix = rng.choice(INDUSTRIES), rng.choices(SUFFIXES, (6, 3, 1))[0]
            zh = f"{place[0]}{brand[0]}{industry[0]}{suffix[0]}"
            en = f"{place[1]} {brand[1]} {industry[1]} {suffix[1]}"
            keys = {normalise_customer(zh), normalise_customer(en)}
            if not keys & self.used:  # names that differ only in the company form are the same customer
                self.used |= keys
                return zh, en

    def _sign_date(self, stage: int, today: dt.date) -> dt.date:
        return today + dt.timedelta(days=self.rng.randint(*SIGN_WITHIN[stage]))

    def _amount(self, category: str) -> int:
        low, high = AMOUNTS[category]
        return int(round(self.rng.uniform(low, high), -4))

    def new_deal(self, rep: Rep, stage: int, today: dt.date, **fixed: Any) -> Deal:
        rng = self.rng
        category, model = rng.choice(DEFAULT_PRODUCTS)
        surname, title = rng.choice(SURNAMES), rng.choice(TITLES)
        deal = Deal(
            customer=self._customer(rep.region), category=category, model=model, amount=self._amount(category),
            sign_date=self._sign_date(stage, today), stage=stage,
            contact=(f"{surname[0]}{title[0]}", f"{title[1]} {surname[1]}"),
            phone=f"1{rng.choice('3589')}{rng.randint(0, 9)}{rng.randint(10_000_000, 99_999_999)}",
            optimism=rng.choice((0.0, 0.0, 0.0, 0.05, 0.1, -0.05)),
            distributor=rng.choice(DISTRIBUTORS) if rng.random() < 0.15 else None,
            detail_pick=rng.randint(0, 1),
        )
        for key, value in fixed.items():
            setattr(deal, key, value)
        return deal

    def _opening(self, week: Week) -> None:
        today = week.monday
        for rep in self.reps:
            for _ in range(self.rng.randint(4, 8)):
                stage = self.rng.choices(range(1, 7), (3, 3, 3, 2, 2, 1))[0]
                rep.deals.append(self.new_deal(rep, stage, today))
                rep.events.append(("new", rep.deals[-1]))
        r01, r06 = self.reps[0], self.reps[5]
        # The method's worked example (seed 002): 1,000,000 at 20% is worth 200,000, 500,000 at 50% 250,000.
        example_day = self.as_of + dt.timedelta(days=75)
        for name, category, model, amount, stage in WORKED_EXAMPLE:
            r01.deals.insert(0, self.new_deal(r01, stage, today, customer=name, category=category, model=model,
                                              amount=amount, sign_date=example_day, frozen=True, optimism=0.0,
                                              distributor=None))
        # A deal that sits in 项目立项 for weeks and then suddenly wins: the anomaly leaders must see.
        r06.deals.append(self.new_deal(r06, 1, today, frozen=True, category="自动化产线", model="AL-200",
                                       amount=1_800_000))

    # --- a week of selling ---------------------------------------------------------------------
    def advance(self, week: Week) -> None:
        """Move every rep's deals on by one week."""
        rng = self.rng
        last = week.index == len(self.weeks) - 1
        for rep in self.reps:
            rep.events = []
            for deal in rep.deals:
                if deal.status != "open" or deal.frozen:
                    continue
                roll = rng.random()
                win_p = {6: 0.2, 7: 0.4}.get(deal.stage, 0.0)
                lose_p = 0.03 if deal.stage <= 3 else 0.02
                roll -= win_p + lose_p
                if roll < -lose_p:
                    self.win(rep, deal, week)
                elif roll < 0:
                    self.lose(rep, deal, week)
                elif roll < 0.3:
                    if deal.stage < 7:
                        deal.stage += 1
                        deal.detail_pick = rng.randint(0, 1)
                        rep.events.append(("advanced", deal))
                        if deal.sign_date > week.monday + dt.timedelta(days=SIGN_WITHIN[deal.stage][1]):
                            deal.sign_date = self._sign_date(deal.stage, week.monday)  # moving on brings it closer
                elif roll < 0.35 and deal.stage > 1:
                    deal.stage -= 1  # a milestone turned out to be missing
                    rep.events.append(("moved_back", deal))
                if deal.status != "open":
                    continue
                if rng.random() < 0.12:
                    deal.amount = max(80_000, min(3_000_000, int(round(deal.amount * rng.uniform(0.85, 1.15), -4))))
                if deal.sign_date < week.monday and rng.random() < 0.6:
                    deal.sign_date = week.monday + dt.timedelta(weeks=rng.randint(2, 6))  # the date slips
                elif rng.random() < 0.1:
                    deal.sign_date += dt.timedelta(weeks=rng.randint(-1, 4))
            if rng.random() < 0.35:
                deal = self.new_deal(rep, rng.choice((1, 1, 2)), week.monday)
                rep.deals.append(deal)
                rep.events.append(("new", deal))
        self._script(week, last)

    def _rep(self, rep_id: str) -> Rep:
        return next(r for r in self.reps if r.id == rep_id)

    def _open(self, rep: Rep) -> list[Deal]:
        return [d for d in rep.deals if d.status == "open" and not d.frozen and d.typo is None]

    def _script(self, week: Week, last: bool) -> None:
        """The moments the demo must show whatever the dice say."""
        n = len(self.weeks)
        if week.index == max(1, n // 2) and not last:
            self._delete(self._rep("R04"))
        if not last:
            return
        self._delete(self._rep("R09"))  # deleted instead of marked lost: "gone from the list"
        r06 = self._rep("R06")
        stuck = next((d for d in r06.deals if d.frozen and d.status == "open"), None)
        if stuck is not None:
            self.win(r06, stuck, week)
        r11 = self._rep("R11")
        candidates = sorted(self._open(r11), key=lambda d: (-d.stage, d.amount))
        if candidates:
            self.lose(r11, candidates[0], week)
        r08 = self._rep("R08")
        movable = sorted((d for d in self._open(r08) if d.stage < 7), key=lambda d: (-d.stage, -d.amount))
        if movable:
            movable[0].stage += 1
            r08.events.append(("advanced", movable[0]))
        r03 = self._rep("R03")
        ripe = sorted(self._open(r03), key=lambda d: (-d.stage, -d.amount))
        if ripe and not any(e == "won" for e, _ in r03.events):
            self.win(r03, ripe[0], week)
        r02 = self._rep("R02")
        deal = self.new_deal(r02, 2, week.monday)
        r02.deals.append(deal)
        r02.events.append(("new", deal))

    def _delete(self, rep: Rep) -> None:
        candidates = sorted(self._open(rep), key=lambda d: (d.stage, d.amount))
        if candidates:
            rep.deals.remove(candidates[0])
            rep.events.append(("deleted", candidates[0]))

    def win(self, rep: Rep, deal: Deal, week: Week) -> None:
        deal.status, deal.stage = "won", 8
        deal.amount = int(round(deal.amount * self.rng.uniform(0.92, 1.0), -3))
        deal.closed_on = self.rng.choice(week.workdays)
        deal.sign_date = deal.closed_on
        rep.events.append(("won", deal))

    def lose(self, rep: Rep, deal: Deal, week: Week) -> None:
        deal.status = "lost"
        deal.lost_reason = self.rng.randrange(len(LOST_REASONS))
        deal.closed_on = self.rng.choice(week.workdays)
        rep.events.append(("lost", deal))


# --------------------------------------------------------------------------------------------
# What a rep types
# --------------------------------------------------------------------------------------------
def _error_plan(weeks: int) -> dict[tuple[int, str], str]:
    """(week index, rep) -> the slip that rep makes that week."""
    last = weeks - 1
    plan = {
        (max(0, last - 1), "R05"): "text-date",  # and not fixed by the end
        (last, "R07"): "negative-amount",
        (last, "R10"): "unknown-stage",
        (last, "R12"): "formula-in-cell",
        (max(0, last - 2), "R02"): "date-outside-week",
    }
    if weeks >= 4:
        plan[(2, "R03")] = "wrong-type"  # fixed the week after
    return plan


def _slip(kind: str, deal: Deal, lang: str) -> tuple[str, Any]:
    if kind == "text-date":
        d = deal.sign_date
        return "sign_date", (f"end of {d:%b} {d.year}" if lang == "en" else f"{d.year}年{d.month}月底")
    if kind == "negative-amount":
        return "amount", -deal.amount
    if kind == "unknown-stage":
        return "stage", "Negotiating" if lang == "en" else "谈判中"
    if kind == "formula-in-cell":
        return "amount", f"={deal.amount // 10_000}*10000"
    return "amount", (f"about {deal.amount // 1000}k" if lang == "en" else f"约{deal.amount // 10_000}万")


def mpc_rows(rep: Rep, playbook: Playbook, lang: str) -> list[dict[str, Any]]:
    """The whole MPC list as the rep types it this week."""
    status = dict(zip(("open", "won", "lost"), playbook.choice_list("status", lang), strict=True))
    rows = []
    for no, d in enumerate(rep.deals, 1):
        stage = playbook.stage(d.stage)
        if d.status == "won":
            detail = (f"已签约 {d.closed_on}", f"Signed {d.closed_on}")
        elif d.status == "lost":
            detail = LOST_REASONS[d.lost_reason]
        else:
            detail = DETAIL[d.stage][d.detail_pick]
        win_rate = {"won": 1.0, "lost": 0.0}.get(d.status, min(0.95, max(0.0, stage.probability + d.optimism)))
        row = {
            "no": no, "category": _category(d.category, lang), "model": _model(d.model, lang),
            "customer": _pick(d.customer, lang), "amount": d.amount, "sign_date": d.sign_date,
            "delivery_date": d.sign_date + dt.timedelta(weeks=8 if d.category != "自动化产线" else 16),
            "stage": stage.name(lang), "win_rate": round(win_rate, 2), "status": status[d.status],
            "detail": _pick(detail, lang), "owner_name": _pick(rep.name, lang),
            "resources": _pick(RESOURCES[d.stage], lang) if d.status == "open" and d.stage in RESOURCES else "",
            "distributor": _pick(d.distributor, lang) if d.distributor else "",
        }
        if d.typo:
            row[d.typo[0]] = d.typo[1]
        rows.append(row)
    return rows


def _inject(rep: Rep, week: Week, plan: dict[tuple[int, str], str], lang: str) -> str | None:
    """Make this week's planned slip in the rep's list; returns its kind. One-week slips are undone later."""
    for d in rep.deals:
        if d.typo and not d.frozen:
            d.typo = None  # last week's slip, fixed
    kind = plan.get((week.index, rep.id))
    if kind is None or kind == "date-outside-week":
        return kind
    candidates = [d for d in rep.deals if d.status == "open" and not d.frozen]
    if not candidates:
        return None
    deal = max(candidates, key=lambda d: (d.stage, d.amount)) if kind == "unknown-stage" else candidates[0]
    deal.typo = _slip(kind, deal, lang)
    if kind == "text-date":
        deal.frozen = True  # the rep never gets round to fixing it: the issue stays on the sheet
    return kind


def weekly_content(rep: Rep, week: Week, rng: random.Random, lang: str, slip: str | None,
                   playbook: Playbook) -> tuple[dict[str, str], list[dict], list[dict], list[dict]]:
    """(form values, log rows, contract rows, expense rows) of one rep's weekly report."""
    events = []
    for kind, d in rep.events[:5]:
        name = _pick(d.customer, lang)
        if kind == "won":
            events.append(f"Signed {name} ({_category(d.category, lang)}), CNY {d.amount:,}" if lang == "en"
                          else f"签下{name}{d.category}合同,{d.amount / 10_000:g}万元")
        elif kind == "advanced":
            stage = playbook.stage(d.stage).name(lang)
            events.append(f"{name} moved to {stage}" if lang == "en" else f"{name}推进到{stage}")
        elif kind == "lost":
            events.append(f"Lost {name}" if lang == "en" else f"{name}丢单")
        elif kind == "new":
            events.append(f"New opportunity: {name}" if lang == "en" else f"新增商机:{name}")
    if not events:
        events.append("Routine visits and follow-ups" if lang == "en" else "日常客户拜访与方案跟进")
    news = rng.sample(MARKET_NEWS, rng.randint(1, 2))
    form = {"key_events": ("; " if lang == "en" else ";").join(events),
            "market_news": (" " if lang == "en" else "").join(_pick(n, lang) for n in news)}

    days = week.workdays
    active = [d for d in rep.deals if d.status == "open" or d.closed_on in days]
    log = []
    for _ in range(rng.randint(3, 8)):
        day = rng.choice(days)
        start = rng.randint(17, 30) / 2  # 08:30 .. 15:00
        hours = rng.choice((1.0, 1.5, 2.0, 2.5, 3.0, 4.0))
        when = f"{int(start):02d}:{int(start % 1 * 60):02d}-{int(start + hours):02d}:{int((start + hours) % 1 * 60):02d}"
        if active and rng.random() < 0.85:
            d = rng.choice(active)
            what = rng.choice(ACTIVITIES[d.stage])
            log.append({"date": day, "time": when, "content": _pick(what, lang), "unit": _pick(d.customer, lang),
                        "person": _pick(d.contact, lang), "contact": d.phone, "result": _pick(rng.choice(RESULTS), lang),
                        "hours": hours, "cost": rng.choice((0, 0, 60, 120, 260, 480))})
        else:
            what, result = rng.choice(OFFICE)
            log.append({"date": day, "time": when, "content": _pick(what, lang), "result": _pick(result, lang),
                        "hours": hours, "cost": 0})
    log.sort(key=lambda r: (r["date"], r["time"]))
    if slip == "date-outside-week":  # last week's row copied over without changing its date
        log[0]["date"] = week.monday - dt.timedelta(days=3)

    contracts = []
    for kind, d in rep.events:
        if kind == "won":
            qty = 1 if d.category in ("售后服务", "自动化产线") else rng.randint(1, 3)
            contracts.append({"customer": _pick(d.customer, lang), "category": _category(d.category, lang),
                              "model": _model(d.model, lang), "quantity": qty, "amount": d.amount,
                              "remarks": "30% advance, 60% on delivery" if lang == "en" else "预付30%,到货60%"})

    expenses = []
    for day in sorted(rng.sample(days, min(len(days), rng.randint(1, 3)))):
        place = _pick(rng.choice(PLACES[rep.region]), lang)
        expenses.append({"date": day, "travel": rng.randrange(200, 2600, 10),
                         "entertainment": rng.choice((0, 0, 380, 650, 1200)), "other": rng.choice((0, 0, 45, 120)),
                         "remarks": _pick(rng.choice(TRAVEL), lang).format(place=place)})
    return form, log, contracts, expenses


# --------------------------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------------------------
def _prepare(root: Path, lang: str) -> None:
    """Wipe a previous demo in ``root``; refuse anything else that is not empty."""
    if root.is_file():
        raise DemoError(_msg("refuse_file", lang, root=root))
    if not root.exists() or not any(root.iterdir()):
        return
    if (root / CONFIG).is_file() and (root / DEMO_MARKER).is_file():
        shutil.rmtree(root)
        return
    if (root / CONFIG).is_file():
        raise DemoError(_msg("refuse_workspace", lang, root=root))
    raise DemoError(_msg("refuse_files", lang, root=root))


def run_demo(root: Path, as_of: dt.date, lang: str = "zh-CN", weeks: int = 8,
             out: Callable[[str], Any] = print) -> DemoResult:
    """Build the demo workspace in ``root``: ``weeks`` weeks of saves up to ``as_of``, ingested and reported."""
    started = time.perf_counter()
    root = Path(root)
    if lang not in LANGS:
        raise DemoError(f"unknown language {lang!r}; use one of {', '.join(LANGS)}")
    if not 1 <= weeks <= 52:
        raise DemoError(_msg("bad_weeks", lang, weeks=weeks))
    _prepare(root, lang)
    root.mkdir(parents=True, exist_ok=True)
    (root / DEMO_MARKER).write_text("Made by `sheetsales demo`; the next demo run deletes and rebuilds this folder.\n",
                                    encoding="utf-8")
    plan = demo_weeks(as_of, weeks)
    out(_msg("start", lang, root=root, weeks=weeks, as_of=as_of))
    playbook = demo_playbook(lang, as_of, plan[0].monday)
    ws = init_workspace(root, lang, playbook=playbook, as_of=plan[0].monday)

    sim = Simulation(plan, as_of)
    errors = _error_plan(weeks)
    text_rng = random.Random(SEED + 1)  # the reports' wording, apart from the deals' fate
    files = 0
    for week in plan:
        if week.index:
            sim.advance(week)
        for rep in sim.reps:
            slip = _inject(rep, week, errors, lang)
            _save_week(ws, playbook, rep, week, lang, slip, text_rng)
        result = ingest(ws, as_of=week.ingest_on)
        if result.playbook_issues and any(i.severity == ERROR for i in result.playbook_issues):
            raise DemoError(_msg("bad_playbook", lang, issues="; ".join(i.render(lang) for i in result.playbook_issues)))
        files += result.new
        out(_msg("week", lang, i=week.index + 1, n=weeks, week=week.iso, reps=len(sim.reps), files=result.new,
                 issues=result.errors + result.warnings))

    report = run_report(ws, as_of)
    seconds = time.perf_counter() - started
    out(_msg("done", lang, seconds=seconds, as_of=as_of))
    out(_msg("workspace", lang, path=root.resolve()))
    out(_msg("summary", lang, path=report.summary_path.resolve()))
    out(_msg("feedback", lang, path=(ws.reports / "feedback").resolve(), count=len(report.feedback)))
    out(_msg("inbox", lang, path=ws.inbox.resolve()))
    out(_msg("playbook", lang, path=ws.playbook_path.resolve()))
    return DemoResult(root=root, summary_path=report.summary_path, feedback=report.feedback,
                      weeks=[w.iso for w in plan], ingest_dates=[w.ingest_on for w in plan], files_ingested=files,
                      issues=len(report.summary.issues), seconds=seconds)


def _save_week(ws: Workspace, playbook: Playbook, rep: Rep, week: Week, lang: str, slip: str | None,
               rng: random.Random) -> None:
    """One rep's saves of the week: the MPC list retyped, the weekly report filled."""
    folder = ws.inbox / rep.id
    mpc = folder / template_filename("mpc", lang, rep.id)
    if not mpc.exists():
        ws.write_template(mpc, "mpc", playbook, rep.id)
    fill_table(mpc, MPC_TABLE, mpc_rows(rep, playbook, lang), clear=True)

    weekly = folder / template_filename("weekly", lang, rep.id, week.iso)
    if not weekly.exists():  # handed out at the previous ingest only for the week of that ingest
        ws.write_template(weekly, "weekly", playbook, rep.id, week.iso)
    form, log, contracts, expenses = weekly_content(rep, week, rng, lang, slip, playbook)
    fill_form(weekly, WEEKLY_FORM, form)
    fill_table(weekly, LOG_TABLE, log)
    if contracts:
        fill_table(weekly, CONTRACTS_TABLE, contracts)
    fill_table(weekly, EXPENSES_TABLE, expenses)
