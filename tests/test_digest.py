"""The week's HTML digest: the week's figures, alerts per person, and HTML an e-mail client accepts."""

from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser

import openpyxl
import pytest
from conftest import WEEK1, deal, save_mpc

from sheetsales.analyse import Summary
from sheetsales.digest import digest_path, render_digest, write_digest
from sheetsales.ingest import ingest
from sheetsales.report import build_summary
from sheetsales.specs import TARGETS_TABLE
from sheetsales.workspace import Workspace

THURSDAY = WEEK1 + dt.timedelta(days=3)


@pytest.fixture
def summary(workspace: Workspace) -> Summary:
    """DOMAIN.md's worked example plus a deal at 商务谈判, with monthly targets."""
    wb = openpyxl.load_workbook(workspace.playbook_path)
    wb[TARGETS_TABLE.zh].append(["R01", "2026-11", 300_000])
    wb[TARGETS_TABLE.zh].append(["R02", "2026-11", 2_000_000])
    wb.save(workspace.playbook_path)
    save_mpc(workspace, "R01", [deal("大庆石化机械厂", "方案设计", 1_000_000, dt.date(2026, 11, 20)),
                                deal("天津港务集团", "方案确认", 500_000, dt.date(2027, 1, 20))])
    save_mpc(workspace, "R02", [deal("青岛啤酒设备公司", "商务谈判", 2_000_000, dt.date(2026, 11, 30))])
    ingest(workspace, WEEK1)
    summary = build_summary(workspace, THURSDAY)
    summary.alerts = [  # what the stage rules produce; rendered whatever they hold
        {"code": "stage-overdue", "severity": "error", "deal": "R01-1", "people": ["R01", "S01"], "rep": "R01",
         "customer": "大庆石化机械厂", "message": "已超过时限"},
        {"code": "no-activity", "severity": "info", "deal": "R02-1", "people": ["R02"], "rep": "R02",
         "customer": "<script>alert('x')</script>", "message": "Tom & Jerry <b>"},
    ]
    return summary


class Page(HTMLParser):
    """The elements and attributes of a page, and its text."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        if data.strip():
            self.text.append(data.strip())


def parse(html: str) -> Page:
    page = Page()
    page.feed(html)
    return page


def test_the_digest_holds_the_weeks_figures(summary: Summary) -> None:
    html = render_digest(summary)
    text = " ".join(parse(html).text)
    assert "销售周报摘要 2026-W45" in text and "截至 2026-11-05" in text
    assert "3,500,000" in text  # the pipeline: 1,000,000 + 500,000 + 2,000,000
    assert "2,050,000" in text  # weighted: 200,000 + 250,000 + 1,600,000
    for stage, amount, weighted in (("3. 方案设计", "1,000,000", "200,000"), ("5. 方案确认", "500,000", "250,000"),
                                    ("7. 商务谈判", "2,000,000", "1,600,000")):
        assert re.search(rf"{re.escape(stage)}\s+1\s+{amount}\s+{weighted}", text), stage
    # forecast against target: November holds 200,000 + 1,600,000 against 2,300,000
    assert re.search(r"2026-11\s+1,800,000\s+2,300,000\s+-500,000", text)
    assert "1,800,000 / 2,300,000" in text
    # what changed this week: three new deals
    assert re.search(r"新增\s+3", text)


def test_alerts_are_listed_per_person(summary: Summary) -> None:
    text = " ".join(parse(render_digest(summary)).text)
    # S01 (the supervisor) sees the alert too, after the people ahead of them in the team sheet
    assert re.search(r"王经理 S01 · 华东组 错误 大庆石化机械厂 已超过时限", text)
    assert re.search(r"张伟 R01 · 华东组 错误 大庆石化机械厂 已超过时限", text)
    assert text.index("S01 ·") < text.index("R01 ·") < text.index("R02 ·")
    assert "提示" in text  # an info alert


def test_the_digest_is_e_mail_safe_html(summary: Summary) -> None:
    html = render_digest(summary)
    page = parse(html)
    tags = {tag for tag, _ in page.tags}
    assert not tags & {"script", "style", "link", "img", "iframe", "form", "object"}
    assert not any(k.startswith("on") or k == "class" for _, attrs in page.tags for k in attrs)
    assert not re.search(r"https?://", html)  # nothing to fetch
    styled = [attrs for tag, attrs in page.tags if tag in ("td", "th", "h1", "h2", "p")]
    assert styled and all("style" in attrs for attrs in styled)
    assert "<script>alert" not in html and "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    assert "Tom &amp; Jerry &lt;b&gt;" in html
    assert html.startswith("<!DOCTYPE html>") and '<meta charset="utf-8">' in html


def test_english_and_empty_digest(workspace_en: Workspace) -> None:
    summary = build_summary(workspace_en, WEEK1)
    text = " ".join(parse(render_digest(summary)).text)
    assert "Sales digest 2026-W45" in text
    assert "No alerts this week." in text and "Nothing changed since last week." in text
    assert "No data issues to fix." in text


def test_the_digest_is_written_atomically_to_reports(summary: Summary, workspace: Workspace) -> None:
    path = write_digest(summary, workspace.reports)
    assert path == workspace.reports / "digest-2026-W45.html" == digest_path(workspace.reports, summary)
    assert "3,500,000" in path.read_text(encoding="utf-8")
    assert sorted(p.name for p in workspace.reports.iterdir() if p.name.startswith(".")) == []
