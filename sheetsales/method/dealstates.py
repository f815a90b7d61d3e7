"""Deal states: every rep's saved rows merged into one state per deal, kept between runs.

A deal's state (who first claimed it, who owns it now, the stage it is counted at, when its stage
clock started, whether it is gone from its list) depends only on the rows of the claims on the same
customer and product category — a *lock group* — on the transfers and extensions of those deals,
on which versions of their reps' MPC lists hold them, and on the playbook's reps and small-deal
threshold. :func:`group_states` computes one group from those facts; :func:`compute_states` computes
every group from the store (the replay from the whole history).

:class:`DealBook` keeps the facts and every group's states in memory between runs of one process
(the watcher's ingest, settlement and report; a settlement and the report after it): a refresh
reads only the rows recorded since, and recomputes only the groups those rows, a changed list
version or a changed kept-out row touch. The book is exact or it is rebuilt: it is kept for one
store and one date, and rebuilt from scratch when the date or the playbook's reps and threshold
change, when a new row is older than those already read (an ingest replaying an earlier date), or
when the store holds a number of rows the book did not read (rows committed out of order).
``tests/test_dealstates.py`` compares it with the replay over random sequences of saves, decisions
and dates.
"""

from __future__ import annotations

import copy
import datetime as dt
import os
import threading
from collections import defaultdict
from dataclasses import dataclass, field

from ..reading.names import normalise_customer
from ..storage.store import Store, extensions, opportunities, transfers
from .playbook import Playbook

Group = tuple[str, str]  # (normalised customer, product category folded)
TABLES = (opportunities, transfers, extensions)  # what the states are computed from, beside the lists


@dataclass
class DealState:
    key: str  # the deal id: the first claim's key
    rep: str  # who first entered it
    owner: str  # who owns it now
    customer: str
    customer_norm: str
    category: str
    row: dict  # the row its current values come from
    history: list[dict]  # every saved row of this deal, oldest first
    first_seen: dt.date
    status: str  # open | won | lost | closed
    claimed: int
    evidenced: int
    stage_since: dt.date
    extension: int
    listed: bool
    dropped: bool
    last_transfer: dict | None
    members: set[str] = field(default_factory=set)  # the rep keys merged into this deal
    small: bool = False
    lock_since: dt.date | None = None  # the day this claim took the lock over from an ended one
    lock_from: str = ""  # the rep whose claim ended then

    @property
    def amount(self) -> float:
        return float(self.row["amount"])

    def days_in_stage(self, as_of: dt.date) -> int:
        return (as_of - self.stage_since).days

    @property
    def milestones(self) -> set[int]:
        return {int(m) for m in (self.row.get("milestones") or "").split(",") if m}


def evidenced_stage(claimed: int, milestones: set[int]) -> int:
    """The furthest stage (up to the claim) whose earlier milestones are all met."""
    stage = 1
    while stage < claimed and stage in milestones:
        stage += 1
    return stage


def owner_at(transfers_of: list[dict], rep: str, day: dt.date) -> tuple[str, dict | None]:
    owner, last = rep, None
    for t in transfers_of:
        if t["observed_on"] <= day:
            owner, last = (t["to_person"] or owner), t
    return owner, last


def milestones_of(row: dict) -> set[int]:
    return {int(m) for m in (row.get("milestones") or "").split(",") if m}


def group_of(first: dict) -> Group:
    """The lock group of a claim, from its first row."""
    return normalise_customer(first["customer"]), str(first["category"]).strip().casefold()


@dataclass
class Facts:
    """What the states are computed from, as of ``as_of``."""

    as_of: dt.date
    by_key: dict[str, list[dict]]  # every row of each rep key (claim), oldest first
    transfers_of: dict[str, list[dict]]  # per deal, oldest first
    extensions_of: dict[str, list[dict]]
    versions: dict[str, list[tuple[dt.date, int]]]  # per rep: its MPC list versions that have rows, in order
    listed: set[str]  # keys on their rep's current list (or kept out for errors in it)
    reps_with_lists: set[str]
    rep_ids: set[str]
    threshold: float


@dataclass
class GroupStates:
    """One lock group's deals, in the order the replay lists them, and its later duplicate claims."""

    states: list[DealState]
    duplicates: list[tuple[dict, DealState]]  # (the later claim's latest row, the deal it duplicates)


def group_states(keys: list[str], facts: Facts) -> GroupStates:
    """The deals of one lock group; ``keys`` are its claims in the order of their first rows.

    The lock (商机锁定) on the customer and category: the first claim holds it. From the day it ends
    (won, lost, or closed by a decision) the earliest later claim that is still open and on its
    rep's list holds it; with none, the customer is free and the next claim takes it. A claim by
    the rep a holder's deal was reassigned to is that deal's.
    """
    if len(keys) == 1:  # the only claim holds the lock (most groups)
        return GroupStates([_state(keys[0], keys, facts, None)], [])
    by_key, transfers_of = facts.by_key, facts.transfers_of
    canonical: dict[str, str] = {}  # rep key -> deal id
    waiting_dups: list[tuple[str, str]] = []
    passed: dict[str, tuple[dt.date, str]] = {}  # deal -> (day, previous holder's deal)

    def latest_version(rep: str, day: dt.date) -> int | None:
        found = [v for d, v in facts.versions.get(rep, ()) if d <= day]
        return found[-1] if found else None

    def remaining(k: str, day: dt.date) -> bool:
        rows = [r for r in by_key[k] if r["observed_on"] <= day]
        return bool(rows) and rows[-1]["status"] == "open" and \
            rows[-1]["file_version_id"] == latest_version(rows[-1]["rep"], day)

    members: dict[str, list[str]] = {}

    def ended_on(deal: str) -> dt.date | None:
        ends = [next((r["observed_on"] for r in by_key[m] if r["status"] in ("won", "lost")), None)
                for m in members[deal]]
        ends += [t["observed_on"] for t in transfers_of.get(deal, []) if t["reason"] == "closed"]
        return min((e for e in ends if e is not None), default=None)

    holder: str | None = None
    previous: str | None = None
    waiting: list[str] = []
    days = sorted({r["observed_on"] for k in keys for r in by_key[k]}
                  | {t["observed_on"] for k in keys for t in transfers_of.get(k, [])})
    arrivals: dict[dt.date, list[str]] = defaultdict(list)
    for k in keys:
        arrivals[by_key[k][0]["observed_on"]].append(k)
    for day in days:
        if holder is not None and (end := ended_on(holder)) is not None and end <= day:
            holder, previous = None, holder
        for k in arrivals.get(day, []):
            if holder is not None:
                owner, _ = owner_at(transfers_of.get(holder, []), by_key[holder][0]["rep"], facts.as_of)
                if owner == by_key[k][0]["rep"]:  # the deal was reassigned to this rep: their row is the deal's
                    canonical[k] = holder
                    members[holder].append(k)
                    continue
            waiting.append(k)
        if holder is None:
            heir = next((k for k in waiting if remaining(k, day)), None)
            if heir is not None:
                waiting.remove(heir)
                holder, members[heir] = heir, [heir]
                canonical[heir] = heir
                if previous is not None and by_key[heir][0]["observed_on"] < day:
                    passed[heir] = (day, previous)
    waiting_dups = [(k, holder) for k in waiting] if holder is not None else []

    deal_keys: dict[str, list[str]] = defaultdict(list)
    for k, deal in canonical.items():
        deal_keys[deal].append(k)
    states = {deal: _state(deal, ks, facts, passed.get(deal)) for deal, ks in deal_keys.items()}
    duplicates = [(by_key[k][-1], states[holder]) for k, holder in waiting_dups
                  if k in facts.listed and by_key[k][-1]["status"] == "open" and holder in states]
    return GroupStates(list(states.values()), duplicates)


def _state(deal: str, keys: list[str], facts: Facts, passed: tuple[dt.date, str] | None) -> DealState:
    by_key, listed_keys = facts.by_key, facts.listed
    history = list(by_key[keys[0]]) if len(keys) == 1 else \
        sorted((r for k in keys for r in by_key[k]), key=lambda r: (r["observed_on"], r["id"]))  # oldest first
    rep = by_key[deal][0]["rep"]
    owner, last_transfer = owner_at(facts.transfers_of.get(deal, []), rep, facts.as_of)
    listed_rows = [r for r in history if r["opp_key"] in listed_keys]
    owner_rows = [r for r in listed_rows if r["rep"] == owner]
    row = (owner_rows or listed_rows or history)[-1]
    status = row["status"]
    if last_transfer and last_transfer["reason"] == "closed":
        status = "closed"
    # Gone from the list of an owner who had listed it: a deal reassigned to someone who has
    # not yet added it is not "dropped".
    listed_by_owner = any(k in listed_keys and by_key[k][0]["rep"] == owner for k in keys)
    had_it = any(r["rep"] == owner for r in history)
    dropped = (status == "open" and owner in facts.rep_ids and owner in facts.reps_with_lists and had_it
               and not listed_by_owner)
    # The stage clock runs on the stage the deal is counted at, the one its milestones evidence.
    # It starts at the first observation of a furthest evidenced stage (moving a claim back and
    # forth does not restart it), and not before the deal is managed (its amount reached the
    # small-deal threshold: the latest crossing counts), the day it took the lock over, or the
    # day its owner changed. It follows the rows of whoever holds the values (a reassigned
    # deal's old rows are not its history any more).
    own = [r for r in history if r["rep"] == row["rep"]]
    since, furthest, managed_from, was_small = own[0]["observed_on"], 0, None, True
    for cur in own:
        stage = evidenced_stage(int(cur["stage"]), milestones_of(cur))
        if stage > furthest:
            since, furthest = cur["observed_on"], stage
        small_now = float(cur["amount"]) < facts.threshold
        if was_small and not small_now:
            managed_from = cur["observed_on"]
        was_small = small_now
    for start in (managed_from, passed[0] if passed else None):
        if start is not None and start > since:
            since = start
    if last_transfer and last_transfer["observed_on"] > since and last_transfer["reason"] != "closed":
        since = last_transfer["observed_on"]
    claimed = int(row["stage"])
    evidenced = evidenced_stage(claimed, milestones_of(row))
    extension = sum(e["days"] for e in facts.extensions_of.get(deal, ())
                    if e["stage"] == evidenced and e["observed_on"] >= since)
    return DealState(
        key=deal, rep=rep, owner=owner, customer=row["customer"],
        customer_norm=normalise_customer(row["customer"]), category=row["category"], row=row,
        history=history, first_seen=history[0]["observed_on"], status=status, claimed=claimed,
        evidenced=evidenced, stage_since=since, extension=extension, listed=bool(listed_rows),
        dropped=dropped, last_transfer=last_transfer, members=set(keys),
        small=float(row["amount"]) < facts.threshold,
        lock_since=passed[0] if passed else None,
        lock_from=by_key[passed[1]][0]["rep"] if passed else "",
    )


# --------------------------------------------------------------------------------------------
# The replay from the whole history, and the book that keeps it between runs
# --------------------------------------------------------------------------------------------
def _versions(by_key: dict[str, list[dict]]) -> dict[str, list[tuple[dt.date, int]]]:
    pairs: dict[str, set[tuple[dt.date, int]]] = defaultdict(set)
    for rows in by_key.values():
        for r in rows:
            pairs[r["rep"]].add((r["observed_on"], r["file_version_id"]))
    return {rep: sorted(found) for rep, found in pairs.items()}


def _grouped(rows: list[dict], column: str) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        out[r[column]].append(r)
    return out


def _lists(store: Store, as_of: dt.date) -> tuple[dict[str, dict], set[str]]:
    """Each rep's current MPC list version, and the keys kept out for errors in those versions."""
    latest = store.latest_mpc_versions(as_of)
    return latest, store.held_keys({v["id"] for v in latest.values()})


def compute_states(store: Store, playbook: Playbook, as_of: dt.date) -> tuple[dict[str, DealState], list]:
    """Every deal as of ``as_of`` (by its id) and the later duplicate claims, replayed from the whole history."""
    book = DealBook(store, playbook, as_of)
    return book.states()


class DealBook:
    """The facts and every lock group's states for one store and date, refreshed in place."""

    def __init__(self, store: Store, playbook: Playbook, as_of: dt.date) -> None:
        self.ident = store_identity(store)
        self.as_of = as_of
        self.signature = _signature(playbook)
        self.rebuilds = 0  # how often the book was built from the whole history (for tests)
        self.recomputed = 0  # groups recomputed by the last refresh
        self._build(store, playbook)

    # --- from scratch ------------------------------------------------------------------------
    def _build(self, store: Store, playbook: Playbook) -> None:
        as_of = self.as_of
        rows = {t.name: store.rows(t, as_of) for t in TABLES}
        latest, held = _lists(store, as_of)
        by_key = _grouped(rows["opportunities"], "opp_key")
        self.latest = {rep: v["id"] for rep, v in latest.items()}
        self.held = held
        self.keys_of_version: dict[int, set[str]] = defaultdict(set)
        for r in rows["opportunities"]:
            self.keys_of_version[r["file_version_id"]].add(r["opp_key"])
        self.facts = Facts(as_of=as_of, by_key=by_key, transfers_of=_grouped(rows["transfers"], "deal"),
                           extensions_of=_grouped(rows["extensions"], "deal"), versions=_versions(by_key),
                           listed=set(), reps_with_lists=set(latest), rep_ids={p.id for p in playbook.reps},
                           threshold=playbook.small_deal_threshold)
        self.facts.listed = self._listed()
        self.groups: dict[Group, list[str]] = {}
        self.group_of: dict[str, Group] = {}
        self.rep_groups: dict[str, set[Group]] = defaultdict(set)
        for k in sorted(by_key, key=lambda k: (by_key[k][0]["observed_on"], by_key[k][0]["id"])):
            self._add_key(k)
        self.seen = {name: (max((r["id"] for r in found), default=0), len(found),
                            max((r["observed_on"] for r in found), default=dt.date.min))
                     for name, found in rows.items()}
        self.results = {g: group_states(keys, self.facts) for g, keys in self.groups.items()}
        self.recomputed = len(self.groups)
        self.rebuilds += 1

    def _listed(self) -> set[str]:
        listed = set(self.held)
        for version in self.latest.values():
            listed |= self.keys_of_version.get(version, set())
        return listed

    def _add_key(self, k: str) -> None:
        first = self.facts.by_key[k][0]
        g = group_of(first)
        self.groups.setdefault(g, []).append(k)
        self.group_of[k] = g
        self.rep_groups[first["rep"]].add(g)

    # --- a refresh: the rows recorded since, the groups they touch ------------------------------
    def refresh(self, store: Store, playbook: Playbook) -> None:
        """Bring the book up to what the store holds as of its date (rebuilt when it cannot be exact)."""
        if _signature(playbook) != self.signature:
            self.signature = _signature(playbook)
            self._build(store, playbook)
            return
        as_of, facts = self.as_of, self.facts
        new = {t.name: store.rows_after(t, as_of, self.seen[t.name][0]) for t in TABLES}
        if any(found and found[0]["observed_on"] < self.seen[name][2] for name, found in new.items()):
            self._build(store, playbook)  # an ingest replayed an earlier date: rows belong before others
            return
        counts = store.row_counts(TABLES, as_of)
        if any(counts[name] != self.seen[name][1] + len(found) for name, found in new.items()):
            self._build(store, playbook)  # a row committed behind one already read
            return
        latest, held = _lists(store, as_of)
        latest_ids = {rep: v["id"] for rep, v in latest.items()}
        dirty_reps = {rep for rep in set(latest_ids) | set(self.latest) if latest_ids.get(rep) != self.latest.get(rep)}
        dirty: set[Group] = set()
        for r in new["opportunities"]:
            k = r["opp_key"]
            if k not in facts.by_key:
                facts.by_key[k] = [r]
                self._add_key(k)
            else:
                facts.by_key[k].append(r)
            self.keys_of_version[r["file_version_id"]].add(k)
            dirty_reps.add(r["rep"])
        for rep in {r["rep"] for r in new["opportunities"]}:
            facts.versions[rep] = sorted(set(facts.versions.get(rep, [])) |
                                         {(r["observed_on"], r["file_version_id"]) for r in new["opportunities"]
                                          if r["rep"] == rep})
        for name, column, into in (("transfers", "deal", facts.transfers_of),
                                   ("extensions", "deal", facts.extensions_of)):
            for r in new[name]:
                into.setdefault(r[column], []).append(r)
                if r[column] in self.group_of:
                    dirty.add(self.group_of[r[column]])
        for k in held ^ self.held:
            if k in self.group_of:
                dirty.add(self.group_of[k])
        for rep in dirty_reps:
            dirty |= self.rep_groups.get(rep, set())
        self.latest, self.held = latest_ids, held
        facts.reps_with_lists = set(latest_ids)
        facts.listed = self._listed()
        for g in dirty:
            self.results[g] = group_states(self.groups[g], facts)
        self.recomputed = len(dirty)
        for name, found in new.items():
            max_id, count, last_day = self.seen[name]
            if found:
                max_id, last_day = max(max_id, max(r["id"] for r in found)), max(last_day, found[-1]["observed_on"])
            self.seen[name] = (max_id, count + len(found), last_day)

    def states(self) -> tuple[dict[str, DealState], list]:
        """Every deal by its id, in the replay's order, and the later duplicate claims.

        The states are shared with the book: a caller that changes one copies it first.
        """
        states: dict[str, DealState] = {}
        duplicates: list = []
        for g in self.groups:
            result = self.results[g]
            for s in result.states:
                states[s.key] = s
            duplicates += result.duplicates
        return states, duplicates


def _signature(playbook: Playbook) -> tuple:
    return playbook.small_deal_threshold, tuple(sorted(p.id for p in playbook.reps))


def store_identity(store: Store) -> tuple:
    """Which database ``store`` is: its URL and, for a SQLite file, the file itself (a new file
    at the same path is another store)."""
    url = store.engine.url
    ident: tuple = (url.render_as_string(hide_password=True),)
    if url.get_backend_name() == "sqlite" and url.database:
        try:
            st = os.stat(url.database)
            ident += (st.st_dev, st.st_ino)
        except OSError:
            pass
    return ident


_lock = threading.Lock()
_book: DealBook | None = None  # the last book of this process: one store and date at a time


def deal_states(store: Store, playbook: Playbook, as_of: dt.date) -> tuple[dict[str, DealState], list]:
    """Every deal as of ``as_of`` (by its id) and the later duplicate claims.

    Kept between calls in this process: the first call for a store and date replays the whole
    history, the next ones read what was recorded since and recompute the lock groups it touched.
    The states are shared with the book: a caller that changes one works on a copy
    (:func:`copy.copy`).
    """
    global _book
    with _lock:
        if _book is not None and _book.ident == store_identity(store) and _book.as_of == as_of:
            _book.refresh(store, playbook)
        else:
            _book = DealBook(store, playbook, as_of)
        return _book.states()


def forget() -> None:
    """Drop the kept states (the next call replays the whole history)."""
    global _book
    with _lock:
        _book = None


def copied(state: DealState) -> DealState:
    """A copy of a kept state that a caller may change."""
    return copy.copy(state)
