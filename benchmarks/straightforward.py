"""The straightforward approach a user would write instead of sheetsales (the benchmark's baseline).

``pandas.read_excel`` (openpyxl engine) of every MPC list and weekly report in the inbox, concatenated;
the funnel (count, amount and weighted amount per stage, for the company, each region, team and rep),
the weighted forecast by month against the team targets and the open-deals table, written with
openpyxl (``DataFrame.to_excel``). The stage probabilities, the team and the targets come from the
playbook's sheets, as a user would read them.

It applies none of sheetsales' rules: no milestone check of the claimed stage (an over-claimed deal
counts at the stage typed), no duplicate-claim lock, no small-deal threshold, no confiscations, no
per-cell validation (an unreadable amount or date is dropped by ``to_numeric``/``to_datetime``), a
Save As copy is skipped by its name and a damaged file is skipped. So its figures are close to, not
equal to, the summary's: it prints its company totals as JSON so the runner can show how close.

    python benchmarks/straightforward.py WORKSPACE OUT.xlsx --as-of 2026-11-20
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import zipfile
from pathlib import Path

import pandas as pd

HEADER = 2  # the templates' header row is row 3


def read_sheet(path: Path, sheet: str) -> pd.DataFrame | None:
    try:
        frame = pd.read_excel(path, sheet_name=sheet, header=HEADER, engine="openpyxl")
    except (zipfile.BadZipFile, ValueError, KeyError, OSError) as exc:
        print(f"skipped {path}: {exc}", file=sys.stderr)
        return None
    frame.columns = [str(c).removesuffix(" *") for c in frame.columns]  # required columns are starred
    return frame


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("workspace")
    ap.add_argument("out")
    ap.add_argument("--as-of", type=dt.date.fromisoformat, default=dt.date.today())
    args = ap.parse_args()
    root = Path(args.workspace)
    playbook = root / "playbook.xlsx"
    stages, team, targets = (read_sheet(playbook, s) for s in ("销售阶段", "团队", "目标"))
    assert stages is not None and team is not None and targets is not None, "unreadable playbook"
    stages.columns = ["order", "stage", "stage_en", "probability", "limit", "state", *stages.columns[6:]]
    team = team.iloc[:, :4]
    team.columns = ["rep", "name", "region", "team"]
    targets = targets.iloc[:, :3]
    targets.columns = ["group", "month", "target"]

    lists, logs = [], []
    for path in sorted((root / "inbox").glob("*/*.xlsx")):
        if "副本" in path.stem or path.name.startswith((".", "~$")):
            continue
        if path.name.startswith("MPC一览表"):
            frame = read_sheet(path, "MPC一览表")
            if frame is not None:
                lists.append(frame.assign(rep=path.parent.name))
        elif path.name.startswith("工作周报"):
            frame = read_sheet(path, "工作日志")
            if frame is not None:
                logs.append(frame.assign(rep=path.parent.name))
    deals = pd.concat(lists, ignore_index=True)
    deals = deals.rename(columns={"客户名称": "customer", "产品类别": "category", "预计合同金额": "amount",
                                  "预计签约日期": "sign_date", "销售阶段": "stage", "状态": "status"})
    deals = deals[deals["customer"].notna()]
    deals["amount"] = pd.to_numeric(deals["amount"], errors="coerce")
    deals["sign_date"] = pd.to_datetime(deals["sign_date"], errors="coerce")
    deals = deals[(deals["status"] == "跟进中") & deals["amount"].gt(0)]
    deals = deals.merge(stages[["stage", "order", "probability"]], on="stage", how="inner")
    deals = deals.merge(team, on="rep", how="left")
    deals["weighted"] = deals["amount"] * deals["probability"]
    deals["company"] = "*"

    funnel = pd.concat([
        deals.groupby([level, "order", "stage"]).agg(count=("amount", "size"), amount=("amount", "sum"),
                                                     weighted=("weighted", "sum")).reset_index()
        .rename(columns={level: "group"}).assign(level=level)
        for level in ("company", "region", "team", "rep")], ignore_index=True)

    first = pd.Timestamp(args.as_of.year, args.as_of.month, 1)
    deals["month"] = deals["sign_date"].where(deals["sign_date"] >= first, first).dt.strftime("%Y-%m")
    window = pd.date_range(first, periods=12, freq="MS").strftime("%Y-%m")
    forecast = pd.concat([
        deals[deals["month"].isin(window)].groupby([level, "month"])["weighted"].sum().reset_index()
        .rename(columns={level: "group"}).assign(level=level)
        for level in ("company", "region", "team", "rep")], ignore_index=True)
    forecast = forecast.merge(targets.astype({"month": str}), on=["group", "month"], how="left")
    forecast["gap"] = forecast["weighted"] - forecast["target"]

    table = deals.sort_values(["weighted", "amount"], ascending=False)[
        ["rep", "name", "team", "region", "customer", "category", "stage", "probability", "amount", "weighted",
         "sign_date"]]
    log = pd.concat(logs, ignore_index=True) if logs else pd.DataFrame(columns=["rep", "工时", "费用"])
    for column in ("工时", "费用"):
        log[column] = pd.to_numeric(log[column], errors="coerce")
    activity = log.groupby("rep").agg(rows=("工时", "size"), hours=("工时", "sum"), cost=("费用", "sum")).reset_index()

    with pd.ExcelWriter(args.out, engine="openpyxl") as writer:
        funnel.to_excel(writer, sheet_name="漏斗", index=False)
        forecast.to_excel(writer, sheet_name="预测", index=False)
        table.to_excel(writer, sheet_name="商机", index=False)
        activity.to_excel(writer, sheet_name="工作日志", index=False)
    company = funnel[funnel["level"] == "company"]
    print(json.dumps({"open_deals": int(company["count"].sum()), "amount": float(company["amount"].sum()),
                      "weighted": round(float(company["weighted"].sum()), 2),
                      "by_stage": {int(r.order): int(r.count) for r in company.itertuples()},
                      "lists": len(lists), "weekly_reports": len(logs), "log_rows": len(log)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
