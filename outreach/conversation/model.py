"""A small statistical reader of replies, trained on our own labelled corpus: what the rules
cannot place, it can.

A multinomial naive Bayes over the normalised text's character 1–3-grams (Chinese has no
spaces; typos and homophones still share most of their grams), its words, and the
conversation's state.  It runs offline, ships as data (``outreach/lexicon/replies.model.json``,
written by ``outreach eval train``), and says why it decided: the grams that pulled most towards
its answer.  :mod:`understand` asks it after the rules, within the limits of :mod:`trust`
(never over the firm rules, never away from a person), and it never fills a slot: an option,
a rating, a day come from :mod:`reading`.
"""

from __future__ import annotations

import functools
import json
import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from outreach.conversation import normal

PATH = Path(__file__).resolve().parent.parent / "lexicon" / "replies.model.json"
MIN_COUNT = 2  # a feature seen fewer times in the whole corpus is left out (noise, size)
SMOOTHING = 0.1
# Naive Bayes counts every gram as independent evidence and is far too sure of itself: its
# scores are divided by a fifth of the features seen before they become a confidence (on
# replies it was not trained on, those it is 90 % sure of are then right about 96 % of the time).
FEATURES_PER_UNIT = 5


class ModelError(ValueError):
    """The shipped model file cannot be read."""


@dataclass(frozen=True)
class Guess:
    """The model's reading of one reply: the intent, how sure it is (0–1), and why."""

    kind: str
    confidence: float
    because: tuple[str, ...]  # the features that counted most for ``kind``


def features(norm: str, state: str) -> list[str]:
    """What the model sees of a reply: character 1–3-grams of its normalised text (with its
    start and end marked), its words, and the state, alone and with each word."""
    marked = f"^{norm}$"
    grams = [
        marked[i : i + n]
        for n in (1, 2, 3)
        for i in range(len(marked) - n + 1)
        if marked[i : i + n].strip()
    ]
    words = norm.split()
    return [f"@{state}", *grams, *(f"@{state}|{w}" for w in words)]


def train(examples: Iterable[tuple[str, str, str]]) -> dict[str, object]:
    """The model (as JSON data) from (text, state, intent) examples."""
    per_class: Counter[str] = Counter()
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for text, state, intent in examples:
        per_class[intent] += 1
        for f in features(normal.normalise(text), state):
            counts[f][intent] += 1
    kept = {f: dict(sorted(c.items())) for f, c in counts.items() if sum(c.values()) >= MIN_COUNT}
    totals: Counter[str] = Counter()
    for c in kept.values():
        totals.update(c)
    return {
        "classes": dict(sorted(per_class.items())),
        "totals": dict(sorted(totals.items())),
        "features": dict(sorted(kept.items())),
    }


def write(model: dict[str, object], path: Path = PATH) -> None:
    path.write_text(
        json.dumps(model, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n",
        encoding="utf-8",
    )


class Model:
    def __init__(self, data: dict[str, object]) -> None:
        self.classes: dict[str, int] = data["classes"]  # type: ignore[assignment]
        self.totals: dict[str, int] = data["totals"]  # type: ignore[assignment]
        self.features: dict[str, dict[str, int]] = data["features"]  # type: ignore[assignment]
        n = sum(self.classes.values())
        self.prior = {y: math.log(c / n) for y, c in self.classes.items()}
        vocab = len(self.features)
        self.unseen = {y: math.log(SMOOTHING / (self.totals.get(y, 0) + SMOOTHING * vocab))
                       for y in self.classes}  # fmt: skip
        self.denominator = {y: self.totals.get(y, 0) + SMOOTHING * vocab for y in self.classes}
        # Per feature, what each class it was seen with gains over an unseen one (a reply is
        # scored by adding these: the classes a feature never saw cost nothing to skip).
        self.gain = {
            f: {y: math.log((c + SMOOTHING) / self.denominator[y]) - self.unseen[y]
                for y, c in row.items()}
            for f, row in self.features.items()
        }  # fmt: skip

    def one_against_rest(self, kind: str) -> Model:
        """The same counts read as two classes, ``kind`` and everything else ("rest"): a
        reader of one intent alone (is this a complaint?), sure of it more often than the
        whole model, which splits the rest of the evidence over many intents."""

        def two(row: dict[str, int]) -> dict[str, int]:
            rest = sum(row.values()) - row.get(kind, 0)
            return {k: v for k, v in ((kind, row.get(kind, 0)), ("rest", rest)) if v}

        return Model(
            {
                "classes": two(self.classes),
                "totals": two(self.totals),
                "features": {f: two(row) for f, row in self.features.items()},
            }
        )

    def guess(self, norm: str, state: str) -> Guess:
        """The intent of a reply (its normalised text) in ``state``."""
        seen = [f for f in features(norm, state) if f in self.features]
        scores = {y: p + len(seen) * self.unseen[y] for y, p in self.prior.items()}
        for f in seen:
            for y, gain in self.gain[f].items():
                scores[y] += gain
        best = max(scores, key=scores.__getitem__)
        top = scores[best]
        temperature = max(1.0, len(seen) / FEATURES_PER_UNIT)
        confidence = 1 / sum(math.exp((s - top) / temperature) for s in scores.values())
        # Why: the grams and words (not single characters) most telling for the answer.
        pull = Counter(
            {f: self._lift(f, best) for f in set(seen) if len(f) > 1 and f[0] not in "^@"
             and not f.endswith("$") and self.features[f].get(best)}
        )  # fmt: skip
        because = tuple(f for f, _ in pull.most_common(5))
        return Guess(best, confidence, because)

    def _lift(self, feature: str, kind: str) -> float:
        """How much likelier ``feature`` is under ``kind`` than over all the corpus."""
        row = self.features[feature]
        share = (row.get(kind, 0) + SMOOTHING) / self.denominator[kind]
        overall = sum(row.values()) / sum(self.totals.values())
        return math.log(share / overall)


@functools.cache
def shipped() -> Model | None:
    """The model that ships with the code, or None when there is none."""
    if not PATH.exists():
        return None
    try:
        return Model(json.loads(PATH.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError) as exc:
        raise ModelError(f"{PATH.name}: {exc}") from None


@functools.cache
def complaints() -> Model | None:
    """The shipped model read as complaint or not (:meth:`Model.one_against_rest`)."""
    whole = shipped()
    return whole.one_against_rest("complaint") if whole is not None else None
