"""In Chromium: a new commune formed in part from a divided old commune has one continuous trend
across 2025-07 on its page, the months before the reform drawn dotted (estimated), the reform
date drawn, and a link to the old commune's own page, which links back."""
from __future__ import annotations

import re

import pandas as pd

TREND = """sel => {
  const gd = document.querySelector(sel + ' .js-plotly-plot');
  if (!gd || !gd.data) return null;
  return {data: gd.data.map(t => ({x: t.x, y: t.y, dash: (t.line || {}).dash || null, name: t.name})),
          shapes: (gd.layout.shapes || []).map(s => ({x0: s.x0, type: s.type})),
          notes: (gd.layout.annotations || []).map(a => a.text)};
}"""


def _estimated_commune(demo) -> tuple[str, str]:
    """A new commune with a divided predecessor (share not given), and that predecessor."""
    links = demo.links
    communes = set(demo.units.loc[(demo.units["level"] == "commune") & demo.units["valid_to"].isna(), "code"])
    divided = links[links["share"].isna() & links["new_code"].isin(communes)]
    row = divided.sort_values(["new_code", "old_code"]).iloc[0]
    return str(row["new_code"]), str(row["old_code"])


def _month(x) -> str:
    return str(x)[:7]


def test_a_new_communes_trend_runs_across_the_reform_with_the_estimate_marked(live_server, page, demo_data):
    code, old = _estimated_commune(demo_data)
    page.goto(f"{live_server.url}/unit/{code}?period=2025-10")
    page.wait_for_selector("#unit-trend-hssk .main-svg", timeout=60_000)
    got = page.evaluate(TREND, "#unit-trend-hssk")
    assert got is not None
    by_month: dict[str, set] = {}
    for trace in got["data"]:
        for x, y in zip(trace["x"] or [], trace["y"] or []):
            if y is not None:
                by_month.setdefault(_month(x), set()).add(trace["dash"])
    months = [str(p) for p in pd.period_range("2024-01", "2025-10", freq="M")]
    missing = [m for m in months if m not in by_month]
    assert not missing, missing  # continuous: a value every month, across the date
    # Before the reform dotted (estimated from a divided commune); from 2025-07 the reported line,
    # and one trace meets the other at the date, so the line is unbroken.
    assert all("dot" in by_month[m] for m in months if m < "2025-07")
    assert all(None in by_month[m] for m in months if m >= "2025-08")
    assert any("dot" in by_month[m] and None in by_month[m] for m in ("2025-06", "2025-07"))
    assert any(_month(s["x0"]) == "2025-07" for s in got["shapes"])
    assert any("01/07/2025" in (n or "") for n in got["notes"])

    # The page says what the commune was formed from, with a link to the old commune's page.
    page.wait_for_selector(f"a[href*='/unit/{old}']", timeout=30_000)
    page.click(f"a[href*='/unit/{old}']")
    page.wait_for_url(re.compile(r".*/unit/" + re.escape(old).replace("@", "(@|%40)") + r".*"), timeout=30_000)
    page.wait_for_selector(f"a[href*='/unit/{code}']", timeout=60_000)  # "→ nay thuộc …" back to it
    page.errors.assert_clean()
