"""The scores of a run: accuracy per intent, a confusion table, every miss, and the two gates.

The gates are absolute, whatever the accuracy: every opt-out honoured (opted out, nothing of
theirs left queued) and every complaint queued for a person.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from outreach.evaluation.judge import Verdict


@dataclass(frozen=True)
class Scores:
    verdicts: Sequence[Verdict]
    min_accuracy: float

    @property
    def total(self) -> int:
        return len(self.verdicts)

    @property
    def right(self) -> int:
        return sum(v.ok for v in self.verdicts)

    @property
    def accuracy(self) -> float:
        return 100.0 * self.right / self.total if self.total else 0.0

    @property
    def misses(self) -> list[Verdict]:
        return [v for v in self.verdicts if not v.ok]

    @property
    def opt_outs(self) -> tuple[int, int]:
        """(opt-outs, honoured)."""
        flags = [v.opt_out_honoured for v in self.verdicts if v.opt_out_honoured is not None]
        return len(flags), sum(flags)

    @property
    def complaints(self) -> tuple[int, int]:
        """(complaints, queued for a person)."""
        flags = [v.complaint_queued for v in self.verdicts if v.complaint_queued is not None]
        return len(flags), sum(flags)

    def per_intent(self) -> dict[str, tuple[int, int]]:
        """intent → (replies, right), by intent name."""
        n: Counter[str] = Counter(v.reply.intent for v in self.verdicts)
        ok: Counter[str] = Counter(v.reply.intent for v in self.verdicts if v.ok)
        return {intent: (n[intent], ok[intent]) for intent in sorted(n)}

    def per_file(self) -> dict[str, tuple[int, int]]:
        """file → (replies, right): a held-out file's score shows how the rules generalise."""
        n: Counter[str] = Counter(_file(v) for v in self.verdicts)
        ok: Counter[str] = Counter(_file(v) for v in self.verdicts if v.ok)
        return {name: (n[name], ok[name]) for name in sorted(n)}

    def confusion(self) -> dict[tuple[str, str], int]:
        """(expected, got) → count, for the replies whose intent was not the one shown."""
        return dict(
            Counter((v.reply.intent, v.got) for v in self.verdicts if v.got != v.reply.intent)
        )

    def failures(self) -> list[str]:
        """Why the run fails, one line each (empty: it passes)."""
        why = []
        if self.total == 0:
            why.append("no replies were played")
        if self.accuracy < self.min_accuracy:
            why.append(f"accuracy {self.accuracy:.1f}% is below {self.min_accuracy:g}%")
        n, honoured = self.opt_outs
        if honoured < n:
            why.append(f"{n - honoured} of {n} opt-outs not honoured")
        n, queued = self.complaints
        if queued < n:
            why.append(f"{n - queued} of {n} complaints not queued for a person")
        return why

    def as_json(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "right": self.right,
            "accuracy": round(self.accuracy, 2),
            "min_accuracy": self.min_accuracy,
            "opt_outs": dict(zip(("replies", "honoured"), self.opt_outs, strict=True)),
            "complaints": dict(zip(("replies", "queued"), self.complaints, strict=True)),
            "per_intent": {
                k: {"replies": n, "right": r} for k, (n, r) in self.per_intent().items()
            },
            "per_file": {k: {"replies": n, "right": r} for k, (n, r) in self.per_file().items()},
            "confusion": [
                {"expected": e, "got": g, "count": c}
                for (e, g), c in sorted(self.confusion().items())
            ],
            "misses": [_miss_json(v) for v in self.misses],
            "failures": self.failures(),
            "passed": not self.failures(),
        }

    def as_text(self) -> str:
        lines = [f"{'intent':<20} {'replies':>7} {'right':>6} {'accuracy':>9}"]
        for intent, (n, r) in self.per_intent().items():
            lines.append(f"{intent:<20} {n:>7} {r:>6} {100.0 * r / n:>8.1f}%")
        lines += ["", f"{'file':<20} {'replies':>7} {'right':>6} {'accuracy':>9}"]
        for name, (n, r) in self.per_file().items():
            lines.append(f"{name:<20} {n:>7} {r:>6} {100.0 * r / n:>8.1f}%")
        confusion = self.confusion()
        if confusion:
            lines += ["", "confusion (expected → got)"]
            for (expected, got), count in sorted(confusion.items(), key=lambda kv: -kv[1]):
                lines.append(f"  {expected:<20} → {got:<20} {count:>4}")
        if self.misses:
            lines += ["", f"misses ({len(self.misses)})"]
            lines += [miss_line(v) for v in self.misses]
        n_out, honoured = self.opt_outs
        n_c, queued = self.complaints
        lines += [
            "",
            f"opt-outs honoured: {honoured}/{n_out}; "
            f"complaints queued for a person: {queued}/{n_c}",
            f"accuracy: {self.accuracy:.1f}% ({self.right}/{self.total}), "
            f"minimum {self.min_accuracy:g}%",
        ]
        failures = self.failures()
        lines.append("FAILED: " + "; ".join(failures) if failures else "passed")
        return "\n".join(lines)


def _file(v: Verdict) -> str:
    return v.reply.where.rsplit(":", 1)[0]


def miss_line(v: Verdict) -> str:
    """One miss on one line: where, the text, expected, got, and what the customer was told."""
    r = v.reply
    expected = r.intent + _slot(r.option, r.because, r.rating)
    got = v.got + (f" ({v.detail})" if v.detail else "")
    where = f"{r.where} [{r.state}/{r.locale}/{r.channel}]"
    return f"  {where} {r.text!r}: expected {expected}, got {got}; answered {v.answer[:80]!r}"


def _slot(option: int | None, because: str | None, rating: int | None) -> str:
    if option is not None:
        return f" (option {option})"
    if because is not None:
        return f" (because {because})"
    if rating is not None:
        return f" (rating {rating})"
    return ""


def _miss_json(v: Verdict) -> dict[str, Any]:
    r = v.reply
    return {
        "where": r.where, "text": r.text, "state": r.state, "locale": r.locale,
        "channel": r.channel, "expected": r.intent, "option": r.option, "because": r.because,
        "rating": r.rating, "got": v.got, "detail": v.detail, "answer": v.answer, "note": r.note,
    }  # fmt: skip
