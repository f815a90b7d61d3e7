"""The MPC review as the weekly meeting reads it: one row per deal, what changed as columns.

``Summary.mpc_review`` keeps one record per change (new, advanced, moved back, won, lost, amount
changed, signing date changed, gone, lock passed), which ``report --json`` prints; the summary's
MPC review sheet shows them pivoted: per deal the stage, amount and signing date before and after,
the deal's amount always, and its status this week.
"""

from __future__ import annotations

from ..i18n import t

# The status a deal's changes give it this week, strongest first.
STATUS_CHANGES = ("won", "lost", "gone", "lock_passed", "new")


def by_deal(changes: list[dict], lang: str) -> list[dict]:
    """One row per deal of the change records, in their order (by rep, customer)."""
    rows: dict[str, dict] = {}
    for c in changes:
        row = rows.get(c["deal"])
        if row is None:
            row = rows[c["deal"]] = {
                "deal": c["deal"], "rep": c["rep"], "rep_name": c["rep_name"], "customer": c["customer"],
                "category": c["category"], "amount": c.get("amount"), "stage_before": "", "stage_after": "",
                "amount_before": None, "amount_after": None, "date_before": None, "date_after": None,
                "kinds": [], "status_label": "",
            }
        kind = c["change"]
        row["kinds"].append(kind)
        if kind in ("advanced", "moved_back"):
            row["stage_before"], row["stage_after"] = c["before"], c["after"]
        elif kind == "new":
            row["stage_after"] = c["after"]
        elif kind == "gone":
            row["stage_before"] = c["before"]
        elif kind == "amount_changed":
            row["amount_before"], row["amount_after"] = c["before"], c["after"]
        elif kind == "date_changed":
            row["date_before"], row["date_after"] = c["before"] or None, c["after"] or None
        elif kind == "lock_passed":
            row["lock"] = f"{c['before']} → {c['after']}"
    out = []
    for row in rows.values():
        kinds = row.pop("kinds")
        status = next((k for k in STATUS_CHANGES if k in kinds), "")
        label = t(f"change.{status}", lang) if status else t("status.open", lang)
        if status == "lock_passed":
            label += f" ({row.pop('lock')})"
        row.pop("lock", None)
        row["status_label"] = label
        row["change_label"] = "、".join(t(f"change.{k}", lang) for k in kinds) if lang != "en" else ", ".join(
            t(f"change.{k}", lang) for k in kinds)
        out.append(row)
    return out
