"""Deal states kept between runs equal the replay from the whole history.

Random sequences of saved MPC list versions (claims on a few shared customers, so lock groups have
several claims; won and lost rows; rows kept out for errors; unreadable versions), transfers,
extensions, settlements and days are recorded in a real SQLite store; after every step the states
the process keeps (:func:`dealstates.deal_states`) must equal a replay from scratch
(:func:`dealstates.compute_states`), and a replay of an earlier date must be exact.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import pytest
from conftest import WEEK1

from sheetsales.method import dealstates, rules
from sheetsales.method.playbook import Playbook
from sheetsales.reading.names import normalise_customer, opportunity_key
from sheetsales.storage.store import AlreadyRecorded, Store, held_rows, opportunities, sqlite_url

CUSTOMERS = ["甲公司", "乙机械有限公司", "丙精工", "丁重工", "戊科技"]
CATEGORIES = ["数控机床", "激光切割"]
PEOPLE = ["R01", "R02", "R03", "S01"]


def flat(result: tuple[dict, list]) -> tuple[list, list]:
    """States and duplicates as comparable plain values (rows by their ids)."""
    states, duplicates = result

    def plain(s: dealstates.DealState) -> dict:
        d = dict(vars(s))
        d.update(members=sorted(s.members), history=[r["id"] for r in s.history], row=s.row["id"])
        return d

    return [(k, plain(s)) for k, s in states.items()], [(r["id"], s.key) for r, s in duplicates]


class Sim:
    """Records random steps straight into a store, the way ingest and settle record them."""

    def __init__(self, store: Store, playbook: Playbook, seed: int) -> None:
        self.store, self.playbook, self.rng = store, playbook, random.Random(seed)
        self.day = WEEK1
        self.stage: dict[str, int] = {}
        self.versions = 0

    def ingest_id(self, conn) -> int:  # noqa: ANN001
        return Store.add_ingest(conn, self.day)

    def save(self, rep: str, day: dt.date | None = None, readable: bool = True) -> None:
        rng, day = self.rng, day or self.day
        pairs = rng.sample([(c, k) for c in CUSTOMERS for k in CATEGORIES], rng.randint(0, 5))
        self.versions += 1
        with self.store.transaction() as conn:
            fv = Store.add_file_version(conn, ingest_id=self.ingest_id(conn), observed_on=day,
                                        path=f"{rep}/mpc.xlsx", sha256=f"{self.versions:064d}", size=1,
                                        archive="a", kind="mpc", rep=rep, week=None, readable=readable)
            if not readable:
                return
            rows, held = [], []
            for i, (customer, category) in enumerate(pairs):
                key = opportunity_key(rep, customer, category)
                if rng.random() < 0.1:  # kept out for an error: its last good values stay
                    held.append({"file_version_id": fv, "observed_on": day, "rep": rep, "opp_key": key, "row": i + 2})
                    continue
                stage = max(1, min(8, self.stage.get(key, 1) + rng.choice([-1, 0, 0, 1, 1, 2])))
                self.stage[key] = stage
                status = rng.choices(["open", "won", "lost"], [8, 1, 1])[0]
                milestones = ",".join(str(m) for m in range(1, stage) if rng.random() < 0.8)
                rows.append({
                    "file_version_id": fv, "observed_on": day, "rep": rep, "opp_key": key, "row": i + 2,
                    "customer": customer, "customer_norm": normalise_customer(customer), "category": category,
                    "model": "X", "amount": rng.choice([20_000.0, 300_000.0, 1_000_000.0]),
                    "sign_date": day + dt.timedelta(days=rng.randint(-10, 90)), "stage": stage,
                    "win_rate": None, "status": status, "milestones": milestones, "q_answered": 9,
                })
            Store.add_rows(conn, opportunities, rows)
            Store.add_rows(conn, held_rows, held)

    def transfer(self) -> None:
        states, _ = dealstates.compute_states(self.store, self.playbook, self.day)
        if not states:
            return
        s = states[self.rng.choice(sorted(states))]
        reason = self.rng.choice(["confiscated", "returned", "reassigned", "kept", "closed"])
        to = s.owner if reason == "closed" else s.rep if reason == "returned" else self.rng.choice(PEOPLE)
        try:
            with self.store.transaction() as conn:
                Store.add_transfer(conn, ingest_id=self.ingest_id(conn), observed_on=self.day, deal=s.key,
                                   from_person=s.owner, to_person=to, reason=reason, stage=s.evidenced)
        except AlreadyRecorded:  # the same change twice in a row: the store refuses it, as for ingest
            pass

    def extend(self) -> None:
        states, _ = dealstates.compute_states(self.store, self.playbook, self.day)
        if states:
            s = states[self.rng.choice(sorted(states))]
            with self.store.transaction() as conn:
                Store.add_extension(conn, observed_on=self.day, deal=s.key, stage=s.evidenced,
                                    days=self.rng.randint(3, 20), reason="r", by_person="S01")

    def settle(self) -> None:
        with self.store.transaction() as conn:
            ingest_id = self.ingest_id(conn)
        try:
            rules.settle(self.store, ingest_id, self.playbook, self.day)
        except AlreadyRecorded:
            pass

    def step(self) -> str:
        rng = self.rng
        kind = rng.choices(["save", "transfer", "extend", "settle", "day", "unreadable", "replayed"],
                           [10, 2, 1, 2, 2, 1, 0.3])[0]
        if kind == "save":
            self.save(rng.choice(PEOPLE[:3]))
        elif kind == "unreadable":
            self.save(rng.choice(PEOPLE[:3]), readable=False)
        elif kind == "replayed":  # an ingest of an earlier date: its rows belong before others
            self.save(rng.choice(PEOPLE[:3]), day=self.day - dt.timedelta(days=rng.randint(1, 20)))
        elif kind == "transfer":
            self.transfer()
        elif kind == "extend":
            self.extend()
        elif kind == "settle":
            self.settle()
        else:
            self.day += dt.timedelta(days=rng.randint(1, 12))
        return kind


@pytest.mark.parametrize("seed", range(6))
def test_kept_states_equal_the_replay_after_every_step(tmp_path: Path, playbook: Playbook, seed: int) -> None:
    store = Store(sqlite_url(tmp_path / f"s{seed}.db"))
    dealstates.forget()
    sim = Sim(store, playbook, seed)
    incremental = 0
    try:
        for _ in range(70):
            kind = sim.step()
            kept = dealstates.deal_states(store, playbook, sim.day)
            book = dealstates._book
            assert flat(kept) == flat(dealstates.compute_states(store, playbook, sim.day)), kind
            if book is not None and book.recomputed < len(book.groups):
                incremental += 1
            if sim.rng.random() < 0.15:  # a replay of an earlier date is exact, and so is the way back
                earlier = sim.day - dt.timedelta(days=sim.rng.randint(1, 30))
                assert flat(dealstates.deal_states(store, playbook, earlier)) == \
                    flat(dealstates.compute_states(store, playbook, earlier))
        assert incremental >= 10  # most steps recomputed only the groups they touched
    finally:
        store.close()
        dealstates.forget()


def test_a_save_recomputes_only_the_groups_it_touches(tmp_path: Path, playbook: Playbook) -> None:
    store = Store(sqlite_url(tmp_path / "s.db"))
    dealstates.forget()
    sim = Sim(store, playbook, 1)
    try:
        for rep in ("R01", "R02", "R03", "R01", "R02"):
            sim.save(rep)
        dealstates.deal_states(store, playbook, sim.day)
        book = dealstates._book
        rebuilds = book.rebuilds
        sim.save("R03")
        states = dealstates.deal_states(store, playbook, sim.day)
        assert book.rebuilds == rebuilds  # refreshed in place, not replayed
        touched = {dealstates.group_of(r) for rows in book.facts.by_key.values() for r in rows[:1] if r["rep"] == "R03"}
        assert book.recomputed == len(touched) < len(book.groups)
        assert flat(states) == flat(dealstates.compute_states(store, playbook, sim.day))
        # A row recorded for an earlier date (an ingest replaying a past day) rebuilds the book.
        sim.save("R01", day=sim.day - dt.timedelta(days=3))
        states = dealstates.deal_states(store, playbook, sim.day)
        assert book.rebuilds == rebuilds + 1
        assert flat(states) == flat(dealstates.compute_states(store, playbook, sim.day))
    finally:
        store.close()
        dealstates.forget()


def test_a_settlement_never_changes_the_kept_states(tmp_path: Path, playbook: Playbook) -> None:
    """settle() works on copies: what it decides in between is not in the states kept for the next run."""
    store = Store(sqlite_url(tmp_path / "s.db"))
    dealstates.forget()
    sim = Sim(store, playbook, 3)
    try:
        for rep in ("R01", "R02", "R03"):
            sim.save(rep)
        before = flat(dealstates.deal_states(store, playbook, sim.day))
        sim.day += dt.timedelta(days=200)  # everything open is overdue
        kept = dealstates.deal_states(store, playbook, sim.day)
        snapshot = flat(kept)
        sim.settle()
        assert flat(kept) == snapshot  # the objects handed out before were not changed
        assert flat(dealstates.deal_states(store, playbook, sim.day)) == \
            flat(dealstates.compute_states(store, playbook, sim.day))
        assert before  # there were deals to confiscate
    finally:
        store.close()
        dealstates.forget()
