"""Normalising names so that the same customer is recognised however it is typed.

Two customers are one when their names are equal after :func:`normalise_customer`: case, full and
half width, spaces, punctuation and brackets do not count, nor do legal forms — in English and the
other languages of ``cleanco``'s term list (Co., Ltd., Company Limited, Inc., Corp., LLC, GmbH,
S.A., …, applied until none is left) and in Chinese and Japanese (有限公司, 股份有限公司, 集团,
株式会社 before or after the name, a bracketed (中国)).

Names that are not equal but differ by a character or two (a typo, a homophone) are found by
:func:`similar_names`, near-linearly, through a deletion-neighbourhood index: the rules warn about
them (``possible-duplicate``) without merging them.
"""

from __future__ import annotations

import functools
import hashlib
import re
import unicodedata
from collections import defaultdict
from collections.abc import Hashable, Iterable

from cleanco.clean import prepare_default_terms, remove_accents, strip_punct
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

# --- legal forms -------------------------------------------------------------------------------
# cleanco's terms (every country's legal forms), as word tuples; "group" mirrors 集团 below.
_TERMS: frozenset[tuple[str, ...]] = frozenset(tuple(parts) for _, parts in prepare_default_terms()) | {
    ("group",), ("kabushiki", "kaisha"), ("yugen", "kaisha"), ("godo", "kaisha")}
_TERM_SIZES = sorted({len(t) for t in _TERMS}, reverse=True)
_LEADING = frozenset({"the"})

# Chinese and Japanese legal forms (longest first), at the end of a name; the Japanese ones also
# at its start (前株 / 後株: 株式会社トヨタ and トヨタ株式会社 are one company).
_CJK_SUFFIXES = (
    "集团股份有限公司", "集團股份有限公司", "股份有限公司", "有限责任公司", "有限責任公司", "集团有限公司",
    "集團有限公司", "有限公司", "股份公司", "集团公司", "集團公司", "总公司", "總公司", "公司", "集团", "集團",
    "株式会社", "有限会社", "合同会社",
)
_CJK_PREFIXES = ("株式会社", "有限会社", "合同会社")
# A bracketed country of a local subsidiary: 西门子(中国)有限公司 is 西门子 to a sales team in China.
_COUNTRY = re.compile(r"\((?:中国|中國|china|prc|p\.r\.c\.?)\)")
_BRACKETS = str.maketrans({"【": "(", "】": ")", "〔": "(", "〕": ")", "[": "(", "]": ")", "{": "(", "}": ")",
                           "〈": "(", "〉": ")", "《": "(", "》": ")"})
# "Co.,Ltd" and "Co.Ltd" typed without spaces: split so that the words are recognised.
_JOINED = re.compile(r"(?<=,)(?=[^\s,])|(?<=\.)(?=[^\W\d_]{2})")
_LATIN = re.compile(r"[a-z]")


def _words_without_legal_forms(text: str) -> str:
    """Legal-form words removed from the end (and "the" from the start), until none is left."""
    words = text.split()
    norm = [strip_punct(remove_accents(w)).strip("()&+/'’") for w in words]
    keep = [i for i, n in enumerate(norm) if n]  # punctuation-only tokens ("&", "-") do not block
    words, norm = [words[i] for i in keep], [norm[i] for i in keep]
    changed = True
    while changed and len(norm) > 1:
        changed = False
        for size in _TERM_SIZES:
            if len(norm) > size and tuple(norm[-size:]) in _TERMS:
                del words[-size:], norm[-size:]
                changed = True
                break
        if not changed and norm[0] in _LEADING and len(norm) > 1:
            del words[0], norm[0]
            changed = True
    return " ".join(words)


def _without_cjk_forms(text: str) -> str:
    changed = True
    while changed:
        changed = False
        stripped = text.rstrip(" ,.·-()")
        for suffix in _CJK_SUFFIXES:
            if stripped.endswith(suffix) and len(stripped) > len(suffix):
                text, changed = stripped[: -len(suffix)], True
                break
        for prefix in _CJK_PREFIXES:
            if text.startswith(prefix) and len(text) > len(prefix):
                text, changed = text[len(prefix):], True
    return text


@functools.lru_cache(maxsize=65536)
def normalise_customer(name: str) -> str:
    """The customer's name as compared: case, width, spaces, punctuation and legal forms removed."""
    text = unicodedata.normalize("NFKC", name or "").casefold().translate(_BRACKETS)
    text = _COUNTRY.sub(" ", re.sub(r"\(\s+|\s+\)", lambda m: m.group(0).strip(), text))
    text = _JOINED.sub(" ", text)
    previous = None
    while text != previous:
        previous = text
        if _LATIN.search(text):
            text = _words_without_legal_forms(text)
        text = _without_cjk_forms(text.strip())
    out = _alnum(text)
    return out or _alnum(unicodedata.normalize("NFKC", name or "").casefold())


def normalise_text(text: str) -> str:
    """Free text (a daily-log entry) prepared for looking names up in it: width, case, no spaces or
    punctuation. Legal forms stay: a normalised customer name is found inside it."""
    return _alnum(unicodedata.normalize("NFKC", text or "").casefold())


def _alnum(text: str) -> str:
    """Letters and digits only; accents of Latin letters dropped (Nestlé is Nestle)."""
    out = []
    for c in text:
        if unicodedata.category(c)[0] not in "LN":
            continue
        if "\u00c0" <= c < "\u0250":
            c = "".join(d for d in unicodedata.normalize("NFKD", c) if not unicodedata.combining(d))
        out.append(c)
    return "".join(out)


def opportunity_key(rep: str, customer: str, category: str) -> str:
    """A deal's identity: the rep, the normalised customer and the product category.

    It does not depend on the row, so re-sorting a list keeps every deal's identity.
    """
    raw = f"{rep}\x1f{normalise_customer(customer)}\x1f{category.strip().casefold()}"
    return f"{rep}-{hashlib.sha1(raw.encode('utf-8')).hexdigest()[:8]}"


# --- names that differ by a character or two ----------------------------------------------------
def _is_wide(c: str) -> bool:
    """A CJK ideograph, kana or hangul: one such character carries a word's worth of meaning."""
    o = ord(c)
    return (0x2E80 <= o <= 0x9FFF) or (0xAC00 <= o <= 0xD7AF) or (0xF900 <= o <= 0xFAFF) or o >= 0x20000


def allowed_distance(norm: str) -> int:
    """How many edits a normalised name may differ by and still look like the same customer.

    Short names never: 华为 and 华润, ACME and ACNE are different companies. A Chinese name (one
    ideograph is a word's worth) needs 6 characters for one edit and 12 for two; a Latin name 5
    for one and 10 for two.
    """
    n = len(norm)
    if any(_is_wide(c) for c in norm):
        return 2 if n >= 12 else 1 if n >= 6 else 0
    return 2 if n >= 10 else 1 if n >= 5 else 0


_NUMERALS = re.compile(r"[0-9〇零一二三四五六七八九十百千两]+")


def _numbers(norm: str) -> list[str]:
    """The numbers in a name: 第一机床厂 and 第二机床厂, 客户101 and 客户102 are different customers."""
    return _NUMERALS.findall(norm)


@functools.lru_cache(maxsize=1024)
def _segments(length: int, parts: int) -> list[tuple[int, int]]:
    """(start, length) of ``parts`` near-equal consecutive segments of a string of ``length``."""
    base, extra = divmod(length, parts)
    out, start = [], 0
    for i in range(parts):
        size = base + (1 if i >= parts - extra else 0)
        out.append((start, size))
        start += size
    return out


def similar_names(items: Iterable[tuple[Hashable, Hashable, str]]) -> list[tuple[Hashable, Hashable, int]]:
    """Pairs of items of one block whose normalised names differ by 1 to :func:`allowed_distance` edits.

    ``items`` are (id, block, normalised name); equal names are not a pair (they are one customer),
    nor are names whose numbers differ; the edits allowed are those of the shorter name. Near-linear:
    only names that share an index entry are compared. Every name is indexed under the strings left
    after deleting one of its characters (two names one edit apart share one); names allowed two
    edits are also indexed by the three segments they split into (two names two edits apart share a
    segment at nearly the same place: pigeonhole).
    """
    names: dict[tuple[Hashable, str], list[Hashable]] = defaultdict(list)
    for ident, block, norm in items:
        names[(block, norm)].append(ident)
    entries = [(block, norm, k, idents) for (block, norm), idents in names.items()
               if (k := allowed_distance(norm))]
    pairs = []
    for i, j, d in _near_entries(tuple((block, norm, k) for block, norm, k, _ in entries)):
        pairs += [(p, q, d) for p in entries[i][3] for q in entries[j][3]]
    return sorted(pairs, key=lambda t: (str(t[0]), str(t[1])))


# The last search, for the same names in the same order: a watcher's next save usually changes amounts,
# stages and dates, not customers' names, and the search is the costliest rule at 500 reps (1.4 s).
_LAST: list[tuple[tuple, list[tuple[int, int, int]]]] = []


def _near_entries(entries: tuple[tuple[Hashable, str, int], ...]) -> list[tuple[int, int, int]]:
    """(earlier entry, later entry, distance) of the entries (block, normalised name, edits allowed)
    within the edits allowed of both, their numbers equal; kept for the same entries."""
    if _LAST and _LAST[0][0] == entries:
        return _LAST[0][1]
    found: dict[int, set[int]] = defaultdict(set)  # entry -> earlier entries that may be near it
    # One edit: deletion neighbourhoods.
    deletions: dict[Hashable, dict[str, list[int]]] = defaultdict(dict)
    for n, (block, norm, _) in enumerate(entries):
        index = deletions[block]
        for i in range(len(norm) + 1):
            variant = norm[:i] + norm[i + 1:]
            bucket = index.get(variant)
            if bucket is None:
                index[variant] = [n]
            elif bucket[-1] != n:
                found[n].update(bucket)
                bucket.append(n)
    # Two edits: three segments of the earlier name, one of which the edits leave alone; where it can
    # be in the later name follows from the segment's place and the lengths (PassJoin's
    # multi-match-aware selection: segment i starts within i of its place and within 2 - i of it
    # shifted by the length difference).
    segments: dict[tuple[Hashable, int, int, str], list[int]] = defaultdict(list)
    for n, (block, norm, k) in enumerate(entries):
        if k < 2:
            continue
        near, size_r = found[n], len(norm)
        for length in range(size_r - 2, size_r + 3):
            delta = size_r - length
            for i, (start, size) in enumerate(_segments(length, 3)):
                low = max(0, start - i, start + delta - (2 - i))
                high = min(size_r - size, start + i, start + delta + (2 - i))
                for pos in range(low, high + 1):
                    bucket = segments.get((block, length, i, norm[pos:pos + size]))
                    if bucket:
                        near.update(bucket)
        for i, (start, size) in enumerate(_segments(size_r, 3)):
            segments[(block, size_r, i, norm[start:start + size])].append(n)
    near_pairs = []
    for j, near in found.items():
        if not near:
            continue
        b = entries[j]
        near_list = list(near)
        # One call compares the name with all its candidates (rapidfuzz, in C).
        distances = process.cdist([b[1]], [entries[i][1] for i in near_list], scorer=Levenshtein.distance,
                                  score_cutoff=b[2], dtype="int32")[0]
        for x in ((distances > 0) & (distances <= b[2])).nonzero()[0].tolist():
            a, d = entries[near_list[x]], int(distances[x])
            if d <= a[2] and _numbers(a[1]) == _numbers(b[1]):
                near_pairs.append((near_list[x], j, d))
    _LAST[:] = [(entries, near_pairs)]
    return near_pairs
