"""The referral view (客户关系图): who brought whom, and the business each referral led to.

A customer card's "Referred by" names the existing customer who introduced it. Every such link is a
row of ``referrals`` (``report --json`` key ``referrals``) with the referred customer's business
across all reps' lists: deals won and their amount, deals open and their amount. ``tree`` lays the
links out as a forest (each customer under the one who referred it; a customer nobody referred is
a root; a cycle is cut where it closes), and the summary draws that forest as boxes and elbow lines
(XlsxWriter text boxes) beside the table, so it prints and renders without images.
"""

from __future__ import annotations

from typing import Any

from ..i18n import t
from ..outputs.write import Col
from .care import current_cards
from .sections import Book, Inputs, PersonTable

KEY = "referrals"
FEEDBACK = (PersonTable("referrals", "rep"),)


def analyse(inputs: Inputs) -> dict[str, list[dict]]:
    cards = current_cards(inputs.store, inputs.as_of)["card_customers"]
    business: dict[str, dict[str, float]] = {}
    display: dict[str, str] = {}
    for d in inputs.ctx.deals.values():
        b = business.setdefault(d.customer_norm, {"won": 0, "won_amount": 0.0, "open": 0, "open_amount": 0.0})
        if d.status in ("won", "open"):
            b[d.status] += 1
            b[f"{d.status}_amount"] += d.amount
        display.setdefault(d.customer_norm, d.customer)
    for c in cards:
        display[c["customer_norm"]] = c["customer"]
    people = inputs.people
    edges = []
    for c in cards:
        if not c["referred_norm"] or c["referred_norm"] == c["customer_norm"]:
            continue
        b = business.get(c["customer_norm"], {})
        edges.append({
            "referrer": display.get(c["referred_norm"], c["referred_by"]), "referrer_norm": c["referred_norm"],
            "customer": c["customer"], "customer_norm": c["customer_norm"], "rep": c["rep"],
            "rep_name": people.get(c["rep"], {}).get("rep_name", c["rep"]),
            "won": int(b.get("won", 0)), "won_amount": b.get("won_amount", 0.0),
            "open": int(b.get("open", 0)), "open_amount": b.get("open_amount", 0.0),
        })
    edges.sort(key=lambda e: (e["referrer"], e["customer"], e["rep"]))
    return {"referrals": edges, "tree": tree(edges, display, business)}


def tree(edges: list[dict], display: dict[str, str], business: dict[str, dict[str, float]]) -> list[dict]:
    """The referral forest in drawing order: one record per node with its depth and parent."""
    children: dict[str, list[str]] = {}
    referred: set[str] = set()
    for e in edges:
        kids = children.setdefault(e["referrer_norm"], [])
        if e["customer_norm"] not in kids:
            kids.append(e["customer_norm"])
        referred.add(e["customer_norm"])
    nodes = list(dict.fromkeys([e["referrer_norm"] for e in edges] + [e["customer_norm"] for e in edges]))
    roots = [n for n in nodes if n not in referred]
    roots += [n for n in nodes if n in referred and n not in roots]  # members of a pure cycle come last
    out: list[dict] = []
    placed: set[str] = set()

    def walk(node: str, depth: int, parent: str) -> None:
        if node in placed:
            return
        placed.add(node)
        b = business.get(node, {})
        out.append({"customer": display.get(node, node), "depth": depth, "parent": display.get(parent, "") if parent else "",
                    "referred": len(children.get(node, [])), "won_amount": b.get("won_amount", 0.0),
                    "open_amount": b.get("open_amount", 0.0)})
        for kid in sorted(children.get(node, []), key=lambda k: display.get(k, k)):
            walk(kid, depth + 1, node)

    for root in roots:
        walk(root, 0, "")
    for r in out:
        r["label"] = "    " * r["depth"] + ("└─ " if r["depth"] else "") + r["customer"]
    return out


EDGE_COLS = (Col("referrer", "col.referrer", width=26), Col("customer", "col.referred", width=26, total="count"),
             Col("rep", "col.rep", width=8), Col("rep_name", "col.rep_name", width=10),
             Col("won", "col.won_deals", "int", 8, "sum"), Col("won_amount", "col.won_amount", "money", 14, "sum"),
             Col("open", "col.open_deals", "int", 8, "sum"), Col("open_amount", "col.open_amount", "money", 14, "sum"))
TREE_COLS = (Col("label", "col.referral_tree", width=40), Col("referred", "col.referred_count", "int", 10),
             Col("won_amount", "col.won_amount", "money", 14), Col("open_amount", "col.open_amount", "money", 14))

BOX_W, BOX_H, STEP_X, STEP_Y = 170, 34, 200, 46  # pixels


def draw_tree(ws: Any, nodes: list[dict], row: int, col: int, lang: str) -> None:
    """The forest as boxes joined by elbow lines, anchored at (``row``, ``col``)."""
    line = {"fill": {"color": "#7F7F7F"}, "line": {"none": True}}
    position: dict[str, tuple[int, int]] = {}
    for i, n in enumerate(nodes):
        x, y = n["depth"] * STEP_X, i * STEP_Y
        position[n["customer"]] = (x, y)
        text = (f"{n['customer']}\n{t('col.won_amount', lang)} {n['won_amount']:,.0f} · "
                f"{t('col.open_amount', lang)} {n['open_amount']:,.0f}")
        ws.insert_textbox(row, col, text, {
            "x_offset": x + 12, "y_offset": y, "width": BOX_W, "height": BOX_H,
            "font": {"name": "Microsoft YaHei", "size": 8, "bold": n["depth"] == 0},
            "align": {"vertical": "middle"},
            "fill": {"color": "#DDEBF7" if n["depth"] == 0 else "#FFFFFF"}, "line": {"color": "#1F4E78"},
            "object_position": 3,
        })
        if n["parent"] and n["parent"] in position:
            px, py = position[n["parent"]]
            mid_x = px + 12 + 16  # the vertical runs down from under the parent's left edge
            ws.insert_textbox(row, col, "", {"x_offset": mid_x, "y_offset": py + BOX_H, "width": 2,
                                             "height": y + BOX_H // 2 - py - BOX_H, **line, "object_position": 3})
            ws.insert_textbox(row, col, "", {"x_offset": mid_x, "y_offset": y + BOX_H // 2, "width": x + 12 - mid_x,
                                             "height": 2, **line, "object_position": 3})


def summary_sheets(book: Book, tables: dict[str, list[dict]], summary: Any) -> None:
    lang = book.lang
    w = book.sheet(t("sheet.referrals", lang))
    w.title(t("title.referrals", lang), book.subtitle)
    w.table("Referrals", EDGE_COLS, tables.get("referrals", []))
    w.heading(t("title.referral_tree", lang))
    top = w.row
    w.table("ReferralTree", TREE_COLS, tables.get("tree", []))
    w.finish()
    if tables.get("tree", []):
        draw_tree(w.ws, tables.get("tree", []), top, len(TREE_COLS) + 1, lang)


def feedback_sheets(book: Book, tables: dict[str, list[dict]], person: dict) -> None:
    lang = book.lang
    w = book.sheet(t("sheet.referrals", lang))
    w.title(t("title.referrals", lang), book.subtitle)
    w.table("MyReferrals", EDGE_COLS, tables.get("referrals", []))
    w.finish()

