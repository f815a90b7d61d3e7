"""The figures of the last report are reused only while nothing they come from has changed."""

from __future__ import annotations

import datetime as dt
import os

import pytest
from conftest import WEEK1, deal, save_mpc

from sheetsales.analyses import analyse as analyse_mod
from sheetsales.analyses import figures
from sheetsales.analyses.analyse import analyse
from sheetsales.outputs.report import build_summary, run_report
from sheetsales.service.workspace import Workspace
from sheetsales.storage.ingest import ingest, load_playbook


@pytest.fixture
def analyses(monkeypatch) -> list[dt.date]:  # noqa: ANN001
    """The dates the summary was analysed for (not taken from the kept figures)."""
    calls: list[dt.date] = []
    real = analyse_mod.analyse

    def counting(store, playbook, as_of, lang):  # noqa: ANN001, ANN202
        calls.append(as_of)
        return real(store, playbook, as_of, lang)

    monkeypatch.setattr(analyse_mod, "analyse", counting)
    return calls


def fresh(ws: Workspace, as_of: dt.date) -> dict:
    store = ws.store()
    try:
        playbook, _ = load_playbook(ws, store, as_of)
        return analyse(store, playbook, as_of, ws.lang).to_json()
    finally:
        store.close()


def test_an_unchanged_store_reuses_the_figures_and_any_change_computes_them(workspace: Workspace,
                                                                             analyses: list[dt.date]) -> None:
    save_mpc(workspace, "R01", [deal("甲公司", "方案设计"), deal("乙公司", "需求确认")])
    ingest(workspace, WEEK1)
    first = run_report(workspace, WEEK1).summary.to_json()
    assert analyses == [WEEK1]
    assert build_summary(workspace, WEEK1).to_json() == first == fresh(workspace, WEEK1)
    run_report(workspace, WEEK1)
    assert analyses == [WEEK1]  # nothing recorded since: the kept figures
    assert ingest(workspace, WEEK1).new == 0  # an ingest that finds nothing new changes nothing
    run_report(workspace, WEEK1)
    assert analyses == [WEEK1]
    # Another date, then the first again: each computed for its own date, and exact.
    later = WEEK1 + dt.timedelta(days=40)
    assert build_summary(workspace, later).to_json() == fresh(workspace, later)
    assert build_summary(workspace, WEEK1).to_json() == first
    assert analyses == [WEEK1, later, WEEK1]
    # A save is a new record: computed again.
    day2 = WEEK1 + dt.timedelta(days=1)
    save_mpc(workspace, "R01", [deal("甲公司", "方案设计", amount=2_000_000)])
    ingest(workspace, day2)
    analyses.clear()
    after = build_summary(workspace, day2).to_json()
    assert analyses == [day2] and after == fresh(workspace, day2)
    assert after != fresh(workspace, WEEK1)


def test_the_playbook_file_settings_or_a_damaged_file_compute_the_figures(workspace: Workspace,
                                                                          analyses: list[dt.date]) -> None:
    save_mpc(workspace, "R01", [deal("甲公司", "方案设计")])
    ingest(workspace, WEEK1)
    build_summary(workspace, WEEK1)
    assert analyses == [WEEK1]
    st = workspace.playbook_path.stat()
    os.utime(workspace.playbook_path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    build_summary(workspace, WEEK1)
    assert analyses == [WEEK1, WEEK1]
    (workspace.root / figures.FIGURES).write_bytes(b"not a pickle")
    assert build_summary(workspace, WEEK1).to_json() == fresh(workspace, WEEK1)
    assert analyses == [WEEK1, WEEK1, WEEK1]
    build_summary(workspace, WEEK1)
    assert analyses == [WEEK1, WEEK1, WEEK1]  # kept again after the damaged file was replaced


class _Planted:
    """Unpickling this would run code: it must never be unpickled."""

    def __reduce__(self):  # noqa: ANN204
        return (os.system, ("touch planted-ran",))


def test_a_pickle_planted_in_the_workspace_is_never_unpickled(workspace: Workspace, analyses: list[dt.date],
                                                             tmp_path, monkeypatch) -> None:  # noqa: ANN001
    import pickle

    save_mpc(workspace, "R01", [deal("甲公司", "方案设计")])
    ingest(workspace, WEEK1)
    build_summary(workspace, WEEK1)
    kept = (workspace.root / figures.FIGURES).read_bytes()
    assert kept.startswith(figures.MAGIC)
    monkeypatch.chdir(tmp_path)
    # Unsigned, and signed with another key: both refused, the figures computed.
    payload = pickle.dumps(_Planted())
    for forged in (payload, figures.MAGIC + b"\0" * 32 + payload, kept[:-1] + bytes([kept[-1] ^ 1])):
        (workspace.root / figures.FIGURES).write_bytes(forged)
        analyses.clear()
        assert build_summary(workspace, WEEK1).to_json() == fresh(workspace, WEEK1)
        assert analyses == [WEEK1]
        assert not (tmp_path / "planted-ran").exists()
