"""Made-up but plausible Chinese place names with their pinyin spelling."""

from __future__ import annotations

import numpy as np

from smartcity.sim.geography_data import NAME_HEADS, NAME_TAILS

_HEADS = list(NAME_HEADS.items())
_TAILS = list(NAME_TAILS.items())
NAME_POOL_SIZE = len(_HEADS) * len(_TAILS)


def place_names(count: int, rng: np.random.Generator) -> list[tuple[str, str]]:
    """``count`` distinct two-character names as (Chinese, pinyin) pairs: ("石岗", "Shigang")."""
    if count > NAME_POOL_SIZE:
        raise ValueError(f"cannot make {count} distinct names from a pool of {NAME_POOL_SIZE}")
    picks = rng.choice(NAME_POOL_SIZE, size=count, replace=False)
    names: list[tuple[str, str]] = []
    for pick in picks.tolist():
        (head, head_pinyin), (tail, tail_pinyin) = _pool_entry(pick)
        names.append((head + tail, join_pinyin(head_pinyin, tail_pinyin)))
    return names


def _pool_entry(pick: int) -> tuple[tuple[str, str], tuple[str, str]]:
    """The head and tail characters (with pinyin) numbered ``pick`` in the name pool."""
    head_index, tail_index = divmod(pick, len(_TAILS))
    return _HEADS[head_index], _TAILS[tail_index]


def join_pinyin(first: str, second: str) -> str:
    """Two syllables as one capitalised word, with the apostrophe pinyin needs before a
    syllable starting with a, o or e (Xi'an, not Xian)."""
    separator = "'" if second[:1] in ("a", "o", "e") else ""
    return (first + separator + second).capitalize()
