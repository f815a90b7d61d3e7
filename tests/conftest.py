"""Shared fixtures: a real workspace in a temporary folder, and LibreOffice when it is needed."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

import pytest

from sheetsales.method.playbook import Playbook
from sheetsales.service.workspace import Workspace, init_workspace

# A Monday; the tests' first week.
WEEK1 = dt.date(2026, 11, 2)


@pytest.fixture(autouse=True)
def _own_workspace_list(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test's own per-user list of workspaces (``sheetsales check`` finds a copy's workspace by
    it): no test writes to the real one, and none sees another test's workspaces."""
    monkeypatch.setenv("SHEETSALES_REGISTRY", str(tmp_path_factory.mktemp("registry") / "workspaces.json"))


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    """A fresh zh-CN workspace with the default playbook (team D01, S01, R01-R03)."""
    return init_workspace(tmp_path / "ws", lang="zh-CN", as_of=WEEK1, sample=True)


@pytest.fixture
def workspace_en(tmp_path: Path) -> Workspace:
    return init_workspace(tmp_path / "ws_en", lang="en", as_of=WEEK1, sample=True)


@pytest.fixture
def playbook() -> Playbook:
    return Playbook()


def soffice_path() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


@pytest.fixture
def soffice() -> str:
    """The LibreOffice binary; the test fails instead of skipping under SHEETSALES_REQUIRE_SOFFICE=1."""
    path = soffice_path()
    if path is None:
        if os.environ.get("SHEETSALES_REQUIRE_SOFFICE") == "1":
            pytest.fail("soffice (LibreOffice) is required but not on PATH")
        pytest.skip("soffice (LibreOffice) not installed")
    return path


# --- helpers: what a rep does --------------------------------------------------------------
def mpc_path(ws: Workspace, rep: str) -> Path:
    from sheetsales.reading.templates import template_filename

    return ws.inbox / rep / template_filename("mpc", ws.lang, rep)


def save_mpc(ws: Workspace, rep: str, rows: list[dict]) -> Path:
    """The rep retypes their MPC list and saves it."""
    from sheetsales.reading.fill import fill_table
    from sheetsales.reading.specs import MPC_TABLE

    return fill_table(mpc_path(ws, rep), MPC_TABLE, rows)


def deal(customer: str, stage: str = "方案设计", amount: float = 1_000_000, sign: dt.date = dt.date(2026, 12, 15),
         category: str = "数控机床", milestones: int | None = None, **extra: object) -> dict:
    """An MPC row; the milestones of the stages before the claimed one are ticked unless
    ``milestones`` says how many are (counting from the first)."""
    order = Playbook().resolve("stage", stage) or 1
    met = order - 1 if milestones is None else milestones
    ticks = {f"m{n}": "✓" for n in range(1, met + 1)}
    return {"customer": customer, "stage": stage, "amount": amount, "sign_date": sign, "category": category,
            **ticks, **extra}
