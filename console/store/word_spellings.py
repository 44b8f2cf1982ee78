"""The byte spellings of a lower-case word that a text holding it, once lowered, must contain.

str.lower() maps each character alone (İ, to two characters, and the final Σ, to ς, aside), so
a text whose lowering holds "café" holds "caf" then "é" or "É", in some mix of cases. The
spellings are those mixes, encoded as UTF-8 with the ASCII letters lower-case (the block's
bytes are ASCII-lowered before the search: bytes.lower() leaves every non-ASCII byte alone),
so a block holding none of them holds no text with the word.
"""

from __future__ import annotations

import sys
from functools import cache
from itertools import product

import numpy as np

# past this many spellings the bytes are not searched (a word of many "k"s and accented
# letters): its blocks are searched text by text
MAX_SPELLINGS = 64
# characters whose lowering is two characters: the word may hold only part of it
_LOWERS_INTO_TWO = {"i", "\u0307"}


@cache
def _raised_forms() -> dict[str, tuple[str, ...]]:
    """Each character that is some other character's lowering -> those other characters
    (not ASCII upper-case letters: the lowered bytes take care of them). Lowered as one
    string, in one call (per character: 12 s on a loaded machine)."""
    codes = np.arange(sys.maxunicode + 1, dtype=np.uint32)
    # no lone surrogate is in a text; İ lowers to two characters (lowers_into_two)
    codes = codes[((codes < 0xD800) | (codes > 0xDFFF)) & (codes != 0x130)]
    text = codes.tobytes().decode("utf-32-le")
    lowered = np.frombuffer(text.lower().encode("utf-32-le"), dtype=np.uint32)
    changed = (lowered != codes) & ~((codes >= ord("A")) & (codes <= ord("Z")))
    forms: dict[str, list[str]] = {}
    for source, target in zip(codes[changed].tolist(), lowered[changed].tolist()):
        forms.setdefault(chr(target), []).append(chr(source))
    forms.setdefault("\u03c2", []).append("\u03a3")  # Σ lowers to the final ς after a letter
    return {target: tuple(sources) for target, sources in forms.items()}


def lowers_into_two(word: str) -> bool:
    """Whether a text may hold the word only through İ's two-character lowering."""
    return any(char in _LOWERS_INTO_TWO for char in word)


@cache
def byte_spellings(word: str) -> tuple[bytes, ...] | None:
    """The word's spellings as ASCII-lowered UTF-8, or None when they are too many to search."""
    choices: list[tuple[str, ...]] = []
    count = 1
    forms = _raised_forms() if not word.isascii() or "k" in word else {}
    for char in word:
        options = (char, *forms.get(char, ()))
        choices.append(options)
        count *= len(options)
        if count > MAX_SPELLINGS:
            return None
    return tuple(dict.fromkeys("".join(spelling).encode("utf-8", "surrogatepass") for spelling in product(*choices)))
