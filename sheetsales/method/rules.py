"""Stage rules: the system, not the rep's optimism, decides where a deal stands.

Two parts, both pure functions of the append-only store as of a date:

* :func:`deal_states` merges every rep's saved rows into one state per deal: who first claimed it
  (商机锁定), who owns it now (after confiscations and decisions), the stage the rep claims and the
  stage its milestones evidence, when the stage clock started, whether it is gone from its list.
* :data:`RULES` is a list of small functions, one per rule, each returning :class:`Alert` values
  with a code, a severity, the deal, the people to tell and a message in the workspace language.

:func:`settle` is the only part that writes: at each ingest it applies the supervisors' new
decisions and confiscates deals past their stage's time limit, recording the transfers.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..reading.names import normalise_text, similar_names
from ..storage.store import Store, activities, decision_results, decisions, extensions, transfers
from .dealstates import DealState, copied, deal_states
from .dealstates import evidenced_stage as evidenced_stage  # re-exported
from .playbook import Playbook

REVIEW_DAYS = 7  # events (skips, regressions, wins) are reported for this many days

# code -> (severity, zh-CN, en)
ALERTS: dict[str, tuple[str, str, str]] = {
    "stage-without-milestones": (
        "warning",
        "“{customer}”报在“{claimed}”,但里程碑只能证明到“{evidenced}”(缺:{missing})。按“{evidenced}”计入漏斗和预测。",
        "'{customer}' is claimed at '{claimed}' but its milestones only evidence '{evidenced}' (missing: {missing}). "
        "It counts at '{evidenced}' in the funnel and forecast."),
    "stage-skipped": (
        "warning",
        "“{customer}”在 {date} 从“{before}”跳到“{after}”,跳过了中间阶段。请核实前面的里程碑。",
        "'{customer}' jumped from '{before}' to '{after}' on {date}, skipping stages. Check the earlier milestones."),
    "stage-regressed": (
        "info",
        "“{customer}”在 {date} 从“{before}”退回“{after}”。",
        "'{customer}' moved back from '{before}' to '{after}' on {date}."),
    "stage-deadline-near": (
        "info",
        "“{customer}”在“{stage}”阶段已 {days} 天,时限 {limit} 天,还剩 {left} 天;到期将被主管收回。",
        "'{customer}' has been at '{stage}' for {days} days of a {limit}-day limit: {left} days left before "
        "the supervisor takes it over."),
    "deal-confiscated": (
        "warning",
        "“{customer}”在“{stage}”阶段超过时限 {limit} 天,已于 {date} 由 {from_name} 收归主管 {to_name}。",
        "'{customer}' overstayed the {limit}-day limit of '{stage}' and was confiscated from {from_name} "
        "to {to_name} on {date}."),
    "decision-pending": (
        "warning",
        "“{customer}”({deal})等待你的决定:在你的决策表中填写 保留 / 退回 / 转派 / 延期 / 关闭。",
        "'{customer}' ({deal}) awaits your decision: add keep / return / reassign / extend / close to your "
        "decisions workbook."),
    "decision-invalid": (
        "error",
        "{position}:决定无效({reason})。请修改这一行。",
        "{position}: the decision is not valid ({reason}). Correct this row."),
    "deal-dropped": (
        "warning",
        "“{customer}”从 {name} 的 MPC 清单中消失了。商机不能悄悄删除:请恢复该行并标为已签约或已丢单,或由主管决定。",
        "'{customer}' disappeared from {name}'s MPC list. Deals cannot be dropped silently: restore the row "
        "and mark it won or lost, or let the supervisor decide."),
    "duplicate-claim": (
        "warning",
        "撞单:{dup_name} 录入的“{customer}”({category})已由 {owner_name} 于 {since} 锁定;后录入的一行不计入任何统计。",
        "Duplicate claim: '{customer}' ({category}) entered by {dup_name} was locked by {owner_name} on "
        "{since}; the later row is not counted anywhere."),
    "possible-duplicate": (
        "warning",
        "可能撞单:{name} 录入的“{customer}”与 {other_name} 的“{other}”({category})名称只差 {distance} 个字,"
        "可能是同一客户。请核实:是同一客户就统一名称(先录入者保留锁定),不是则无需处理。两条商机都照常计入。",
        "Possible duplicate: '{customer}' entered by {name} and '{other}' of {other_name} ({category}) differ by "
        "{distance} character(s) and may be the same customer. Check: if they are, make the names the same (the "
        "first claim keeps the lock); if not, nothing to do. Both deals are still counted."),
    "sudden-win": (
        "warning",
        "“{customer}”在搜寻状态({stage})停留 {days} 天后突然签约,请核实。",
        "'{customer}' sat in the search state ({stage}) for {days} days and then suddenly won: check it."),
    "probability-contradicts-stage": (
        "info",
        "“{customer}”填的赢率 {win_rate} 与阶段“{stage}”的赢率 {probability} 不符。",
        "'{customer}' has a typed win rate of {win_rate}, which contradicts stage '{stage}' ({probability})."),
    "amount-contradicts-stage": (
        "info",
        "“{customer}”已到“{stage}”,金额却从 {before} 变为 {after};此阶段金额应已基本确定。",
        "'{customer}' is at '{stage}' yet its amount moved from {before} to {after}; at this stage it "
        "should be firm."),
    "date-slipping": (
        "warning",
        "“{customer}”的预计签约日期连续 {count} 次推迟,现为 {date}。",
        "The expected signing date of '{customer}' was pushed back on each of the last {count} saves; now {date}."),
    "no-activity": (
        "info",
        "“{customer}”已 {days} 天没有任何工作日志记录。",
        "No daily-log entry mentions '{customer}' in the last {days} days."),
    "unqualified": (
        "warning",
        "“{customer}”已进入漏斗,但九个资格问题只回答了 {answered} 个。请在“资格审查”表中补全。",
        "'{customer}' is past the search state but only {answered} of the nine qualifying questions are "
        "answered. Complete the Qualification sheet."),
    "c931-optimistic": (
        "warning",
        "“{customer}”报赢率 {claim},但 C931 只有 {score}(需要至少 8C+1F)。",
        "'{customer}' claims {claim}, but its C931 is only {score} (8C+1F needed)."),
    "sign-date-passed": (
        "info",
        "“{customer}”的预计签约日期 {date} 已过,请更新日期或状态。",
        "The expected signing date {date} of '{customer}' has passed; update the date or the status."),
    # the daily log (activity.py)
    "busy-not-converting": (
        "warning",
        "{name} 近 {days} 天工时 {hours} 小时,在团队前四分之一(≥ {q3}),但做过的 {worked} 个商机只有 {converted} 个推进"
        "(转化率 {conversion},在团队后四分之一,≤ {q1}):很忙却少转化,请检查商机资格审查。",
        "{name} logged {hours} hours in the last {days} days, in the team's top quarter (≥ {q3}), but only {converted} "
        "of the {worked} deals worked moved forward (conversion {conversion}, in the team's bottom quarter, ≤ {q1}): "
        "busy yet not converting; review how deals are qualified."),
    # help alarms and customer care (help.py, care.py)
    "help-unanswered": (
        "warning",
        "求助 {request}(“{customer}”)已 {days} 天无人解答(时限 {limit} 天)。同事请在自己的困难报警表“我的解答”中回答。",
        "Help request {request} ('{customer}') has had no answer for {days} days (limit {limit}). Colleagues: "
        "answer it on the My answers sheet of your own help workbook."),
    "reminder-appointment": (
        "info",
        "约见:{date}(还有 {days} 天)“{customer}” {who},{detail}。",
        "Appointment: {date} (in {days} days) at '{customer}' with {who}: {detail}."),
    "reminder-birthday": (
        "info",
        "生日:“{customer}”的 {who}({detail}){date} 生日(还有 {days} 天)。送上祝福。",
        "Birthday: {who} of '{customer}' ({detail}) on {date} (in {days} days). Send your wishes."),
    "reminder-anniversary": (
        "info",
        "周年:“{customer}”{date} 成立 {years} 周年(还有 {days} 天)。送上祝贺。",
        "Anniversary: '{customer}' turns {years} on {date} (in {days} days). Send congratulations."),
    "reminder-revisit": (
        "info",
        "回访:“{customer}”{date} 到期回访(还有 {days} 天,{detail})。",
        "Revisit: '{customer}' is due a revisit on {date} (in {days} days, {detail})."),
    "no-decider": (
        "warning",
        "“{customer}”已到“{stage}”(超过“{influence}”),客户卡中却没有决定者。请在客户信息收集卡“关键人物”中补上决定者。",
        "'{customer}' is at '{stage}' (past '{influence}') but its customer card names no decider. Add the decider "
        "on the Key people sheet of your customer cards."),
    # results (lost.py, attainment.py, conversion.py, weekly content, qualification)
    "lost-without-report": (
        "warning",
        "“{customer}”于 {date} 标为已丢单,{days} 天了还没有丢单报告(应在 {limit} 天内)。请在丢单报告中补一行。",
        "'{customer}' was marked lost on {date}, {days} days ago, and has no lost-deal report yet (due within "
        "{limit} days). Add its row to your lost-deal report."),
    "won-without-contract": (
        "warning",
        "“{customer}”({category})于 {date} 签约成交,{days} 天了周报“签约合同”中仍没有它的合同。请在本周周报中补上合同行。",
        "'{customer}' ({category}) was won on {date}, {days} days ago, and no weekly report lists its contract. Add "
        "the contract to this week's report."),
    "contract-without-deal": (
        "warning",
        "周报 {week} 中“{customer}”({category})的合同 {amount} 在 MPC 一览表中没有对应的已签约商机。请把商机标为已签约,"
        "或核对客户名称和类别。",
        "The contract of '{customer}' ({category}, {amount}) in the {week} weekly report has no won deal in the MPC "
        "list. Mark the deal won, or check the customer's name and category."),
    "probability-miscalibrated": (
        "info",
        "阶段“{stage}”:到达此阶段并已结束的 {deals} 个商机中赢了 {won} 个({empirical}),作战手册的赢率是 {probability}。"
        "建议把作战手册中的赢率改为 {empirical}。",
        "Stage '{stage}': of the {deals} closed deals that reached it, {won} were won ({empirical}); the playbook "
        "says {probability}. Consider changing the playbook's probability to {empirical}."),
    "over-budget": (
        "warning",
        "{who} {month} 的{type} {spent} 超出预算 {budget}({share})。",
        "{who}: {type} spending in {month} is {spent}, over the budget of {budget} ({share})."),
    "disqualified": (
        "warning",
        "“{customer}”的资格审查有排除性回答:{answers}。请与主管确认是否继续跟进,或关闭这个商机。",
        "'{customer}' is ruled out by its qualifying answers: {answers}. Decide with your supervisor whether to "
        "pursue it, or close it."),
    "target-mismatch": (
        "warning",
        "“{group}”{period} 的目标 {target} 与成员目标之和 {total} 不一致({share})。请在作战手册“目标”表中核对。",
        "The {period} target of '{group}' ({target}) differs from the sum of its members' targets ({total}, {share}). "
        "Check the Targets sheet of the playbook."),
}

INVALID_REASONS: dict[str, tuple[str, str]] = {
    "unknown-deal": ("没有这个商机编号", "no such deal id"),
    "unknown-person": ("“转派给”不是你团队中的人员", "'Reassign to' is not a person of your team"),
    "no-authority": ("你无权决定这个商机", "you have no authority over this deal"),
    "missing-days": ("延期需要填写天数", "an extension needs a number of days"),
    "not-confiscated": ("这个商机不在主管手中,无需退回", "the deal is not held by a supervisor, nothing to return"),
    "deal-closed": ("这个商机已结束", "the deal is already closed"),
}


@dataclass(frozen=True)
class Alert:
    code: str
    deal: str
    people: tuple[str, ...]
    params: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    rep: str = ""
    customer: str = ""

    @property
    def severity(self) -> str:
        return ALERTS[self.code][0]

    def message(self, lang: str) -> str:
        _, zh, en = ALERTS[self.code]
        return (en if lang == "en" else zh).format(**{k: _show(v) for k, v in self.params.items()})

    def as_record(self, lang: str) -> dict[str, Any]:
        return {"code": self.code, "severity": self.severity, "deal": self.deal, "people": list(self.people),
                "rep": self.rep, "customer": self.customer, "message": self.message(lang)}


def _show(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 2 else f"{value:.0%}"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


@dataclass
class Context:
    """What the rules read: the deals, their raw history, and the people."""

    as_of: dt.date
    playbook: Playbook
    deals: dict[str, DealState]
    duplicates: list[tuple[dict, DealState]]  # (the later claim's latest row, the deal it duplicates)
    activity: list[dict]
    decisions: list[dict]  # latest decision rows with their outcome
    transfers: list[dict]

    def supervisor(self, pid: str) -> str:
        person = self.playbook.person(pid)
        return person.supervisor if person else ""

    def name(self, pid: str) -> str:
        person = self.playbook.person(pid)
        return f"{pid} {person.name}" if person else pid

    def stage_name(self, order: int, lang: str) -> str:
        return self.playbook.stage(order).name(lang) if 1 <= order <= len(self.playbook.stages) else str(order)


def limit_of(state: DealState, playbook: Playbook) -> int | None:
    """The time limit of the stage the deal is counted at (its evidenced stage), with extensions."""
    if state.evidenced < 1 or state.evidenced > len(playbook.stages):
        return None
    limit = playbook.stage(state.evidenced).limit_days
    return limit + state.extension if limit else None


def is_open(state: DealState) -> bool:
    return state.status == "open"


def managed(state: DealState) -> bool:
    """Open and above the small-deal threshold: small, fast deals stay out of opportunity management."""
    return state.status == "open" and not state.small


# --------------------------------------------------------------------------------------------
# The rules: one small function each.
# --------------------------------------------------------------------------------------------
Rule = Callable[[Context, str], list[Alert]]


def _people(*ids: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(i for i in ids if i))


def _alert(code: str, state: DealState, people: tuple[str, ...], **params: Any) -> Alert:
    return Alert(code, state.key, people, {"customer": state.customer, "deal": state.key, **params},
                 rep=state.owner, customer=state.customer)


def rule_milestones(ctx: Context, lang: str) -> list[Alert]:
    out = []
    for s in ctx.deals.values():
        if managed(s) and s.claimed > s.evidenced:
            missing = [ctx.playbook.stage(n).milestone_en if lang == "en" else ctx.playbook.stage(n).milestone_zh
                       for n in range(1, s.claimed) if n not in s.milestones]
            out.append(_alert("stage-without-milestones", s, _people(s.owner, ctx.supervisor(s.owner)),
                              claimed=ctx.stage_name(s.claimed, lang), evidenced=ctx.stage_name(s.evidenced, lang),
                              missing="; ".join(missing)))
    return out


def rule_stage_moves(ctx: Context, lang: str) -> list[Alert]:
    out = []
    since = ctx.as_of - dt.timedelta(days=REVIEW_DAYS)
    for s in ctx.deals.values():
        if s.small:
            continue
        final = len(ctx.playbook.stages)
        for prev, cur in zip(s.history, s.history[1:], strict=False):
            if cur["observed_on"] <= since or cur["rep"] != prev["rep"] or cur["stage"] == final:
                continue
            jump = cur["stage"] - prev["stage"]
            code = "stage-skipped" if jump > 1 else "stage-regressed" if jump < 0 else ""
            if code:
                out.append(_alert(code, s, _people(cur["rep"], ctx.supervisor(cur["rep"])),
                                  before=ctx.stage_name(prev["stage"], lang), after=ctx.stage_name(cur["stage"], lang),
                                  date=cur["observed_on"]))
    return out


def rule_deadline(ctx: Context, lang: str) -> list[Alert]:
    out = []
    lead = ctx.playbook.reminder_lead_days
    reps = {p.id for p in ctx.playbook.reps}
    for s in ctx.deals.values():
        limit = limit_of(s, ctx.playbook)
        if not managed(s) or s.owner not in reps or not limit:
            continue
        days = s.days_in_stage(ctx.as_of)
        left = limit - days
        if 0 <= left <= lead:
            out.append(_alert("stage-deadline-near", s, _people(s.owner), stage=ctx.stage_name(s.evidenced, lang),
                              days=days, limit=limit, left=left))
    return out


def rule_confiscated(ctx: Context, lang: str) -> list[Alert]:
    out = []
    for s in ctx.deals.values():
        t = s.last_transfer
        if not managed(s) or not t or t["reason"] != "confiscated":
            continue
        out.append(_alert("deal-confiscated", s, _people(t["from_person"], t["to_person"]),
                          stage=ctx.stage_name(t["stage"] or s.evidenced, lang),
                          limit=ctx.playbook.stage(t["stage"] or s.evidenced).limit_days or 0,
                          date=t["observed_on"], from_name=ctx.name(t["from_person"]), to_name=ctx.name(t["to_person"])))
        out.append(_alert("decision-pending", s, _people(t["to_person"])))
    return out


def rule_dropped(ctx: Context, lang: str) -> list[Alert]:
    out = []
    for s in ctx.deals.values():
        if s.dropped and not s.small:
            boss = ctx.supervisor(s.owner)
            out.append(_alert("deal-dropped", s, _people(s.owner, boss), name=ctx.name(s.owner)))
            out.append(_alert("decision-pending", s, _people(boss)))
    return out


def rule_decisions(ctx: Context, lang: str) -> list[Alert]:
    out = []
    for d in ctx.decisions:
        if d.get("outcome") != "invalid":
            continue
        reason = INVALID_REASONS.get(d["reason"], (d["reason"], d["reason"]))
        position = f"{d['file']}!{d['sheet']}!A{d['row']}"
        out.append(Alert("decision-invalid", d["deal"], _people(d["author"], ctx.supervisor(d["author"])),
                         {"position": position, "reason": reason[lang == "en"], "deal": d["deal"]},
                         rep=d["author"]))
    return out


def rule_duplicates(ctx: Context, lang: str) -> list[Alert]:
    out = []
    for row, s in ctx.duplicates:
        people = _people(row["rep"], s.owner, ctx.supervisor(row["rep"]), ctx.supervisor(s.owner))
        out.append(Alert("duplicate-claim", s.key, people, {
            "customer": row["customer"], "category": row["category"], "dup_name": ctx.name(row["rep"]),
            "owner_name": ctx.name(s.owner), "since": s.lock_since or s.first_seen, "deal": s.key}, rep=row["rep"],
            customer=row["customer"]))
    return out


def rule_possible_duplicates(ctx: Context, lang: str) -> list[Alert]:
    """Open deals of two reps in one category whose customers' names differ by a character or two.

    Not a lock: both stay counted; both reps' supervisors are asked to check (names equal after
    normalisation are one customer and get ``duplicate-claim`` instead).
    """
    open_deals = [s for s in ctx.deals.values() if s.status == "open"]
    items = [(s.key, str(s.category).strip().casefold(), s.customer_norm) for s in open_deals]
    out = []
    for a, b, distance in similar_names(items):
        first, later = sorted((ctx.deals[a], ctx.deals[b]), key=lambda s: (s.first_seen, s.key))
        if first.rep == later.rep:
            continue
        people = _people(ctx.supervisor(later.rep) or later.rep, ctx.supervisor(first.rep) or first.rep)
        out.append(Alert("possible-duplicate", later.key, people, {
            "customer": later.customer, "category": later.category, "name": ctx.name(later.rep),
            "other": first.customer, "other_name": ctx.name(first.rep), "other_deal": first.key,
            "deal": later.key, "distance": distance}, rep=later.rep, customer=later.customer))
    return out


def rule_sudden_win(ctx: Context, lang: str) -> list[Alert]:
    out = []
    threshold = int(ctx.playbook.settings.get("sudden_win_days", 28))
    final = len(ctx.playbook.stages)
    for s in ctx.deals.values():
        if s.status != "won" or s.small:
            continue
        won_at = next((i for i, r in enumerate(s.history) if r["status"] == "won" or r["stage"] == final), None)
        if not won_at or s.history[won_at]["observed_on"] < ctx.as_of - dt.timedelta(days=30):
            continue
        before = s.history[:won_at]
        last_stage = before[-1]["stage"]
        if last_stage > 2:
            continue
        start = before[-1]["observed_on"]
        for r in reversed(before):
            if r["stage"] > 2:
                break
            start = r["observed_on"]
        days = (s.history[won_at]["observed_on"] - start).days
        if days >= threshold:
            out.append(_alert("sudden-win", s, _people(s.rep, ctx.supervisor(s.rep)),
                              stage=" / ".join(ctx.stage_name(n, lang) for n in (1, 2)), days=days))
    return out


def rule_probability(ctx: Context, lang: str) -> list[Alert]:
    out = []
    tolerance = float(ctx.playbook.settings.get("probability_tolerance", 0.25))
    for s in ctx.deals.values():
        rate = s.row.get("win_rate")
        if not managed(s) or rate is None:
            continue
        probability = ctx.playbook.stage(s.claimed).probability
        if abs(rate - probability) > tolerance:
            out.append(_alert("probability-contradicts-stage", s, _people(s.owner), win_rate=f"{rate:.0%}",
                              stage=ctx.stage_name(s.claimed, lang), probability=f"{probability:.0%}"))
    return out


def rule_amount(ctx: Context, lang: str) -> list[Alert]:
    out = []
    limit = float(ctx.playbook.settings.get("late_amount_change", 0.3))
    since = ctx.as_of - dt.timedelta(days=REVIEW_DAYS)
    for s in ctx.deals.values():
        if not managed(s) or len(s.history) < 2 or s.history[-1]["observed_on"] <= since:
            continue
        prev, cur = s.history[-2], s.history[-1]
        if ctx.playbook.stage(cur["stage"]).funnel_state != "best" or not prev["amount"]:
            continue
        if abs(cur["amount"] - prev["amount"]) / prev["amount"] > limit:
            out.append(_alert("amount-contradicts-stage", s, _people(s.owner, ctx.supervisor(s.owner)),
                              stage=ctx.stage_name(cur["stage"], lang), before=float(prev["amount"]),
                              after=float(cur["amount"])))
    return out


def rule_date_slipping(ctx: Context, lang: str) -> list[Alert]:
    out = []
    needed = int(ctx.playbook.settings.get("slip_saves", 3))
    for s in ctx.deals.values():
        if not managed(s):
            continue
        # Saves that leave the date alone do not break the chain (the watcher ingests every save).
        dates = [r["sign_date"] for r in s.history if r["sign_date"]]
        changes = [(a, b) for a, b in zip(dates, dates[1:], strict=False) if b != a][-needed:]
        if len(changes) == needed and all(b > a for a, b in changes):
            out.append(_alert("date-slipping", s, _people(s.owner, ctx.supervisor(s.owner)), count=needed,
                              date=dates[-1]))
    return out


def rule_no_activity(ctx: Context, lang: str) -> list[Alert]:
    out = []
    idle = int(ctx.playbook.settings.get("idle_days", 21))
    since = ctx.as_of - dt.timedelta(days=idle)
    recent: dict[str, list[str]] = defaultdict(list)
    for a in ctx.activity:
        if a["date"] and since < a["date"] <= ctx.as_of:
            recent[a["rep"]].append(normalise_text(f"{a['unit'] or ''} {a.get('deal') or ''} {a['content'] or ''}"))
    for s in ctx.deals.values():
        if not managed(s) or s.first_seen > since:
            continue
        texts = recent.get(s.owner, []) + (recent.get(s.rep, []) if s.rep != s.owner else [])
        if not any(s.customer_norm and s.customer_norm in text for text in texts):
            out.append(_alert("no-activity", s, _people(s.owner, ctx.supervisor(s.owner)), days=idle))
    return out


def rule_unqualified(ctx: Context, lang: str) -> list[Alert]:
    out = []
    for s in ctx.deals.values():
        if not managed(s) or ctx.playbook.stage(s.claimed).funnel_state == "search":
            continue
        answered = s.row.get("q_answered") or 0
        if answered < 9:
            out.append(_alert("unqualified", s, _people(s.owner), answered=answered))
    return out


def c931_score(row: dict) -> str:
    return f"{row.get('c_clear') or 0}C+{row.get('c_first') or 0}F+{row.get('c_win') or 0}W"


def rule_c931(ctx: Context, lang: str) -> list[Alert]:
    out = []
    for s in ctx.deals.values():
        if not managed(s):
            continue
        claim = s.row.get("win_rate")
        if claim is None:
            claim = ctx.playbook.stage(s.claimed).probability
        if claim >= 0.6 and ((s.row.get("c_clear") or 0) < 8 or (s.row.get("c_first") or 0) < 1):
            out.append(_alert("c931-optimistic", s, _people(s.owner, ctx.supervisor(s.owner)),
                              claim=f"{claim:.0%}", score=c931_score(s.row)))
    return out


def rule_sign_date(ctx: Context, lang: str) -> list[Alert]:
    return [_alert("sign-date-passed", s, _people(s.owner), date=s.row["sign_date"])
            for s in ctx.deals.values() if managed(s) and s.row["sign_date"] and s.row["sign_date"] < ctx.as_of]


RULES: list[Rule] = [
    rule_milestones, rule_stage_moves, rule_deadline, rule_confiscated, rule_decisions, rule_dropped,
    rule_duplicates, rule_possible_duplicates, rule_sudden_win, rule_probability, rule_amount, rule_date_slipping, rule_no_activity,
    rule_unqualified, rule_c931, rule_sign_date,
]


def context(store: Store, playbook: Playbook, as_of: dt.date) -> Context:
    states, duplicates = deal_states(store, playbook, as_of)
    outcomes = {r["decision_id"]: r for r in store.rows(decision_results, as_of)}
    by_fingerprint: dict[str, dict] = {}
    for d in store.rows(decisions, as_of):
        if d["id"] in outcomes:
            by_fingerprint[d["fingerprint"]] = outcomes[d["id"]]
    latest = []
    for d in store.latest_decision_rows(as_of):
        outcome = by_fingerprint.get(d["fingerprint"], {})
        latest.append({**d, "outcome": outcome.get("outcome"), "reason": outcome.get("reason")})
    return Context(as_of=as_of, playbook=playbook, deals=states, duplicates=duplicates,
                   activity=store.rows(activities, as_of, "observed_on"), decisions=latest,
                   transfers=store.rows(transfers, as_of))


def run_rules(ctx: Context, lang: str) -> list[Alert]:
    """Every rule's alerts, sorted for stable output."""
    return sort_alerts([a for rule in RULES for a in rule(ctx, lang)])


def sort_alerts(alerts: list[Alert]) -> list[Alert]:
    """Alerts in their stable order: by the first person told, code, customer, deal."""
    return sorted(alerts, key=lambda a: (a.people[0] if a.people else "", a.code, a.customer, a.deal))


# --------------------------------------------------------------------------------------------
# Settling at ingest: decisions, then confiscations.
# --------------------------------------------------------------------------------------------
def decision_fingerprint(author: str, values: dict) -> str:
    text = "\x1f".join(str(values.get(k) or "") for k in ("deal", "decision", "to", "days", "reason", "date"))
    return hashlib.sha1(f"{author}\x1f{text}".encode()).hexdigest()


def _scope(playbook: Playbook, pid: str) -> set[str]:
    below: dict[str, list[str]] = defaultdict(list)
    for p in playbook.team:
        below[p.supervisor].append(p.id)
    out, todo = set(), [pid]
    while todo:
        cur = todo.pop()
        if cur not in out:
            out.add(cur)
            todo += below.get(cur, [])
    return out


def settle(store: Store, ingest_id: int, playbook: Playbook, as_of: dt.date) -> dict[str, int]:
    """Apply new decisions, then confiscate deals past their limit; returns what was done."""
    done = {"applied": 0, "invalid": 0, "confiscated": 0}
    states, _ = deal_states(store, playbook, as_of)
    alias = {k: s.key for s in states.values() for k in s.members}
    with_result = {r["decision_id"] for r in store.rows(decision_results, as_of)}
    applied = {d["fingerprint"] for d in store.rows(decisions, as_of) if d["id"] in with_result}
    reps = {p.id for p in playbook.reps}
    transferred = False  # a change of owner can move locks and clocks: the states are then rebuilt
    with store.transaction() as conn:
        for d in store.latest_decision_rows(as_of):
            if d["fingerprint"] in applied:
                continue
            applied.add(d["fingerprint"])
            reason, effects = _decide(d, states, alias, playbook, reps)
            outcome = "invalid" if reason else "applied"
            done[outcome] += 1
            store.add_decision_result(conn, decision_id=d["id"], observed_on=as_of, outcome=outcome, reason=reason)
            for table, values in effects:
                if table is transfers:
                    store.add_transfer(conn, ingest_id=ingest_id, observed_on=as_of, decision_id=d["id"], **values)
                else:
                    store.add_extension(conn, observed_on=as_of, decision_id=d["id"], **values)
                if table is extensions:  # what deal_states would count: granted today on the counted stage
                    state = states[values["deal"]] = copied(states[values["deal"]])  # the kept one stays
                    state.extension += values["days"]
                if table is transfers:  # a later decision on the same deal sees this one
                    transferred = True
                    state = states[values["deal"]] = copied(states[values["deal"]])
                    state.owner = values["to_person"]
                    state.last_transfer = {**values, "observed_on": as_of}
                    if values["reason"] == "closed":
                        state.status = "closed"
    if transferred:
        states, _ = deal_states(store, playbook, as_of)
    with store.transaction() as conn:
        for s in states.values():
            limit = limit_of(s, playbook)
            if not managed(s) or s.owner not in reps or not limit or s.days_in_stage(as_of) <= limit:
                continue
            boss = playbook.person(s.owner).supervisor if playbook.person(s.owner) else ""
            if not boss:
                continue
            store.add_transfer(conn, ingest_id=ingest_id, observed_on=as_of, deal=s.key, from_person=s.owner,
                               to_person=boss, reason="confiscated", stage=s.evidenced)
            done["confiscated"] += 1
    return done


def _decide(d: dict, states: dict[str, DealState], alias: dict[str, str], playbook: Playbook,
            reps: set[str]) -> tuple[str | None, list[tuple[Any, dict]]]:
    """(why the decision is invalid, or None) and the rows it adds."""
    deal = alias.get(d["deal"].strip())
    if deal is None:
        return "unknown-deal", []
    s = states[deal]
    author = d["author"]
    scope = _scope(playbook, author)
    if author in reps or not ({s.owner, s.rep} & scope):
        return "no-authority", []
    if s.status != "open":
        return "deal-closed", []
    kind = d["decision"]
    base = {"deal": deal}
    if kind == "extend":
        if not d["days"]:
            return "missing-days", []
        return None, [(extensions, {**base, "stage": s.evidenced, "days": d["days"], "reason": d["reason"],
                                    "by_person": author})]
    if kind == "reassign":
        target = (d["to_person"] or "").strip()
        if not playbook.person(target) or target not in scope:
            return "unknown-person", []
        return None, [(transfers, {**base, "from_person": s.owner, "to_person": target, "reason": "reassigned",
                                   "stage": s.evidenced})]
    if kind == "return":
        if s.owner == s.rep:
            return "not-confiscated", []
        return None, [(transfers, {**base, "from_person": s.owner, "to_person": s.rep, "reason": "returned",
                                   "stage": s.evidenced})]
    if kind == "keep":
        return None, [(transfers, {**base, "from_person": s.owner, "to_person": author, "reason": "kept",
                                   "stage": s.evidenced})]
    if kind == "close":
        return None, [(transfers, {**base, "from_person": s.owner, "to_person": s.owner, "reason": "closed",
                                   "stage": s.evidenced})]
    return "unknown-deal", []
