"""Customer names: one customer however its legal form is typed, and near-identical names found fast."""

from __future__ import annotations

import random
import time

import pytest
from rapidfuzz.distance import Levenshtein

from sheetsales.reading.names import allowed_distance, normalise_customer, opportunity_key, similar_names

# Pairs that are one customer: equal after normalisation.
SAME = [
    # English legal forms
    ("Acme Tooling Co., Ltd.", "Acme Tooling Co Ltd"),
    ("Acme Tooling Co.,Ltd.", "Acme Tooling"),
    ("Acme Tooling Co.Ltd", "ACME TOOLING"),
    ("Acme Tooling Company Limited", "Acme Tooling Co., Ltd."),
    ("Acme Tooling Co.", "Acme Tooling Co"),
    ("Acme Tooling Company", "Acme Tooling"),
    ("Acme Inc.", "Acme, Inc"),
    ("Acme Incorporated", "Acme"),
    ("Acme Corp.", "Acme Corporation"),
    ("Acme LLC", "Acme L.L.C."),
    ("Acme Ltd.", "Acme Limited"),
    ("Acme PLC", "Acme"),
    ("The Acme Company", "Acme Co"),
    ("Acme Group Co., Ltd.", "Acme Co., Ltd."),
    ("Acme & Co.", "Acme"),
    ("Acme-Tooling", "Acme Tooling"),
    ("Siemens (China) Co., Ltd.", "Siemens AG"),
    # other languages, through cleanco's terms
    ("Acme GmbH", "Acme"),
    ("Müller Maschinenbau GmbH & Co. KG", "Muller Maschinenbau"),
    ("Acme S.A.", "Acme SA"),
    ("Nestlé S.A.", "Nestle"),
    ("Acme S.p.A.", "Acme"),
    ("Acme S.r.l.", "Acme SRL"),
    ("Acme B.V.", "Acme N.V."),
    ("Acme Sp. z o.o.", "Acme"),
    ("Acme Pte. Ltd.", "Acme Pty Ltd"),
    ("Acme K.K.", "Acme Kabushiki Kaisha"),
    ("Acme Ltda.", "Acme"),
    # Chinese and Japanese
    ("上海精工机械有限公司", "上海精工机械"),
    ("上海精工机械股份有限公司", "上海 精工机械"),
    ("上海精工机械有限责任公司", "上海精工机械公司"),
    ("海尔集团", "海尔集团公司"),
    ("海尔集团有限公司", "海尔"),
    ("西门子(中国)有限公司", "西门子"),
    ("西门子(中国)有限公司", "西门子(中国)有限公司"),
    ("上海精工(苏州)有限公司", "上海精工苏州"),
    ("上海精工【苏州】有限公司", "上海精工(苏州)有限公司"),
    ("トヨタ自動車株式会社", "株式会社トヨタ自動車"),
    ("ＡＣＭＥ　Ｔｏｏｌｉｎｇ", "Acme Tooling"),
    ("ＡＢＣ精密机械有限公司", "abc 精密机械"),
    ("江苏恒远精密机械有限公司 ", "江苏恒远精密机械有限公司"),
]

# Pairs that must stay two customers.
DIFFERENT = [
    ("华为技术有限公司", "华润技术有限公司"),
    ("华为", "华润"),
    ("北京第一机床厂", "北京第二机床厂"),
    ("Acme Tooling", "Acme Trading"),
    ("Acme Tooling Co., Ltd.", "Apex Tooling Co., Ltd."),
    ("3M", "3D"),
    ("上海精工机械", "苏州精工机械"),
    ("トヨタ自動車", "ドヨタ自動車"),
]


@pytest.mark.parametrize("a, b", SAME)
def test_variants_are_one_customer(a: str, b: str) -> None:
    assert normalise_customer(a) == normalise_customer(b)
    assert opportunity_key("R01", a, "数控机床") == opportunity_key("R01", b, "数控机床")


@pytest.mark.parametrize("a, b", DIFFERENT)
def test_different_customers_stay_different(a: str, b: str) -> None:
    assert normalise_customer(a) != normalise_customer(b)


def test_the_table_is_large_and_bilingual() -> None:
    assert len(SAME) >= 30
    cjk = [p for p in SAME if any("\u4e00" <= c <= "\u9fff" or "\u30a0" <= c <= "\u30ff" for c in "".join(p))]
    assert len(cjk) >= 10 and len(SAME) - len(cjk) >= 20


def test_a_name_is_never_normalised_away() -> None:
    assert normalise_customer("Co., Ltd.") != ""
    assert normalise_customer("有限公司") != ""
    assert normalise_customer("Inc") == "inc"


def test_short_names_are_never_near_each_other() -> None:
    assert allowed_distance("华为") == 0 and allowed_distance("acme") == 0
    assert allowed_distance("上海精工机械") == 1 and allowed_distance("acmetooling") == 2


def pairs_of(names: list[str], blocks: list[str] | None = None) -> set[tuple[int, int]]:
    blocks = blocks or ["c"] * len(names)
    found = similar_names((i, blocks[i], normalise_customer(n)) for i, n in enumerate(names))
    return {(min(a, b), max(a, b)) for a, b, _ in found}


def test_near_names_are_pairs() -> None:
    names = ["Acme Tooling Co., Ltd.", "Acme Toolng Co Ltd", "Acme Tolling", "Acme Tooling Inc.",
             "上海精工机械有限公司", "上海精功机械有限公司", "华为", "华润", "北京第一机床厂", "北京第二机床厂",
             "客户123456", "客户123457"]
    found = pairs_of(names)
    # one typo, two typos; equal names are one customer, not a pair; short and numbered names never
    assert found == {(0, 1), (0, 2), (1, 2), (1, 3), (2, 3), (4, 5)}
    # other blocks (product categories) are never compared
    assert pairs_of(names[:2], ["a", "b"]) == set()


def brute_force(norms: list[str], blocks: list[str]) -> set[tuple[int, int]]:
    from sheetsales.reading.names import _numbers

    out = set()
    for i in range(len(norms)):
        for j in range(i + 1, len(norms)):
            a, b = norms[i], norms[j]
            k = min(allowed_distance(a), allowed_distance(b))
            if blocks[i] == blocks[j] and a != b and k and _numbers(a) == _numbers(b) and \
                    Levenshtein.distance(a, b) <= k:
                out.add((i, j))
    return out


def test_the_index_finds_exactly_what_comparing_every_pair_finds() -> None:
    rng = random.Random(7)

    def typo(s: str) -> str:
        chars = list(s)
        for _ in range(rng.randint(0, 3)):
            op, i = rng.randrange(3), rng.randrange(len(chars) + 1)
            if op == 0 and chars:
                chars.pop(min(i, len(chars) - 1))
            elif op == 1:
                chars.insert(i, rng.choice("abxy精工"))
            elif chars:
                chars[min(i, len(chars) - 1)] = rng.choice("abxy精工")
        return "".join(chars)

    base = ["".join(rng.choice("abcdefgh") for _ in range(rng.randint(3, 30))) for _ in range(60)]
    base += ["".join(rng.choice("精工机械苏州上海") for _ in range(rng.randint(3, 20))) for _ in range(60)]
    norms = [typo(rng.choice(base)) for _ in range(800)]
    blocks = [rng.choice("ab") for _ in norms]
    found = similar_names((i, blocks[i], n) for i, n in enumerate(norms))
    expected = brute_force(norms, blocks)
    assert len(expected) > 100
    assert {(min(a, b), max(a, b)) for a, b, _ in found} == expected
    assert all(d == Levenshtein.distance(norms[a], norms[b]) for a, b, d in found)


def test_the_last_search_is_kept_for_the_same_names_only() -> None:
    """A watcher's next save mostly changes figures, not names: the same names (same order) give the
    kept search, other ids on them their own pairs; one name changed searches again."""
    from sheetsales.reading import names as module

    norms = [normalise_customer(n) for n in ("上海精工机械有限公司", "上海精功机械有限公司", "北京重型机械厂",
                                             "北京重形机械厂", "华为")]
    first = similar_names((i, "c", n) for i, n in enumerate(norms))
    kept = module._LAST[0][1]
    assert similar_names((f"d{i}", "c", n) for i, n in enumerate(norms)) == [
        (f"d{a}", f"d{b}", d) for a, b, d in first]
    assert module._LAST[0][1] is kept  # not searched again
    changed = norms[:3] + ["北京轻型电子厂"] + norms[4:]
    again = similar_names((i, "c", n) for i, n in enumerate(changed))
    module._LAST.clear()
    assert again == similar_names((i, "c", n) for i, n in enumerate(changed)) == [(0, 1, 1)]


def test_thirteen_thousand_names_in_seconds_not_minutes() -> None:
    """The benchmark workspace's size: comparing every pair would be 17 million comparisons per category."""
    rng = random.Random(11)
    names = [f"客户{rng.randrange(10**6)}有限公司" for _ in range(13_000)]
    names += [f"{rng.choice(['苏州', '无锡', '常州'])}{rng.choice(['恒远', '瑞丰', '金鼎', '宏达'])}"
              f"{rng.choice(['精密机械', '模具', '汽车零部件'])}{rng.randrange(100)}有限公司" for _ in range(2_000)]
    items = [(i, i % 5, normalise_customer(n)) for i, n in enumerate(names)]
    started = time.perf_counter()
    similar_names(items)
    assert time.perf_counter() - started < 10
