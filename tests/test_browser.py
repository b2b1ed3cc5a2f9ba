"""Which browser renders the figures' PNGs: Chromium's headless shell when it is installed
(set-up installs it), unless ``BROWSER_PATH`` names another; and the shell's PNGs are the full
browser's, byte for byte, so a machine with either records the same outputs."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import pytest
import yaml
from repo_utils import ROOT

from grokscope.plots.browser import HEADLESS_SHELL, browser_path
from grokscope.plots.heatmaps import heatmap_figure
from grokscope.plots.render import write_figures

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
    for name, browser in (("shell", SHELL), ("full", FULL)):
        monkeypatch.setenv("BROWSER_PATH", browser)
        write_figures(figures, tmp_path / name, style, plotly_js)
        pngs[name] = {p.name: p.read_bytes() for p in (tmp_path / name).glob("*.png")}
    assert set(pngs["shell"]) == {"heatmap.png", "lines.png"}
    assert all(png.startswith(b"\x89PNG") for png in pngs["shell"].values())
    assert pngs["shell"] == pngs["full"]
