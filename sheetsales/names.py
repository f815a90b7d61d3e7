"""Normalising names so that the same customer is recognised however it is typed."""

from __future__ import annotations

import hashlib
import re
import unicodedata

# Company-form suffixes that do not distinguish customers (longest first).
_SUFFIXES = (
    "股份有限公司",
    "有限责任公司",
    "集团有限公司",
    "有限公司",
    "股份公司",
    "集团公司",
    "公司",
    "co.,ltd.",
    "co.,ltd",
    "co.ltd.",
    "co.ltd",
    "corporation",
    "limited",
    "company",
    "corp.",
    "corp",
    "inc.",
    "inc",
    "ltd.",
    "ltd",
    "gmbh",
    "llc",
    "co.",
)


def normalise_customer(name: str) -> str:
    """Case, full/half width, spaces, punctuation variants and company suffixes removed."""
    text = unicodedata.normalize("NFKC", name or "").casefold()
    text = re.sub(r"[\s\u3000]+", "", text)
    text = text.replace("(", "(").replace(")", ")")
    changed = True
    while changed and text:
        changed = False
        for suffix in _SUFFIXES:
            if text.endswith(suffix) and len(text) > len(suffix):
                text = text[: -len(suffix)].rstrip(",.")
                changed = True
                break
    return text


def opportunity_key(rep: str, customer: str, category: str) -> str:
    """A deal's identity: the rep, the normalised customer and the product category.

    It does not depend on the row, so re-sorting a list keeps every deal's identity.
    """
    raw = f"{rep}\x1f{normalise_customer(customer)}\x1f{category.strip().casefold()}"
    return f"{rep}-{hashlib.sha1(raw.encode('utf-8')).hexdigest()[:8]}"
