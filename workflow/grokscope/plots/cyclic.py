"""Signal-processing views of cyclic-group models (seed ``004``): harmonics that a ReLU
creates, the frequency ablations, the neurons of one frequency ordered by phase, running sums
of those neurons with and without the ReLU, and the last hidden representation reordered by
``(c, a)``. Only built for cyclic groups."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from grokscope.plots.common import (
    SliderStep,
    Style,
    add_slider,
    f32,
    line_trace,
    loss_bars,
    palette,
)
from grokscope.plots.heatmaps import color_axis, heatmap_trace

FREQUENCY_ABLATIONS = {
    "baseline": "regular",
    "without sum/difference frequencies": "without sum/difference frequencies",
    "key frequencies only": "key frequencies only",
}


def relu_harmonics(
    signals: dict[str, np.ndarray],
    shifted: dict[str, tuple[np.ndarray, np.ndarray]],
    shifts: np.ndarray,
    marks: Sequence[int],
    k1: int,
    style: Style,
) -> go.Figure:
    """A ReLU applied to ever lower-shifted copies of each test signal (left) and the
    spectrum of the result (right), one shift per slider step; dotted lines at ``marks``
    (the first key frequency and its harmonics).

    ``signals``: name → ``(n,)``; ``shifted``: name → (clipped ``(steps, n)``, spectra
    ``(steps, n//2 + 1)``) from :func:`grokscope.cyclic.relu_shifted`; ``shifts``: ``(steps,)``.
    """
    n = len(next(iter(signals.values())))
    fig = make_subplots(
        rows=len(signals),
        cols=2,
        subplot_titles=[t for name in signals for t in (f"ReLU({name} − shift)", "spectrum")],
    )
    freqs = np.arange(n // 2 + 1)
    color = palette(style)[0]
    slider = []
    for i, t in enumerate(shifts):
        traces = []
        for row, name in enumerate(signals, start=1):
            clipped, spectra = shifted[name]
            line = line_trace(np.arange(n), clipped[i], name=name, color=color, showlegend=False)
            traces.append((line, row, 1))
            bar = go.Bar(x=freqs, y=f32(spectra[i]), marker_color=color, showlegend=False)
            traces.append((bar, row, 2))
        slider.append(SliderStep(f"{t:.2f}", traces))
    add_slider(fig, slider, prefix="shift (fraction of the range): ")
    for row, name in enumerate(signals, start=1):
        top = float(shifted[name][1].max())
        fig.update_yaxes(range=[0, 1.05 * top], row=row, col=2)
        fig.update_yaxes(range=[-0.05, 1.05 * float(np.ptp(signals[name]))], row=row, col=1)
        for f in sorted(set(marks) | {k1}):
            fig.add_vline(x=f, line_dash="dot", line_color="grey", row=row, col=2)
    fig.update_xaxes(title="a", col=1, row=len(signals)).update_xaxes(
        title="frequency", col=2, row=len(signals)
    )
    return fig.update_layout(title=f"Harmonics of frequency {k1} created by a ReLU")


def frequency_ablations(ablations: pd.DataFrame, style: Style) -> go.Figure:
    """Train and test loss of the neurons as they are, without the sum/difference frequencies
    of the key frequencies, and with the key frequencies only (seed ``004``), log y."""
    rows = ablations[ablations["ablation"].isin(FREQUENCY_ABLATIONS)].drop_duplicates("ablation")
    rows = rows.set_index("ablation").reindex(
        [a for a in FREQUENCY_ABLATIONS if a in set(rows.index)]
    )
    names = [FREQUENCY_ABLATIONS[a] for a in rows.index]
    return loss_bars(rows, names, "Frequency ablations of the neurons")


def neuron_phase_polar(phases: pd.DataFrame, key_freqs: Sequence[int], style: Style) -> go.Figure:
    """Each neuron's phase (angle, also its colour on the cyclic scale) and amplitude
    (radius) at its frequency, one marker symbol per key frequency.

    ``phases``: ``neuron_phases.parquet`` (``neuron, frequency, amplitude, phase``).
    """
    symbols = ["circle", "square", "diamond", "cross", "x", "triangle-up", "star", "hexagon"]
    fig = go.Figure(layout={"title": "Neuron phases at their frequency"})
    for i, k in enumerate(key_freqs):
        part = phases[(phases["frequency"] == k) & phases["phase"].notna()]
        fig.add_scatterpolar(
            r=f32(part["amplitude"]),
            theta=f32(np.degrees(part["phase"])),
            mode="markers",
            name=f"freq {k}",
            marker={
                "color": f32(part["phase"]),
                "coloraxis": "coloraxis",
                "symbol": symbols[i % len(symbols)],
                "size": 9,
            },
            hovertext=[f"neuron {n}" for n in part["neuron"]],
        )
    axis = color_axis(style, "cyclic", title="phase (rad)")
    fig.update_layout(legend={"x": 0, "y": 1, "xanchor": "left"})
    return fig.update_layout(coloraxis=axis | {"cmin": -np.pi, "cmax": np.pi})


def preactivations_by_phase(
    pre: np.ndarray, names: Sequence[str], a_values: Sequence[int], k: int, style: Style
) -> go.Figure:
    """Pre-activations of one frequency's neurons, ordered by phase, as functions of ``b``
    (columns) with ``a`` on the slider.

    ``pre``: ``(neurons, n, n)`` indexed by ``(neuron, a, b)``, already in phase order;
    ``names``: one row label per neuron.
    """
    fig = go.Figure()
    steps = [
        SliderStep(str(a), [(heatmap_trace(pre[:, a, :], y=list(names)), None, None)])
        for a in a_values
    ]
    add_slider(fig, steps, prefix="a = ")
    fig.update_layout(
        title=f"Pre-activations of the frequency-{k} neurons, ordered by phase",
        coloraxis=color_axis(style, "diverging", values=pre),
    )
    fig.update_xaxes(title="b", showgrid=False)
    return fig.update_yaxes(title="neuron (by phase)", type="category", autorange="reversed")


def running_sums(
    pre: np.ndarray, weights: np.ndarray, a_values: Sequence[int], title: str, style: Style
) -> go.Figure:
    """Running sums over neurons (in the given order) of ``weight · ReLU(pre)`` (top) and of
    ``weight · pre`` (bottom) as functions of ``b``, with ``a`` on the slider: row ``i`` is
    the sum of the first ``i + 1`` neurons. With the ReLU the full sum becomes a wave in
    ``a + b``; without it, the ``a`` and ``b`` waves only add.

    ``pre``: ``(neurons, n, n)`` indexed by ``(neuron, a, b)``; ``weights``: ``(neurons,)``.
    """
    w = weights[:, None, None]
    sums = {
        "with ReLU": np.cumsum(w * np.maximum(pre, 0.0), axis=0),
        "without ReLU": np.cumsum(w * pre, axis=0),
    }
    fig = make_subplots(rows=2, cols=1, subplot_titles=list(sums), vertical_spacing=0.15)
    steps = []
    for a in a_values:
        traces = []
        for row, (name, total) in enumerate(sums.items(), start=1):
            axis = "coloraxis" if row == 1 else "coloraxis2"
            traces.append((heatmap_trace(total[:, a, :], coloraxis=axis, name=name), row, 1))
        steps.append(SliderStep(str(a), traces))
    add_slider(fig, steps, prefix="a = ")
    fig.update_layout(
        title=title,
        coloraxis=color_axis(style, "diverging", values=sums["with ReLU"], showscale=False),
        coloraxis2=color_axis(style, "diverging", values=sums["without ReLU"], showscale=False),
    )
    fig.update_xaxes(title="b", row=2, showgrid=False)
    return fig.update_yaxes(title="neurons summed", autorange="reversed", showgrid=False)


def units_by_c_and_a(
    values: np.ndarray, names: Sequence[str], title: str, style: Style
) -> go.Figure:
    """Units reordered by ``(c, a)`` with ``b = c − a``, one unit per slider step, each scaled
    to a maximum absolute value of 1 (symmetry about ``a = c/2`` shows as mirror images
    along each row). ``values``: ``(n, n, units)`` indexed by ``(c, a, unit)``."""
    scale = np.abs(values).max(axis=(0, 1), keepdims=True)
    scaled = values / np.where(scale > 0, scale, 1.0)
    fig = go.Figure()
    steps = [
        SliderStep(name, [(heatmap_trace(scaled[:, :, i]), None, None)])
        for i, name in enumerate(names)
    ]
    add_slider(fig, steps, prefix="unit: ")
    fig.update_layout(title=title, coloraxis=color_axis(style, "diverging", values=scaled))
    fig.update_xaxes(title="a", showgrid=False)
    return fig.update_yaxes(title="c = a + b", autorange="reversed", showgrid=False)
