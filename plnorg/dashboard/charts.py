"""Small server-rendered SVG charts, readable without colour.

Bars carry their value as text; lines have point markers with distinct
shapes; every chart is given a title and a description for screen readers,
and templates pair each chart with a data table.
"""

from __future__ import annotations

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe


def _fmt(value: float) -> str:
    if value is None:
        return "–"
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


def bar_chart(
    *, title: str, labels: list[str], values: list[float], unit: str = "", width: int = 640, bar_height: int = 22
) -> SafeString:
    """Horizontal bars, one per label, each with its value written at its end."""
    label_width = 170
    gap = 8
    height = max(1, len(values)) * (bar_height + gap) + 10
    top = max([v for v in values if v is not None] or [0]) or 1
    usable = width - label_width - 70
    parts = [
        f'<svg role="img" aria-labelledby="t-{id(labels)}" viewBox="0 0 {width} {height}" '
        f'width="100%" preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="t-{id(labels)}">{escape(title)}</title>',
    ]
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = 5 + i * (bar_height + gap)
        length = 0 if value is None else max(1, int(usable * value / top))
        parts.append(
            f'<text x="{label_width - 6}" y="{y + bar_height * 0.7:.0f}" text-anchor="end">{escape(label)}</text>'
            f'<rect class="bar" x="{label_width}" y="{y}" width="{length}" height="{bar_height}"></rect>'
            f'<text x="{label_width + length + 6}" y="{y + bar_height * 0.7:.0f}">{escape(_fmt(value))}{escape(unit)}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every interpolated text is escaped above


def line_chart(
    *,
    title: str,
    labels: list[str],
    series: list[tuple[str, list[float]]],
    width: int = 640,
    height: int = 220,
) -> SafeString:
    """Lines over time (e.g. weeks). Each series has its own marker shape and
    dash pattern so it reads without colour; a legend names them."""
    left, right, top_pad, bottom = 44, 10, 10, 40
    plot_w = width - left - right
    plot_h = height - top_pad - bottom
    all_values = [v for _, vs in series for v in vs if v is not None]
    top = max(all_values or [0]) or 1
    n = max(1, len(labels) - 1)
    dashes = ["", "6 4", "2 3"]
    markers = ["circle", "square", "triangle"]
    out = [
        f'<svg role="img" aria-labelledby="t-{id(series)}" viewBox="0 0 {width} {height + 20 * len(series)}" '
        f'width="100%" preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="t-{id(series)}">{escape(title)}</title>',
        f'<line class="axis" x1="{left}" y1="{top_pad + plot_h}" x2="{left + plot_w}" y2="{top_pad + plot_h}"></line>',
        f'<line class="axis" x1="{left}" y1="{top_pad}" x2="{left}" y2="{top_pad + plot_h}"></line>',
        f'<text x="{left - 4}" y="{top_pad + 10}" text-anchor="end">{escape(_fmt(top))}</text>',
        f'<text x="{left - 4}" y="{top_pad + plot_h}" text-anchor="end">0</text>',
    ]
    step = max(1, len(labels) // 6)
    for i, label in enumerate(labels):
        # Every step-th label, and the last one unless it would touch its neighbour.
        if i % step == 0 or (i == len(labels) - 1 and i % step >= step // 2):
            x = left + plot_w * i / n
            out.append(f'<text x="{x:.0f}" y="{top_pad + plot_h + 16}" text-anchor="middle">{escape(label)}</text>')
    for s, (name, values) in enumerate(series):
        points = [
            (left + plot_w * i / n, top_pad + plot_h - plot_h * (v / top))
            for i, v in enumerate(values)
            if v is not None
        ]
        dash = f' stroke-dasharray="{dashes[s % 3]}"' if dashes[s % 3] else ""
        out.append(
            f'<polyline class="line line-{s}" fill="none" stroke-width="2"{dash} '
            f'points="{" ".join(f"{x:.1f},{y:.1f}" for x, y in points)}"></polyline>'
        )
        for x, y in points:
            out.append(_marker(markers[s % 3], x, y, s))
        ly = height + 20 * s + 4
        out.append(_marker(markers[s % 3], left + 6, ly, s))
        out.append(f'<text x="{left + 16}" y="{ly + 4}">{escape(name)}</text>')
    out.append("</svg>")
    return mark_safe("".join(out))  # noqa: S308 - every interpolated text is escaped above


def _marker(shape: str, x: float, y: float, s: int) -> str:
    if shape == "square":
        return f'<rect class="marker marker-{s}" x="{x - 3:.1f}" y="{y - 3:.1f}" width="6" height="6"></rect>'
    if shape == "triangle":
        return f'<polygon class="marker marker-{s}" points="{x:.1f},{y - 4:.1f} {x - 4:.1f},{y + 3:.1f} {x + 4:.1f},{y + 3:.1f}"></polygon>'
    return f'<circle class="marker marker-{s}" cx="{x:.1f}" cy="{y:.1f}" r="3"></circle>'
