"""Which browser renders the figures' PNGs: Chromium's headless shell when it is installed
(set-up installs it), unless ``BROWSER_PATH`` names another; and the shell's PNGs are the full
browser's, byte for byte, so a machine with either records the same outputs. The same for the
plotly.js the browser loads: the cartesian bundle where set-up installed it, the full one
where not, or where a figure needs it."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import pytest
import yaml
from repo_utils import ROOT

from grokscope.plots import browser, plotlyjs
from grokscope.plots.browser import HEADLESS_SHELL, browser_path
from grokscope.plots.heatmaps import heatmap_figure
from grokscope.plots.plotlyjs import PARTIAL_TRACES, drawable, partial_plotly
from grokscope.plots.render import styled, write_figures

SHELL, FULL = shutil.which(HEADLESS_SHELL), shutil.which("chromium")


def test_browser_path_prefers_browser_path_then_the_headless_shell(monkeypatch):
    monkeypatch.setenv("BROWSER_PATH", "/opt/some/chrome")
    assert browser_path() is None  # kaleido starts $BROWSER_PATH itself
    monkeypatch.delenv("BROWSER_PATH")
    assert browser_path() == SHELL  # None without the shell: kaleido's own search


@pytest.mark.skipif(
    not (SHELL and FULL),
    reason=f"needs Debian's chromium and {HEADLESS_SHELL} (workflow/scripts/setup.sh)",
)
def test_headless_shell_writes_the_full_browsers_pngs(tmp_path: Path, monkeypatch):
    style = yaml.safe_load((ROOT / "params/figures.yaml").read_text())
    plotly_js = tmp_path / "plotly.min.js"
    plotly_js.write_text("")  # the HTML pages only name it
    rng = np.random.default_rng(0)
    figures = {
        "heatmap": heatmap_figure(
            rng.standard_normal((41, 41)), title="a · b", xaxis="b", yaxis="a", style=style
        ),
        "lines": go.Figure(go.Scatter(y=rng.random(50), name="loss")),
    }
    pngs = {}
    for name, chrome in (("shell", SHELL), ("full", FULL)):
        monkeypatch.setenv("BROWSER_PATH", chrome)
        write_figures(figures, tmp_path / name, style, plotly_js)
        pngs[name] = {p.name: p.read_bytes() for p in (tmp_path / name).glob("*.png")}
    assert set(pngs["shell"]) == {"heatmap.png", "lines.png"}
    assert all(png.startswith(b"\x89PNG") for png in pngs["shell"].values())
    assert pngs["shell"] == pngs["full"]


PARTIAL = partial_plotly()
needs_partial = pytest.mark.skipif(
    PARTIAL is None,
    reason="needs plotly.js's cartesian bundle (workflow/scripts/setup.sh installs it with npm)",
)


@needs_partial
def test_partial_bundle_registers_the_trace_types_it_is_trusted_with():
    # What PngExport trusts the cartesian bundle to draw is what the installed bundle has.
    script = PARTIAL.read_text(encoding="utf-8")
    registered = set(re.findall(r'moduleType:"trace",name:"(\w+)"', script))
    assert registered == PARTIAL_TRACES


@needs_partial
def test_partial_bundle_writes_the_full_bundles_pngs(tmp_path: Path, monkeypatch):
    # Every kind of trace the figures use, and a table (which the cartesian bundle lacks) in
    # the middle: the job switches to the full bundle there and renders the earlier ones again.
    style = yaml.safe_load((ROOT / "params/figures.yaml").read_text())
    plotly_js = tmp_path / "plotly.min.js"
    plotly_js.write_text("")  # the HTML pages only name it
    rng = np.random.default_rng(0)
    table = go.Figure(go.Table(header={"values": ["", "run"]}, cells={"values": [["a"], [1]]}))
    figures = {
        "heatmap": heatmap_figure(
            rng.standard_normal((41, 41)), title="a · b", xaxis="b", yaxis="a", style=style
        ),
        "lines": go.Figure(go.Scatter(y=rng.random(50), name="loss")),
        "table": table,
        "bars": go.Figure(go.Bar(y=rng.random(7))),
    }
    assert not drawable(table.to_dict(), PARTIAL) and drawable(figures["bars"].to_dict(), PARTIAL)
    pngs = {}
    for name, partial in (("partial", PARTIAL), ("full", tmp_path / "none.js")):
        monkeypatch.setattr(plotlyjs, "PARTIAL_PLOTLY", partial)
        write_figures(figures, tmp_path / name, style, plotly_js)
        pngs[name] = {p.name: p.read_bytes() for p in (tmp_path / name).glob("*.png")}
    assert set(pngs["partial"]) == {f"{name}.png" for name in figures}
    assert pngs["partial"] == pngs["full"]
    # The switch is needed: through the cartesian bundle the table is left out of its PNG.
    session = browser.Session(60.0, PARTIAL)
    out = tmp_path / "table_in_partial.png"
    try:
        session.render_soon({"fig": styled(table, style).to_dict(), "path": out, "opts": {}})
        session.renders[0].result(timeout=60)
    finally:
        session.close(wait=20)
    assert out.read_bytes() != pngs["full"]["table.png"]
