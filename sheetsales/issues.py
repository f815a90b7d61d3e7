"""Problems in user data are values, not exceptions.

Every issue has a stable kebab-case ``code``, a ``severity`` and a position
``file!sheet!cell``. The message is rendered in the workspace language from the
catalogue below; ``params`` fill its placeholders. Tests compare the flat list
``[(cell, code)]``; the summary and the CLI print ``position  message``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

ERROR = "error"
WARNING = "warning"

# code -> (severity, zh-CN message, en message). Messages say what is wrong and how to fix it.
CATALOGUE: dict[str, tuple[str, str, str]] = {
    # --- the file as a whole -------------------------------------------------------------
    "not-a-workbook": (
        ERROR,
        "这不是 Excel 工作簿(.xlsx)。请在 Excel 中选择“另存为 → Excel 工作簿 (*.xlsx)”后重新保存。",
        "This is not an Excel workbook (.xlsx). In Excel choose Save As → Excel Workbook (*.xlsx) and save again.",
    ),
    "legacy-xls": (
        ERROR,
        "这是旧版 .xls 格式,无法读取。请另存为“Excel 工作簿 (*.xlsx)”。",
        "This is a legacy .xls file and cannot be read. Save it as Excel Workbook (*.xlsx).",
    ),
    "macro-workbook": (
        ERROR,
        "带宏的工作簿(.xlsm)不被接受。请另存为不带宏的“Excel 工作簿 (*.xlsx)”。",
        "Macro-enabled workbooks (.xlsm) are not accepted. Save it as a plain Excel Workbook (*.xlsx).",
    ),
    "encrypted-workbook": (
        ERROR,
        "工作簿设置了打开密码,系统无法读取。请在 文件 → 信息 → 保护工作簿 中删除密码后保存。",
        "The workbook is password-protected and cannot be read. Remove the password "
        "(File → Info → Protect Workbook) and save again.",
    ),
    "corrupt-workbook": (
        ERROR,
        "文件已损坏或未保存完整({detail})。请在 Excel 中打开并重新保存。",
        "The file is damaged or was not saved completely ({detail}). Open it in Excel and save it again.",
    ),
    "workbook-too-large": (
        ERROR,
        "文件解压后过大或压缩比异常({detail}),为安全起见未读取。请删除无关内容后重新保存。",
        "The file expands to an unsafe size or ratio ({detail}) and was not read for safety. "
        "Remove unrelated content and save again.",
    ),
    "unknown-workbook": (
        ERROR,
        "无法识别这个工作簿属于哪种模板。请使用系统下发的模板(sheetsales template)填写。",
        "Cannot tell which template this workbook is. Fill in a template handed out by sheetsales "
        "(sheetsales template).",
    ),
    "missing-meta": (
        WARNING,
        "模板的隐藏信息页 _sheetsales 不见了,已按文件夹和表名识别为 {kind}。请改用新模板。",
        "The template's hidden _sheetsales sheet is missing; recognised as {kind} from the folder and "
        "sheet names. Please switch to a fresh template.",
    ),
    "misfiled-workbook": (
        WARNING,
        "这个工作簿属于 {owner},却放在 {folder} 的文件夹里。已按模板记录归属于 {owner};请移回正确的文件夹。",
        "This workbook belongs to {owner} but sits in {folder}'s folder. It was attributed to {owner} "
        "as the template records; please move it back.",
    ),
    "foreign-workspace": (
        WARNING,
        "这个模板来自另一个工作区({workspace})。请使用本工作区下发的模板。",
        "This template comes from another workspace ({workspace}). Use a template handed out by this workspace.",
    ),
    "unknown-rep": (
        ERROR,
        "人员编号 {rep} 不在作战手册(playbook.xlsx)的团队表中。请先让管理员添加此人。",
        "Person {rep} is not in the team sheet of playbook.xlsx. Ask a manager to add them first.",
    ),
    "missing-week": (
        ERROR,
        "无法确定周报属于哪一周。请在“周次”填写如 2026-W47 的 ISO 周。",
        "Cannot tell which week this report is for. Fill in the week as an ISO week such as 2026-W47.",
    ),
    "file-unreadable": (
        ERROR,
        "文件无法读取({detail})。如果它正被他人独占打开,请关闭后重新保存。",
        "The file could not be read ({detail}). If someone holds it open exclusively, close it and save again.",
    ),
    "file-incomplete": (
        WARNING,
        "文件检查了 {tries} 次({seconds} 秒)仍不完整(还在写入或被截断),已按现状读取。请在 Excel 中打开并重新保存。",
        "The file was still incomplete after {tries} checks over {seconds} s (still being written, or "
        "truncated); it was read as it is. Open it in Excel and save it again.",
    ),
    "sheet-too-large": (
        ERROR,
        "工作表“{sheet}”的内容延伸到 {cell}(第 {row} 行、第 {col} 列),超过上限({limit}),为保护系统未读取。"
        "多半是远处某个单元格有内容或格式:选中表格下方(和右侧)所有多余的行和列,右键 → 删除,然后保存。",
        "Sheet '{sheet}' reaches out to {cell} (row {row}, column {col}), beyond the limit ({limit}); it was "
        "not read, to protect the system. Usually a far-away cell holds a value or a format: select every "
        "spare row below the table (and column to its right), right-click → Delete, and save.",
    ),
    "too-many-rows": (
        ERROR,
        "工作表“{sheet}”有 {rows} 行数据,超过上限 {limit} 行(作战手册“设置”中的 max_rows)。"
        "请把已结束的商机移出或删除空行后保存;如确需更多行,请管理员提高上限。",
        "Sheet '{sheet}' holds {rows} rows, more than the limit of {limit} (max_rows in the playbook's "
        "settings). Move closed deals out or delete empty rows and save; if you really need more, ask a "
        "manager to raise the limit.",
    ),
    "too-many-cells": (
        ERROR,
        "工作簿共有 {cells} 个单元格,超过上限 {limit}(作战手册“设置”中的 max_cells)。请删除无关的工作表或内容后保存。",
        "The workbook holds {cells} cells, more than the limit of {limit} (max_cells in the playbook's "
        "settings). Remove unrelated sheets or content and save.",
    ),
    "reader-crashed": (
        ERROR,
        "上次读取这个文件时系统中断了(程序崩溃或被终止)。为保护其他人的数据,它在内容改变之前被跳过。"
        "请在 Excel 中打开、检查并重新保存;如果再次发生,请把文件交给管理员。",
        "The system stopped while reading this file last time (a crash or a kill). To protect everyone "
        "else's saves it is skipped until its content changes. Open it in Excel, check it and save it "
        "again; if it happens again, hand the file to a manager.",
    ),
    "file-failed": (
        ERROR,
        "处理这个文件时发生内部错误({error}:{detail})。本文件未被记录,其他人的文件不受影响;"
        "在内容改变之前不会再读取它。请检查最近修改的单元格后重新保存;如果问题持续,请联系管理员(详情见日志)。",
        "An internal error occurred while processing this file ({error}: {detail}). Nothing of it was "
        "recorded and everyone else's files were; it is skipped until its content changes. Check the cells "
        "you changed last and save again; if it persists, tell a manager (details are in the log).",
    ),
    "foreign-workbook": (
        ERROR,
        "这个工作簿属于 {owner},却出现在 {folder} 的文件夹里。每个人只能提交自己的工作簿:"
        "本文件已存档,但不会被采用。请把它从文件夹中删除;交接商机请由主管在决策表中转派。",
        "This workbook belongs to {owner} but was saved in {folder}'s folder. Everyone submits only their "
        "own workbooks: it was archived and will not be applied. Remove it from the folder; to hand deals "
        "over, a supervisor reassigns them in the decisions workbook.",
    ),
    "outside-folder": (
        ERROR,
        "这个文件直接放在收件箱(inbox)里,不在任何人的文件夹中,所以不属于任何人:已存档,但不会被采用。"
        "请把它移到本人的文件夹 inbox/<编号>/ 中(隐藏信息页记载的是 {owner})。",
        "This file sits directly in the inbox, outside every person's folder, so it belongs to nobody: it was "
        "archived and will not be applied. Move it into its owner's folder, inbox/<id>/ (its hidden sheet "
        "names {owner}).",
    ),
    "duplicate-workbook": (
        ERROR,
        "文件夹里有两份{kind}:“{canonical}”和“{copy}”。系统只采用“{canonical}”;"
        "“{copy}”(例如“另存为”的副本)在删除之前被忽略。请删除多余的那一份。",
        "The folder holds two {kind} workbooks: '{canonical}' and '{copy}'. Only '{canonical}' counts; "
        "'{copy}' (a Save As copy, for example) is ignored until you remove it.",
    ),
    # --- sheets and columns --------------------------------------------------------------
    "missing-sheet": (
        ERROR,
        "缺少工作表“{sheet}”。请不要删除或重命名模板中的工作表。",
        "Sheet '{sheet}' is missing. Do not delete or rename the template's sheets.",
    ),
    "missing-column": (
        ERROR,
        "缺少列“{column}”(应在第 {row} 行的表头中)。请不要删除或重命名模板的列标题。",
        "Column '{column}' is missing from the header in row {row}. Do not delete or rename the "
        "template's column headers.",
    ),
    "unknown-column": (
        WARNING,
        "列标题“{header}”不是模板中的列,已忽略其内容。如果是改名造成的,请恢复原名。",
        "Column header '{header}' is not a template column; its contents were ignored. If it was "
        "renamed, restore its original name.",
    ),
    # --- cells -----------------------------------------------------------------------------
    "formula-in-cell": (
        ERROR,
        "“{column}”应填写数值,这里却是公式。请改为直接输入数值(复制 → 选择性粘贴 → 数值)。",
        "'{column}' expects a value but holds a formula. Type the value itself (Copy → Paste Special → Values).",
    ),
    "missing-value": (
        ERROR,
        "“{column}”是必填项,不能为空。",
        "'{column}' is required and cannot be empty.",
    ),
    "wrong-type": (
        ERROR,
        "“{column}”应为{expected},却填了“{value}”。",
        "'{column}' expects {expected} but holds '{value}'.",
    ),
    "text-date": (
        ERROR,
        "“{column}”的日期“{value}”是文本,不是日期。请按 yyyy-mm-dd 重新输入,让 Excel 识别为日期。",
        "'{column}' holds the date '{value}' as text. Type it again as yyyy-mm-dd so that Excel stores a date.",
    ),
    "negative-amount": (
        ERROR,
        "“{column}”不能为负数({value})。",
        "'{column}' cannot be negative ({value}).",
    ),
    "out-of-range": (
        ERROR,
        "“{column}”的值 {value} 超出允许范围 {low}–{high}。",
        "'{column}' value {value} is outside the allowed range {low}–{high}.",
    ),
    "not-a-number": (
        ERROR,
        "“{column}”的值“{value}”不是一个有限的数字(NaN 或无穷大)。请重新输入数字。",
        "'{column}' holds '{value}', which is not a finite number (NaN or infinity). Type the number again.",
    ),
    "amount-out-of-range": (
        ERROR,
        "“{column}”的金额 {value} 超过上限 {limit}。请检查是否多输了零;如果金额确实如此,请管理员在作战手册中提高上限。",
        "'{column}' amount {value} is above the limit of {limit}. Check for extra zeros; if the amount is "
        "right, ask a manager to raise the limit in the playbook.",
    ),
    "impossible-date": (
        ERROR,
        "“{column}”的日期“{value}”不存在或超出 Excel 能显示的范围(1900-01-01 至 9999-12-31)。请重新输入日期。",
        "'{column}' date '{value}' does not exist or is outside what Excel can show (1900-01-01 to "
        "9999-12-31). Type the date again.",
    ),
    "date-implausible": (
        WARNING,
        "“{column}”的日期 {value} 距今超过 {years} 年,请核实是否输错了年份。",
        "'{column}' date {value} is more than {years} years away; check the year.",
    ),
    "unknown-stage": (
        ERROR,
        "销售阶段“{value}”不在作战手册中。请从下拉列表选择:{allowed}。",
        "Sales stage '{value}' is not in the playbook. Pick one from the drop-down: {allowed}.",
    ),
    "unknown-category": (
        ERROR,
        "产品类别“{value}”不在作战手册中。请从下拉列表选择:{allowed}。",
        "Product category '{value}' is not in the playbook. Pick one from the drop-down: {allowed}.",
    ),
    "unknown-choice": (
        ERROR,
        "“{column}”的值“{value}”无效。请从下拉列表选择:{allowed}。",
        "'{column}' value '{value}' is not valid. Pick one from the drop-down: {allowed}.",
    ),
    "duplicate-row": (
        ERROR,
        "与第 {first_row} 行重复({keys}相同)。请合并为一行。",
        "Duplicates row {first_row} (same {keys}). Merge them into one row.",
    ),
    "date-outside-week": (
        WARNING,
        "日期 {value} 不在本周 {week}({start} 至 {end})之内。请把它记到对应那一周的周报里。",
        "Date {value} is outside week {week} ({start} to {end}). Record it in that week's report.",
    ),
    "log-entry-changed": (
        WARNING,
        "已记录的日志不能修改或删除:{date} 的记录“{content}”与上次保存不同。原记录已保留为证据。",
        "Recorded log entries cannot be changed or deleted: the entry of {date} '{content}' differs "
        "from the last save. The original is kept as evidence.",
    ),
    "log-rewritten": (
        WARNING,
        "已记录的日志不能修改或删除:第 {row} 行 {date} 的原记录“{original}”,这次保存为“{rewritten}”(— 表示删除)。"
        "原记录继续有效,改动已作为证据保存。请恢复原内容;新的工作请另起一行。",
        "Recorded log rows cannot be changed or deleted: row {row} of {date}, recorded as '{original}', now reads "
        "'{rewritten}' (— means deleted). The original stays in force and the change is kept as evidence. "
        "Restore the original; record new work on a new row.",
    ),
    # --- the playbook ----------------------------------------------------------------------
    "duplicate-id": (
        ERROR,
        "编号“{value}”重复(第一次出现在第 {first_row} 行)。编号必须唯一。",
        "Id '{value}' is used twice (first in row {first_row}). Ids must be unique.",
    ),
    "unknown-person": (
        ERROR,
        "“{column}”中的“{value}”不是团队表中的人员或团队。",
        "'{value}' in '{column}' is not a person or team of the team sheet.",
    ),
    "bad-period": (
        ERROR,
        "期间“{value}”无法识别。请写成 2026、2026-Q4 或 2026-11。",
        "Period '{value}' is not recognised. Write it as 2026, 2026-Q4 or 2026-11.",
    ),
    "stage-order": (
        ERROR,
        "阶段序号必须从 1 开始连续编号,却是 {value}。",
        "Stage numbers must run 1, 2, 3, … without gaps; found {value}.",
    ),
    "unknown-supervisor": (
        ERROR,
        "上级编号“{value}”不是团队表中的人员。请填写团队表中已有的编号,或留空(最高负责人)。",
        "Supervisor id '{value}' is not a person of the team sheet. Use an id from the team sheet, or leave "
        "it empty for the top of the organisation.",
    ),
    "supervisor-cycle": (
        ERROR,
        "上级关系形成了循环:{cycle}。每个人的上级链必须终止于一个没有上级的人(例如总监)。",
        "The supervisor chain goes round in a circle: {cycle}. Every chain must end at someone without a "
        "supervisor (the director, for example).",
    ),
    # --- the lost-deal report (lost.py) ---------------------------------------------------
    "lost-report-not-lost": (
        WARNING,
        "丢单报告写的是“{customer}”({category}),但这个商机在 MPC 一览表中是“{status}”,不是已丢单。"
        "请先在 MPC 一览表中把状态改为已丢单,或删除这一行。",
        "The lost-deal report names '{customer}' ({category}), but that deal is '{status}' in the MPC list, "
        "not lost. Mark it lost in the MPC list first, or delete this row.",
    ),
    "help-unknown-request": (
        WARNING,
        "没有编号为 {request} 的求助,这条解答不计入。求助编号格式为“求助人编号-序号”(如 R01-3),见你的反馈表“可解答的求助”。",
        "There is no help request {request}; this answer counts nowhere. A request number is <requester id>-<no.> "
        "(e.g. R01-3), as listed under Requests you could answer in your feedback.",
    ),
    "help-effective-without-answer": (
        WARNING,
        "求助 {request} 的“方法有效”填了 {person},但 {person} 没有解答这个求助,求助仍未关闭。请填写给出有效方法的同事的人员编号。",
        "Request {request} marks {person} as Method effective, but {person} has not answered it, so it stays open. "
        "Put the person id of the colleague whose answer worked.",
    ),
    "lost-report-unknown-deal": (
        WARNING,
        "丢单报告中的“{customer}”({category})不是你 MPC 一览表中的商机。请从下拉列表选择客户,名称和类别要与 MPC 一览表一致。",
        "'{customer}' ({category}) in the lost-deal report is not a deal of your MPC list. Pick the customer "
        "from the drop-down; name and category must match the MPC list.",
    ),
    "playbook-rejected-first": (
        ERROR,
        "作战手册有错误,本次未启用;此前还没有任何有效版本,在修正之前沿用内置的默认设置。请修正上面列出的单元格。",
        "The playbook has errors and was not applied; no valid version exists yet, so the built-in defaults "
        "stay in force until it is fixed. Fix the cells listed above.",
    ),
    "playbook-rejected": (
        ERROR,
        "作战手册有错误,本次未启用;仍沿用上一个有效版本(ingest {version})。请修正上面列出的单元格。",
        "The playbook has errors and was not applied; the last good version (ingest {version}) "
        "stays in force. Fix the cells listed above.",
    ),
}


@dataclass(frozen=True)
class Issue:
    """One problem found in a user's file, addressed to a cell."""

    code: str
    file: str = ""
    sheet: str = ""
    cell: str = ""
    params: Mapping[str, Any] = field(default_factory=dict, hash=False, compare=False)
    rep: str = ""
    severity: str = ""

    def __post_init__(self) -> None:
        if self.code not in CATALOGUE:
            raise KeyError(f"unknown issue code {self.code!r}")
        if not self.severity:
            object.__setattr__(self, "severity", CATALOGUE[self.code][0])

    @property
    def position(self) -> str:
        return "!".join(p for p in (self.file, self.sheet, self.cell) if p)

    def message(self, lang: str = "zh-CN") -> str:
        _, zh, en = CATALOGUE[self.code]
        template = en if lang == "en" else zh
        try:
            return template.format(**{k: _fmt(v) for k, v in self.params.items()})
        except (KeyError, IndexError):
            return template

    def render(self, lang: str = "zh-CN") -> str:
        return f"{self.position}  [{self.code}] {self.message(lang)}"

    def as_record(self, lang: str = "zh-CN") -> dict[str, Any]:
        return {
            "rep": self.rep,
            "file": self.file,
            "sheet": self.sheet,
            "cell": self.cell,
            "position": self.position,
            "code": self.code,
            "severity": self.severity,
            "message": self.message(lang),
        }


def _fmt(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def has_errors(issues: Iterable[Issue]) -> bool:
    return any(i.severity == ERROR for i in issues)


def flat(issues: Iterable[Issue]) -> list[tuple[str, str]]:
    """``[(cell, code)]``: the shape tests compare."""
    return [(i.cell, i.code) for i in issues]
