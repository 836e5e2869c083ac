"""The first step of understanding a reply: one normalised form every reader works on.

NFKC (full-width digits and letters become plain ones), control characters dropped (a "STOP\\x00"
is a STOP), traditional characters made simplified, lower case, straight apostrophes, emoji
dropped and spaces collapsed.  :func:`consists_of` asks whether a reply says nothing but words
of some lists ("行吧，那就2" is a filler, a filler and a number).
"""

from __future__ import annotations

import functools
import re
import unicodedata

import opencc

from outreach import lexicon

_CONVERTER = opencc.OpenCC("t2s")
_QUOTES = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'"})
_SPACES = re.compile(r"\s+")
_EMPTY = re.compile(r"^[\W_]*$")
_HAN_SPACE = re.compile(r"(?<=[\u4e00-\u9fff])\s+(?=[\u4e00-\u9fff])")


@functools.lru_cache(maxsize=4096)
def normalise(text: str) -> str:
    """The reply as every reader sees it (see the module's docstring)."""
    for picture, words in lexicon.table("emoji").items():
        text = text.replace(picture, f" {words} ")
    text = unicodedata.normalize("NFKC", text)
    kept = []
    for ch in text:
        category = unicodedata.category(ch)
        if ch.isspace():
            kept.append(" ")
        elif category in ("Cc", "Cf", "Cs", "Co", "Cn") or category == "So" or category == "Sk":
            continue  # control and format characters, emoji and other pictures
        else:
            kept.append(ch)
    joined = "".join(kept)
    simplified = joined if joined.isascii() else _mandarin(_CONVERTER.convert(joined))
    if len(_HAN_SPACE.findall(simplified)) >= 2:
        # "你们 直接 打我 这个 手机": speech recognition spaces its words; one typed space
        # ("1吧 刹车片也换了") still ends a clause
        simplified = _HAN_SPACE.sub("", simplified)
    return _SPACES.sub(" ", simplified.translate(_QUOTES)).strip().lower()


def _mandarin(text: str) -> str:
    """Cantonese written forms as Mandarin ("做咗" → "做了"), longest first (``[dialect]``)."""
    for said, meant in _dialect():
        if said in text:
            text = text.replace(said, meant)
    return text


@functools.cache
def _dialect() -> tuple[tuple[str, str], ...]:
    table = lexicon.table("dialect")
    return tuple(sorted(table.items(), key=lambda kv: len(kv[0]), reverse=True))


_SENTENCE_ENDS = re.compile(r"(?<!\d)\.|\.(?!\d)|[!?。;；]")


def sentences(norm: str) -> list[str]:
    """The sentences of a normalised reply ("fine. stop. happy now?"; "1.5h" is one word)."""
    return [part.strip() for part in _SENTENCE_ENDS.split(norm) if part.strip()]


def keyword(norm: str) -> str:
    """The message as a carrier reads a keyword: no spaces or punctuation, lower case."""
    return re.sub(r"[\W_]+", "", norm)


@functools.cache
def _parts(names: tuple[str, ...]) -> re.Pattern[str]:
    entries = sorted({w for n in names for w in lexicon.words(n)}, key=len, reverse=True)
    # An English word is a whole word ("ok" is not inside "look"); Chinese has no spaces.
    bounded = [
        rf"(?<![a-z]){w}(?![a-z])" if re.match(r"^[\\a-z']", w) and w[-1:].isalpha() else w
        for w in entries
    ]
    return re.compile("|".join(f"(?:{w})" for w in bounded))


@functools.lru_cache(maxsize=4096)
def strip(norm: str, *names: str) -> str:
    """``norm`` without any word of the lists ``names`` (punctuation kept)."""
    previous = None
    while previous != norm:
        previous, norm = norm, _parts(names).sub(" ", norm)
    return _SPACES.sub(" ", norm).strip()


def consists_of(norm: str, *names: str) -> bool:
    """Whether the reply holds nothing but words of the lists ``names`` (and punctuation)."""
    return bool(norm.strip()) and bool(_EMPTY.match(strip(norm, *names)))


def has(norm: str, name: str) -> bool:
    """Whether any word of list ``name`` is in the reply (English words whole: "ok" is not in
    "look")."""
    return _parts((name,)).search(norm) is not None
