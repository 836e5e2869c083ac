"""Bar charts as plain geometry; ``templates/charts.html`` draws them as inline SVG.

Kept to numbers and labels so Jinja's autoescape covers every text in the picture.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class BarChart:
    width: int
    height: int
    baseline: float
    bars: list[Bar]
    maximum: float


def bar_chart(
    data: Sequence[tuple[str, float]], *, width: int = 640, height: int = 200, pad: int = 24
) -> BarChart:
    """Lay out one bar per (label, value), scaled to the largest value."""
    top = max((v for _, v in data), default=0) or 1
    baseline = height - pad
    slot = (width - 2 * pad) / max(len(data), 1)
    bars = []
    for n, (label, value) in enumerate(data):
        h = (baseline - pad) * value / top
        bars.append(Bar(label, value, pad + n * slot + slot * 0.15, baseline - h, slot * 0.7, h))
    return BarChart(width, height, baseline, bars, top)


@dataclass(frozen=True)
class FunnelBar:
    label: str
    value: int
    change: int
    y: float
    width: float


@dataclass(frozen=True)
class FunnelChart:
    width: int
    height: int
    label_width: int
    row: int
    bars: list[FunnelBar]


def funnel_chart(
    stages: Sequence[tuple[str, int, int]],
    *,
    width: int = 300,
    label_width: int = 56,
    row: int = 24,
) -> FunnelChart:
    """One horizontal bar per (label, value, change), scaled to the first (widest) stage."""
    top = max((v for _, v, _ in stages), default=0) or 1
    room = width - label_width - 80  # the number and the week's change are written after the bar
    bars = [
        FunnelBar(label, value, change, n * row, max(room * value / top, 1 if value else 0))
        for n, (label, value, change) in enumerate(stages)
    ]
    return FunnelChart(width, row * len(stages), label_width, row, bars)
