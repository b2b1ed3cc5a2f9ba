"""Benchmark: PNG export with one browser per figure job vs one browser per figure.

Renders the same N figures of the kinds the pipeline makes (lines, heatmap grids, a 2-D
Fourier heatmap, a slider figure) twice, in one run:

- *one browser per job*: one ``plotly.io.write_images`` call for all N figures (one
  browser session, as :func:`grokscope.plots.render.write_figures` does through kaleido's
  API under its watchdog): kaleido starts Chromium once;
- *one browser per figure*: one ``plotly.io.write_image`` call per figure: kaleido starts
  and stops Chromium for each.

Prints PNGs per second both ways and their ratio. Usage (from the project root, venv active):

    python benchmarks/figure_browsers.py [--figures 12] [--repeats 1]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import yaml

from grokscope.plots.common import SliderStep, add_slider, line_figure
from grokscope.plots.heatmaps import Panel, heatmap_figure, heatmap_grid, heatmap_trace
from grokscope.plots.render import styled


def sample_figures(count: int, style: dict) -> list[go.Figure]:
    """``count`` figures cycling through the pipeline's kinds, with random data of its sizes
    (C_113: 113 × 113 heatmaps, 113 basis functions)."""
    rng = np.random.default_rng(0)
    n = 113
    labels = [f"f{i}" for i in range(n)]
    kinds = [
        lambda: line_figure(
            np.arange(200),
            {"train": rng.random(200), "test": rng.random(200)},
            title="curves",
            xaxis="epoch",
            yaxis="loss",
            log_y=True,
        ),
        lambda: heatmap_grid(
            [Panel(f"neuron {i}", rng.standard_normal((n, n))) for i in range(4)],
            title="neurons",
            xaxis="b",
            yaxis="a",
            style=style,
        ),
        lambda: heatmap_figure(
            rng.random((n, n)),
            title="2-D Fourier power",
            xaxis="b",
            yaxis="a",
            style=style,
            x=labels,
            y=labels,
        ),
        lambda: add_slider(
            go.Figure(),
            [
                SliderStep(str(i), [(heatmap_trace(rng.standard_normal((40, n))), None, None)])
                for i in range(12)
            ],
            prefix="a = ",
        ),
    ]
    return [styled(kinds[i % len(kinds)](), style) for i in range(count)]


def one_browser(figures: list[go.Figure], out: Path, style: dict) -> None:
    pio.write_images(
        figures,
        [out / f"job_{i}.png" for i in range(len(figures))],
        width=style["width"],
        height=style["height"],
        scale=style["scale"],
    )


def browser_per_figure(figures: list[go.Figure], out: Path, style: dict) -> None:
    for i, fig in enumerate(figures):
        fig.write_image(
            out / f"figure_{i}.png",
            width=style["width"],
            height=style["height"],
            scale=style["scale"],
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--figures", type=int, default=12, help="PNGs per measurement")
    parser.add_argument("--repeats", type=int, default=1, help="measurements per variant (best)")
    parser.add_argument("--style", type=Path, default=Path("params/figures.yaml"))
    args = parser.parse_args()
    style = yaml.safe_load(args.style.read_text())
    figures = sample_figures(args.figures, style)
    rates = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, render in (
            ("one browser per job", one_browser),
            ("one browser per figure", browser_per_figure),
        ):
            best = float("inf")
            for _ in range(args.repeats):
                start = time.perf_counter()
                render(figures, Path(tmp), style)
                best = min(best, time.perf_counter() - start)
            rates[name] = args.figures / best
            print(f"{name:24s} {args.figures} PNGs in {best:6.2f} s: {rates[name]:5.2f} PNGs/s")
    ratio = rates["one browser per job"] / rates["one browser per figure"]
    print(f"ratio (per job / per figure): {ratio:.1f}x")


if __name__ == "__main__":
    main()
