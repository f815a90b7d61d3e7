"""The week's HTML digest: the week's figures, alerts per person, and HTML an e-mail client accepts."""

from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser
from pathlib import Path

import openpyxl
import pytest
from conftest import WEEK1, deal, save_mpc

from sheetsales.analyses.analyse import Summary
from sheetsales.outputs.digest import digest_path, render_digest, write_digest
from sheetsales.outputs.report import build_summary
from sheetsales.reading.specs import TARGETS_TABLE
from sheetsales.service.workspace import Workspace
from sheetsales.storage.ingest import ingest

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
        assert re.search(rf"{re.escape(stage)}\s+█*\s*1\s+{amount}\s+{weighted}", text), stage  # █: its bar
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


# --- what a reader sees first; rendered in a real browser engine and printed by LibreOffice -----------
LONG_CUSTOMER = "内蒙古鄂尔多斯市伊金霍洛旗能源化工装备制造集团有限责任公司"
LONG_CUSTOMER_EN = "International Heavy Machinery Manufacturing and Export Corporation of the Northern Provinces"


def _at_risk_summary(summary: Summary, lang: str = "zh-CN") -> Summary:
    """The summary with deals confiscated (at risk) and long names and messages, in ``lang``."""
    import copy

    s = copy.deepcopy(summary)
    s.lang = lang
    base = next(o for o in s.opportunities if o["rep"] == "R01")
    risk = s.sections.setdefault("overview", {}).setdefault("risk", [])
    for n, customer in enumerate((LONG_CUSTOMER, LONG_CUSTOMER_EN, "甲")):
        s.opportunities.append({**base, "deal": f"R01-x{n}", "customer": customer, "status": "confiscated",
                                "amount": 123_456_789.0 + n, "weighted": 98_765_432.0})
        risk.append({"deal": f"R01-x{n}", "confiscated": True})
    s.alerts += [{"code": "duplicate-claim", "severity": "warning", "deal": "R01-x0", "people": ["R01"], "rep": "R01",
                  "customer": LONG_CUSTOMER, "message": LONG_CUSTOMER_EN * 2}]
    return s


def test_the_digest_leads_with_the_headline_and_the_deals_at_risk(summary: Summary) -> None:
    text = " ".join(parse(render_digest(_at_risk_summary(summary))).text)
    first = ["本月赢单", "本季度赢单", "本年赢单", "加权金额", "覆盖率", "风险商机", "已收归主管", "待修正数据问题",
             "2026-11 预测 / 目标", "风险最高的商机", "销售漏斗"]
    assert [text.index(label) for label in first] == sorted(text.index(label) for label in first)
    at_risk = text[text.index("风险最高的商机"):text.index("销售漏斗")]
    # the confiscated deals, most at risk first, each with who holds it, its stage and date, why and amount
    assert at_risk.index(LONG_CUSTOMER) < at_risk.index(LONG_CUSTOMER_EN) < at_risk.index("甲 ")
    assert f"{LONG_CUSTOMER} 张伟 · 方案确认 · 2027-01-20 已收归主管;撞单 123,456,789" in at_risk
    assert "甲 张伟 · 方案确认 · 2027-01-20 已收归主管 123,456,791" in at_risk
    # the open deals' totals stay with the funnel
    assert "未结商机 3 个,商机总额 3,500,000,加权 2,050,000。" in text


def test_english_digest_without_risk(workspace_en: Workspace) -> None:
    text = " ".join(parse(render_digest(build_summary(workspace_en, WEEK1))).text)
    assert text.index("Won this month") < text.index("Deals most at risk") < text.index("No deal is at risk.")


CHROMIUM = ("chromium-headless-shell", "chromium", "chromium-browser", "google-chrome")


@pytest.fixture
def chromium() -> str:
    """Headless Chromium (Debian: chromium-headless-shell); the test fails instead of skipping under
    SHEETSALES_REQUIRE_CHROMIUM=1, as CI runs it."""
    import os
    import shutil

    path = next((p for p in map(shutil.which, CHROMIUM) if p), None)
    if path is None:
        if os.environ.get("SHEETSALES_REQUIRE_CHROMIUM") == "1":
            pytest.fail("headless Chromium is required but not on PATH (apt-get install chromium-headless-shell)")
        pytest.skip("headless Chromium not installed")
    return path


# Measures the laid-out page: elements reaching past the window's right edge, and every text that
# wraps to fewer than three characters a line (a column squeezed to a character per line). The
# test adds it to a copy of the page; the digest itself has no script.
MEASURE = """<script>
(function () {
  var out = {viewport: window.innerWidth, page: document.documentElement.scrollWidth, overflow: [], squeezed: [],
             texts: 0};
  var all = document.body.getElementsByTagName("*");
  for (var i = 0; i < all.length; i++) {
    var el = all[i], box = el.getBoundingClientRect();
    if (el.tagName !== "SCRIPT" && box.width > 0 && box.right > window.innerWidth + 0.5) {
      out.overflow.push(el.tagName + " " + el.textContent.replace(/\\s+/g, " ").trim().slice(0, 40));
    }
    for (var c = el.firstChild; c; c = c.nextSibling) {
      var text = c.nodeType === 3 ? c.textContent.replace(/\\s+/g, " ").trim() : "";
      if (text.length < 2 || el.tagName === "SCRIPT") continue;
      out.texts += 1;
      var range = document.createRange(), lines = {};
      range.selectNodeContents(c);
      var rects = range.getClientRects();
      for (var j = 0; j < rects.length; j++) if (rects[j].width > 0) lines[Math.round(rects[j].bottom)] = 1;
      var count = Object.keys(lines).length;
      if (count > 1 && text.length / count < 3) out.squeezed.push(text.slice(0, 40) + ": " + count + " lines");
    }
  }
  document.body.setAttribute("data-measure", JSON.stringify(out));
})();
</script>"""


def measure(chromium: str, html: str, width: int, tmp: Path) -> dict:
    import html as html_module
    import json
    import subprocess

    page = tmp / f"measure-{width}.html"
    page.write_text(html.replace("</body>", MEASURE + "</body>"), encoding="utf-8")
    done = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars",
                           f"--user-data-dir={tmp / 'chromium-profile'}", f"--window-size={width},1500",
                           "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=180)
    found = re.search(r'data-measure="([^"]*)"', done.stdout)
    assert found, done.stderr[-2000:]
    return json.loads(html_module.unescape(found.group(1)))


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_the_digest_fits_a_desktop_and_a_phone_in_chromium(summary: Summary, chromium: str, tmp_path: Path,
                                                           lang: str) -> None:
    html = render_digest(_at_risk_summary(summary, lang))
    for width in (760, 375):  # an e-mail client's reading pane; a phone
        found = measure(chromium, html, width, tmp_path)
        assert found["viewport"] == width and found["texts"] > 50
        assert found["page"] <= width and found["overflow"] == [], (width, found["overflow"])
        assert found["squeezed"] == [], (width, found["squeezed"])


def test_the_measurement_catches_a_squeezed_column(summary: Summary, chromium: str, tmp_path: Path) -> None:
    """The check above can fail: a table of ten nowrap numbers beside a text column overflows a phone
    and squeezes the text to a character or two per line."""
    numbers = "".join(f'<td style="white-space:nowrap">{n:,}</td>' for n in range(10_000_000, 10_000_010))
    html = render_digest(summary).replace(
        "</body>", f"<table><tr><td>{LONG_CUSTOMER}</td>{numbers}</tr></table></body>")
    found = measure(chromium, html, 375, tmp_path)
    assert found["page"] > 375 and found["overflow"]
    assert any(s.startswith(LONG_CUSTOMER[:20]) for s in found["squeezed"])


def test_libreoffice_prints_the_digest_within_the_page(summary: Summary, soffice: str, tmp_path: Path) -> None:
    """As an e-mail client prints it: LibreOffice (Writer/Web) lays the page out for A4; every word
    lies within the paper, none is squeezed to a character a line, and the first page leads with the
    headline and the deals at risk."""
    import shutil
    import subprocess

    from sheetsales.outputs import soffice as lo

    src = tmp_path / "digest.html"
    html = render_digest(_at_risk_summary(summary))
    src.write_text(html, encoding="utf-8")
    single = {x for x in parse(html).text if len(x) == 1}  # values one character long (the customer 甲)
    pdf = lo.convert(src, "pdf", tmp_path / "pdf")
    pdftotext = shutil.which("pdftotext")
    assert pdftotext, "pdftotext (poppler-utils) is needed"
    bbox = subprocess.run([pdftotext, "-bbox-layout", str(pdf), "-"], capture_output=True, text=True,
                          timeout=120, check=True).stdout
    pages = re.findall(r'<page width="([\d.]+)" height="([\d.]+)">(.*?)</page>', bbox, re.S)
    assert pages
    lines = []
    for width, _height, body in pages:
        words = re.findall(r'<word xMin="([\d.]+)" yMin="[\d.]+" xMax="([\d.]+)" yMax="[\d.]+">([^<]*)</word>', body)
        assert words and all(float(x0) >= 0 and float(x1) <= float(width) for x0, x1, _ in words)
        lines += [" ".join(re.findall(r">([^<]*)</word>", line)) for line in re.findall(r"<line[^>]*>(.*?)</line>",
                                                                                          body, re.S)]
    squeezed = [line for line in lines if len(line.replace(" ", "")) == 1 and line.strip() not in single]
    assert squeezed == []
    first = " ".join(re.findall(r">([^<]*)</word>", pages[0][2]))
    assert first.index("本月赢单") < first.index("风险最高的商机") < first.index(LONG_CUSTOMER_EN.split()[0])
