"""The demo's help requests, answers and customer cards (issue 10), as data.

Each case names a rep's deal by its rank among the rep's open deals when the case is first typed
(0 = the furthest stage; ties by customer name; deals another case of the rep already names are
skipped); the customer is remembered from then on, as a rep would keep typing the same name. Weeks count back from the demo's last week, and the cards'
dates are set relative to the demo's ``as_of`` so the last report shows every reminder code:
``help-unanswered``, ``reminder-appointment``, ``reminder-birthday``, ``reminder-anniversary``,
``reminder-revisit`` and ``no-decider``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from ..method.playbook import Playbook
from ..reading.specs import (
    BUYING_ROLES,
    CARD_APPOINTMENTS_TABLE,
    CARD_CUSTOMERS_TABLE,
    CARD_EQUIPMENT_TABLE,
    CARD_PEOPLE_TABLE,
    CARD_PLANS_TABLE,
    HELP_ANSWERS_TABLE,
    HELP_REQUESTS_TABLE,
    choice_label,
)
from ..reading.templates import template_filename
from .workspace import Workspace

Text = tuple[str, str]

# rep, request no., raised (weeks before the last), deal rank, what is wrong, what was tried, keyword
HELP_CASES: tuple[tuple[str, int, int, int, Text, Text, Text], ...] = (
    ("R01", 1, 3, 1, ("客户嫌我们比对手贵 12%,采购要求再降价", "The customer says we are 12% dearer and wants more off"),
     ("申请了 5% 折扣,客户仍不松口", "Got 5% off approved; no movement"), ("价格", "price")),
    ("R06", 1, 2, 0, ("找不到真正拍板的人,设备科长说了不算", "Cannot find who decides; the equipment chief does not"),
     ("", ""), ("关系", "relationship")),
    ("R03", 1, 1, 0, ("技术评标偏向对手的参数", "The technical scoring favours the competitor's specification"),
     ("安排了样机演示", "Arranged a demo machine"), ("竞争", "competitor")),
)
# author, (requester, no.), answered (weeks before the last), the analysis
HELP_ANSWERS: tuple[tuple[str, tuple[str, int], int, Text], ...] = (
    ("R02", ("R01", 1), 2, ("别再降价:算五年使用成本(能耗、维护、停机),我们比对手低 20%",
                            "Stop discounting: show five-year running cost (energy, upkeep, downtime), 20% below theirs")),
    ("S01", ("R01", 1), 2, ("请对方总工参加技术交流,把价格谈话变成方案谈话",
                            "Bring their chief engineer to a technical session; turn the price talk into a solution talk")),
    ("R07", ("R03", 1), 0, ("把我们的精度指标写进评分细则,请用户科室提需求",
                            "Get our accuracy figures into the scoring rules through the user department")),
)
# requester, no., marked (weeks before the last), the answerer whose method worked
HELP_EFFECTIVE: tuple[tuple[str, int, int, str], ...] = (("R01", 1, 1, "R02"),)

# rep, deal rank, founded (days from as_of, years back), referred by (deal rank), signed (days from
# as_of), revisit every (days), key people (name, title, role, birthday (days from as_of, years back)),
# appointment (days from as_of, with, purpose)
CARD_CASES: tuple[tuple[Any, ...], ...] = (
    ("R01", 0, (2, 20), None, None, None,
     ((("周工", "Eng. Zhou"), ("技术科长", "Technical chief"), "influencer", None),), None),
    ("R01", 1, None, 0, None, None,
     ((("郑院长", "Dean Zheng"), ("主管院长", "Deputy dean"), "decider", (1, 47)),
      (("钱主任", "Director Qian"), ("设备科长", "Equipment chief"), "administrator", None)),
     (2, ("郑院长", "Dean Zheng"), ("方案汇报", "Proposal presentation"))),
    ("R01", 2, None, 1, -89, 45,
     ((("孙总", "GM Sun"), ("总经理", "General manager"), "decider", None),), None),
)
EQUIPMENT: tuple[Text, Text, int, Text, Text] = (("德马吉", "DMG"), ("DMU-50", "DMU-50"), 850_000,
                                                  ("每天两班", "Two shifts a day"), ("一般", "Fair"))
PLAN: tuple[Text, int, int] = (("五轴加工中心", "5-axis machining centre"), 2, 3_000_000)
CARDS_FROM = 0  # the cards are typed in the last week (rank 0: the furthest open deal at the end)


def _pick(pair: Text, lang: str) -> str:
    return pair[1] if lang == "en" else pair[0]


def _customer(memo: dict, sim: Any, rep: str, rank: int, lang: str) -> str:
    """The customer of ``rep``'s open deal of ``rank``, remembered from the first time it is asked."""
    if (rep, rank) not in memo:
        taken = {name for (r, _), name in memo.items() if r == rep}  # one customer per case
        deals = next(r for r in sim.reps if r.id == rep).deals
        ranked = [d for d in sorted((d for d in deals if d.status == "open"), key=lambda d: (-d.stage, d.customer[0]))
                  if _pick(d.customer, lang) not in taken]
        memo[(rep, rank)] = _pick(ranked[min(rank, len(ranked) - 1)].customer, lang)
    return memo[(rep, rank)]


def save_help_and_cards(ws: Workspace, playbook: Playbook, sim: Any, week: Any, weeks: int, as_of: dt.date,
                        lang: str, memo: dict, fill: Callable[..., Any]) -> None:
    """This week's saves of the help workbooks and customer cards (rows accumulate week by week)."""
    back = weeks - 1 - week.index  # weeks before the last
    requests: dict[str, list[dict]] = {}
    answers: dict[str, list[dict]] = {}
    for rep, no, raised, rank, reason, tried, keyword in HELP_CASES:
        if back <= raised:
            effective = next((who for r, n, when, who in HELP_EFFECTIVE if (r, n) == (rep, no) and back <= when), "")
            requests.setdefault(rep, []).append({
                "no": no, "customer": _customer(memo, sim, rep, rank, lang), "reason": _pick(reason, lang),
                "tried": _pick(tried, lang), "keyword": _pick(keyword, lang), "effective": effective})
    for author, (rep, no), when, text in HELP_ANSWERS:
        if back <= when:
            answers.setdefault(author, []).append({"request": f"{rep}-{no}", "answer": _pick(text, lang)})
    for person in sorted(set(requests) | set(answers)):
        path = ws.inbox / person / template_filename("help", lang, person)
        if not path.exists():
            ws.write_template(path, "help", playbook, person)
        fill(path, ((HELP_REQUESTS_TABLE, requests.get(person, [])), (HELP_ANSWERS_TABLE, answers.get(person, []))))
    if back > CARDS_FROM:
        return
    day = lambda offset, years=0: _years_back(as_of + dt.timedelta(days=offset), years)  # noqa: E731
    cards: dict[str, dict[str, list[dict]]] = {}
    for rep, rank, founded, referred, signed, revisit, people, meeting in CARD_CASES:
        customer = _customer(memo, sim, rep, rank, lang)
        sheets = cards.setdefault(rep, {"customers": [], "people": [], "equipment": [], "plans": [], "meetings": []})
        sheets["customers"].append({
            "customer": customer, "founded": day(*founded) if founded else None,
            "referred_by": _customer(memo, sim, rep, referred, lang) if referred is not None else None,
            "signed": day(signed) if signed is not None else None, "revisit_days": revisit})
        for name, title, role, birthday in people:
            sheets["people"].append({"customer": customer, "name": _pick(name, lang), "title": _pick(title, lang),
                                     "role": choice_label(BUYING_ROLES, role, lang),
                                     "birthday": day(*birthday) if birthday else None})
        maker, model, price, usage, satisfaction = EQUIPMENT
        sheets["equipment"].append({"customer": customer, "maker": _pick(maker, lang), "model": _pick(model, lang),
                                    "bought": day(-400, 6), "price": price, "usage": _pick(usage, lang),
                                    "satisfaction": _pick(satisfaction, lang)})
        product, quantity, budget = PLAN
        sheets["plans"].append({"customer": customer, "year": as_of.year + 1, "product": _pick(product, lang),
                                "quantity": quantity, "budget": budget})
        if meeting:
            offset, who, purpose = meeting
            sheets["meetings"].append({"customer": customer, "date": day(offset), "person": _pick(who, lang),
                                       "purpose": _pick(purpose, lang)})
    for rep, sheets in cards.items():
        path = ws.inbox / rep / template_filename("cards", lang, rep)
        if not path.exists():
            ws.write_template(path, "cards", playbook, rep)
        fill(path, ((CARD_CUSTOMERS_TABLE, sheets["customers"]), (CARD_PEOPLE_TABLE, sheets["people"]),
                    (CARD_EQUIPMENT_TABLE, sheets["equipment"]), (CARD_PLANS_TABLE, sheets["plans"]),
                    (CARD_APPOINTMENTS_TABLE, sheets["meetings"])))


def _years_back(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)
