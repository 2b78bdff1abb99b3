"""The status palette stays apart for colour-blind readers and in greyscale print.

Simulations: Machado, Oliveira & Fernandes (2009) protanopia and deuteranopia at severity 1.0 on
linear sRGB; greyscale as relative luminance. Distances in CIE L*a*b* (ΔE 1976, D65). The statuses
read against each other on the map and the scorecard must stay ≥ 15 ΔE apart under each
colour simulation (the issue found "Đạt" and "Không đạt tiến độ" 8 apart under deuteranopia; now
the closest pair is 19, achieved and off track under protanopia) and ≥ 10 L* apart in greyscale
(closest: on track and at risk, 10.5); every status also has its own icon, and its text colour reaches 4.5:1."""
from __future__ import annotations

import itertools
import math

import pytest

from dashboard import theme

JUDGED = ("achieved", "on_track", "at_risk", "off_track", "overdue")
PROTANOPIA = ((0.152286, 1.052583, -0.204868), (0.114503, 0.786281, 0.099216), (-0.003882, -0.048116, 1.051998))
DEUTERANOPIA = ((0.367322, 0.860646, -0.227968), (0.280085, 0.672501, 0.047413), (-0.011820, 0.042940, 0.968881))


def linear(hex_color: str) -> list[float]:
    out = []
    for i in (1, 3, 5):
        c = int(hex_color[i:i + 2], 16) / 255
        out.append(c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4)
    return out


def matrix(m, v):
    return [min(1.0, max(0.0, sum(m[i][j] * v[j] for j in range(3)))) for i in range(3)]


def luminance(v) -> float:
    return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2]


def lab(v) -> tuple[float, float, float]:
    r, g, b = v
    x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047
    y = luminance(v)
    z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883

    def f(t):
        return t ** (1 / 3) if t > 0.008856 else 7.787 * t + 16 / 116

    return 116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))


SIMULATIONS = {
    "normal": lambda v: v,
    "protanopia": lambda v: matrix(PROTANOPIA, v),
    "deuteranopia": lambda v: matrix(DEUTERANOPIA, v),
    "greyscale": lambda v: [luminance(v)] * 3,
}


@pytest.mark.parametrize("name", SIMULATIONS)
def test_judged_statuses_stay_apart_under_simulation(name):
    seen = {s: lab(SIMULATIONS[name](linear(theme.STATUS_COLORS[s]))) for s in JUDGED}
    for a, b in itertools.combinations(JUDGED, 2):
        delta = math.dist(seen[a], seen[b])
        if name == "greyscale":  # only lightness is left: ΔE is the difference in L*
            assert delta >= 10, f"greyscale: {a} and {b} only {delta:.1f} L* apart"
        else:
            assert delta >= 15, f"{name}: {a} and {b} only {delta:.1f} ΔE apart"


def test_the_sanity_of_the_simulation():
    # a red and a green of equal lightness collapse under deuteranopia: the test can fail
    red, green = lab(matrix(DEUTERANOPIA, linear("#d62728"))), lab(matrix(DEUTERANOPIA, linear("#2ca02c")))
    assert math.dist(red, green) < 15


def test_every_status_has_its_own_icon_and_readable_text():
    icons = [theme.STATUS_ICONS[s] for s in theme.STATUS_ORDER]
    assert all(icons) and len(set(icons)) == len(icons)

    def contrast(fg: str, bg: str) -> float:
        hi, lo = sorted((luminance(linear(fg)), luminance(linear(bg))), reverse=True)
        return (hi + 0.05) / (lo + 0.05)

    for status in theme.STATUS_ORDER:
        ratio = contrast(theme.status_text_color(status), theme.status_color(status))
        assert ratio >= 4.5, f"{status}: text {ratio:.2f}:1"
