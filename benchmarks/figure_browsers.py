"""Benchmark: PNG export with one browser per figure job vs one browser per figure.

Renders the same N figures of the kinds the pipeline makes (lines, heatmap grids, a 2-D
Fourier heatmap, a slider figure) twice, in one run:

- *one browser per job*: one ``plotly.io.write_images`` call for all N figures (one
  browser session, as :func:`grokscope.plots.render.write_figures` does through kaleido's
  API under its watchdog): kaleido starts Chromium once;
- *one browser per figure*: one ``plotly.io.write_image`` call per figure: kaleido starts
  and stops Chromium for each.

Prints PNGs per second both ways and their ratio. Then, with ``--browsers``, the same N
figures through one browser, as a figure job exports them, with Chromium's headless shell
(what the figure jobs use when it is installed) and with the full browser: wall seconds and
CPU seconds of the whole machine (so run it on an otherwise idle one), best of the repeats,
each way. With ``--bundles``, the same through the browser session a figure job uses
(:class:`grokscope.plots.browser.Session`: start, the N PNGs, close) loading plotly.js's
cartesian bundle (what the figure jobs load when the set-up installed it) and its full bundle,
interleaved. Usage (from the project root, venv active):

    python benchmarks/figure_browsers.py [--figures 12] [--repeats 1] [--browsers] [--bundles]
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import yaml

from grokscope.plots.browser import Session, png_timeout
from grokscope.plots.common import SliderStep, add_slider, line_figure
from grokscope.plots.heatmaps import Panel, heatmap_figure, heatmap_grid, heatmap_trace
from grokscope.plots.plotlyjs import partial_plotly
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


def cpu_seconds() -> float:
    """CPU seconds the whole machine has spent (Linux ``/proc/stat``: user, nice, system, irq,
    softirq). Not this process's rusage: the browser's renderer and GPU processes are forked by
    its zygote and never reaped by us, so they would go uncounted. Run on an idle machine."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq = (int(f) for f in fields[:7])
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


def compare_browsers(figures: list[go.Figure], out: Path, style: dict, repeats: int) -> None:
    """One browser per job, with the headless shell and with the full Chromium, interleaved."""
    browsers = {
        "headless shell": shutil.which("chromium-headless-shell"),
        "full": shutil.which("chromium"),
    }
    if not all(browsers.values()):
        print(f"--browsers: needs both installed, found {browsers}")
        return
    best: dict[str, tuple[float, float]] = {}
    for _ in range(repeats):
        for name, path in browsers.items():
            os.environ["BROWSER_PATH"] = path
            wall, cpu = time.perf_counter(), cpu_seconds()
            one_browser(figures, out, style)
            took = (time.perf_counter() - wall, cpu_seconds() - cpu)
            best[name] = min(best.get(name, took), took)
    for name, (wall, cpu) in best.items():
        print(f"{name:24s} {len(figures)} PNGs, one browser: {wall:6.2f} s wall, {cpu:6.2f} CPU-s")
    shell, full = best["headless shell"], best["full"]
    print(f"ratio (full / shell): {full[0] / shell[0]:.2f}x wall, {full[1] / shell[1]:.2f}x CPU")


def compare_bundles(figures: list[go.Figure], out: Path, style: dict, repeats: int) -> None:
    """One figure job's browser session loading the cartesian bundle and the full bundle."""
    partial = partial_plotly()
    if partial is None:
        print("--bundles: needs plotly.js's cartesian bundle (workflow/scripts/setup.sh)")
        return
    opts = {"format": "png", "width": style["width"], "height": style["height"]}
    specs = [
        {"fig": styled(fig, style).to_dict(), "path": out / f"bundle_{i}.png", "opts": opts}
        for i, fig in enumerate(figures)
    ]
    best: dict[str, tuple[float, float]] = {}
    for _ in range(repeats):
        for name, script in (("cartesian bundle", partial), ("full bundle", None)):
            wall, cpu = time.perf_counter(), cpu_seconds()
            session = Session(png_timeout(), script)
            for spec in specs:
                session.render_soon(spec)
            for render in session.renders:
                render.result()
            session.close(wait=png_timeout())
            took = (time.perf_counter() - wall, cpu_seconds() - cpu)
            best[name] = min(best.get(name, took), took)
    for name, (wall, cpu) in best.items():
        print(f"{name:24s} {len(figures)} PNGs, one browser: {wall:6.2f} s wall, {cpu:6.2f} CPU-s")
    small, full = best["cartesian bundle"], best["full bundle"]
    print(
        f"ratio (full / cartesian): {full[0] / small[0]:.2f}x wall, {full[1] / small[1]:.2f}x CPU"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--figures", type=int, default=12, help="PNGs per measurement")
    parser.add_argument("--repeats", type=int, default=1, help="measurements per variant (best)")
    parser.add_argument("--style", type=Path, default=Path("params/figures.yaml"))
    parser.add_argument(
        "--browsers", action="store_true", help="also: the headless shell against the full browser"
    )
    parser.add_argument(
        "--bundles",
        action="store_true",
        help="also: plotly.js's cartesian bundle against its full one",
    )
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
        if args.browsers:
            compare_browsers(figures, Path(tmp), style, args.repeats)
        if args.bundles:
            compare_bundles(figures, Path(tmp), style, args.repeats)


if __name__ == "__main__":
    main()
