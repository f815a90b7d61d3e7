"""Nine permission levels (九级权限): what each person sees.

The playbook's team gives every person a permission level 1–9; the playbook's levels map each level
to a reach (own deals, team, region, company) and to how rankings are shown (anonymised or named).
A person's scope is everybody whose records they may see: the reach of their level, and always
everybody under them through the supervisor chain (a supervisor sees their people whatever their
level). The feedback workbooks and the region summaries are written from these scopes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

REACHES = ("own", "team", "region", "company")


@dataclass(frozen=True)
class Level:
    level: int
    reach: str  # own | team | region | company
    named: bool  # rankings show names (True) or are anonymised (False)
    name_zh: str = ""
    name_en: str = ""


# The default mapping, as the playbook's levels sheet holds it until managers change it.
DEFAULT_LEVELS: tuple[Level, ...] = (
    Level(1, "own", False, "销售代表", "Sales rep"),
    Level(2, "own", False, "高级销售", "Senior rep"),
    Level(3, "own", False, "客户经理", "Account manager"),
    Level(4, "team", False, "销售主管", "Team lead"),
    Level(5, "team", True, "销售经理", "Sales manager"),
    Level(6, "region", True, "区域经理", "Regional manager"),
    Level(7, "region", True, "大区总监", "Area director"),
    Level(8, "company", True, "销售总监", "Sales director"),
    Level(9, "company", True, "总经理", "General manager"),
)


def below(people: Mapping[str, Mapping], person_id: str,
          children: Mapping[str, list[str]] | None = None) -> set[str]:
    """The person and everybody under them through the supervisor chain (a cycle ends the walk)."""
    children = _children(people) if children is None else children
    out, todo = set(), [person_id]
    while todo:
        pid = todo.pop()
        if pid in out:
            continue
        out.add(pid)
        todo += children.get(pid, [])
    return out


def _children(people: Mapping[str, Mapping]) -> dict[str, list[str]]:
    children: dict[str, list[str]] = {}
    for pid, p in people.items():
        children.setdefault(p.get("supervisor") or "", []).append(pid)
    return children


def reach_members(people: Iterable[Mapping], person_id: str) -> set[str]:
    """Everybody the reach of ``person_id``'s level covers: their team, their region or the whole
    company (just themselves for "own"). ``people`` are the summary's person records, each with its
    ``reach`` (see :func:`person_record`)."""
    people = list(people)
    me = next((p for p in people if p["rep"] == person_id), None)
    if me is None:
        return {person_id}
    reach = me.get("reach", "own")
    if reach == "company":
        return {p["rep"] for p in people}
    if reach in ("team", "region"):
        return {p["rep"] for p in people if p.get(reach) == me.get(reach)}
    return {person_id}


def reach_all(people: Iterable[Mapping]) -> dict[str, set[str]]:
    """:func:`reach_members` of everybody at once (one pass to group the people, then a lookup each)."""
    people = list(people)
    groups: dict[tuple[str, Any], set[str]] = {}
    for p in people:
        for level in ("team", "region"):
            groups.setdefault((level, p.get(level)), set()).add(p["rep"])
    everybody = {p["rep"] for p in people}
    out = {}
    for p in people:
        reach = p.get("reach", "own")
        out[p["rep"]] = (everybody if reach == "company" else groups[(reach, p.get(reach))]
                         if reach in ("team", "region") else {p["rep"]})
    return out


def all_scopes(people: Mapping[str, Mapping]) -> dict[str, set[str]]:
    """:func:`scope_of` of everybody at once."""
    reach, children = reach_all(people.values()), _children(people)
    return {pid: below(people, pid, children) | reach[pid] for pid in people}


def scope_of(people: Mapping[str, Mapping], person_id: str) -> set[str]:
    """Everybody whose records ``person_id`` may see: their level's reach and everybody under them."""
    return below(people, person_id) | reach_members(people.values(), person_id)


def person_record(person: Any, level: Level) -> dict[str, Any]:
    """The reach fields of a person's record in the summary (``level``, ``reach``, ``named``)."""
    return {"level": person.level, "reach": level.reach, "named": level.named}


# --------------------------------------------------------------------------------------------
# Region summaries: the summary as a region's people may see it
# --------------------------------------------------------------------------------------------
PERSON_FIELDS = ("rep", "person", "author", "reader", "requester", "owner")


def summary_regions(summary: Any) -> list[str]:
    """The regions that get a summary of their own: every region with somebody below company reach,
    when there are two or more (with one, the company summary is that region's)."""
    regions = list(dict.fromkeys(p["region"] for p in summary.people if p.get("reach", "own") != "company"))
    return regions if len(regions) > 1 else []


class Mentions:
    """Which regions' customers and people each record's text names, found once for all regions.

    A record that names no person is kept in a region's summary only when every customer and person
    its text mentions belongs to that region alone. The names (thousands of customers) are found in
    one pass over each text with an Aho-Corasick automaton (pyahocorasick), instead of testing every
    name against every record once per region.
    """

    def __init__(self, summary: Any) -> None:
        owners: dict[str, set[str]] = {}
        region_of = {p["rep"]: p["region"] for p in summary.people}
        self.deals: dict[str, str] = {}  # deal id -> its rep's region
        for d in (*summary.opportunities, *summary.small_deals):
            if d.get("deal"):
                self.deals[d["deal"]] = region_of.get(d.get("rep"), "\x00")
            if d.get("customer"):
                owners.setdefault(d["customer"], set()).add(region_of.get(d.get("rep"), "\x00"))
        for p in summary.people:
            if p.get("rep_name"):
                owners.setdefault(p["rep_name"], set()).add(p["region"])
        self.owners = {name: frozenset(regions) for name, regions in owners.items()}
        self.automaton: Any = None
        if self.owners:
            import ahocorasick

            self.automaton = ahocorasick.Automaton()
            for name in self.owners:
                self.automaton.add_word(name, name)
            self.automaton.make_automaton()
        self.found: dict[int, frozenset[str]] = {}

    def regions(self, record: dict) -> frozenset[str]:
        """Every region owning a name the record's text mentions (cached by record)."""
        key = id(record)
        if key not in self.found:
            text = "\x1f".join(str(v) for v in record.values() if isinstance(v, str))
            regions: set[str] = set()
            if self.automaton is not None and text:
                for _, name in self.automaton.iter(text):
                    regions |= self.owners[name]
            self.found[key] = frozenset(regions)
        return self.found[key]


def region_summary(summary: Any, region: str, mentions: Mentions | None = None) -> Any:
    """``summary`` cut to ``region``: its people's records, its own funnel and forecast rows as the top
    level (labelled with the region's name), and any other record only when it names no customer,
    person or deal outside the region (a deal's risk row goes with its deal: another region's save
    leaves this region's content, and its file, as they were). ``mentions`` (built once for all
    regions) finds the names in texts."""
    mentions = Mentions(summary) if mentions is None else mentions
    who = {p["rep"] for p in summary.people if p["region"] == region}
    teams = {p["team"] for p in summary.people if p["rep"] in who}

    def keep(record: dict) -> dict | None:
        level = record.get("level")
        if level is not None and "group" in record:  # funnel and forecast rows
            if level == "region" and record["group"] == region:
                return record
            if (level == "team" and record["group"] in teams) or (level == "rep" and record["group"] in who):
                return record
            return None
        if isinstance(record.get("people"), list):  # an alert: to the region's people only
            people = [p for p in record["people"] if p in who]
            return {**record, "people": people} if people else None
        named = [record[f] for f in PERSON_FIELDS if record.get(f)]
        if named:
            return record if named[0] in who else None
        if mentions.deals.get(record.get("deal"), region) != region:  # about another region's deal (its risk)
            return None
        return record if mentions.regions(record) <= {region} else None

    def cut(records: list[dict]) -> list[dict]:
        out = [kept for r in records if (kept := keep(r)) is not None]
        # The region's own row stands at the top level of the funnel and forecast tables.
        tops = [{**r, "level": "company"} for r in out if r.get("level") == "region"]
        return tops + out if tops else out

    changes: dict[str, Any] = {}
    for name, value in vars(summary).items():
        if name == "people":
            changes[name] = [p for p in value if p["rep"] in who]
        elif name == "sections":
            changes[name] = {key: {table: cut(records) for table, records in tables.items()}
                             for key, tables in value.items()}
        elif isinstance(value, list) and all(isinstance(r, dict) for r in value) and name != "stages":
            changes[name] = cut(value)
    return replace(summary, **changes)
