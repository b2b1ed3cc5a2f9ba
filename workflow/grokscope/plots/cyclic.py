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
from grokscope.plots.heatmaps import Panel, color_axis, heatmap_grid, heatmap_trace


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
    """Train and test loss of the neurons as they are ("regular"), then of each frequency
    ablation (rows with target ``neurons``: seed ``004``'s exactly, then generalised), log y."""
    rows = ablations[(ablations["ablation"] == "baseline") | (ablations["target"] == "neurons")]
    rows = rows.drop_duplicates("ablation").set_index("ablation")
    names = ["regular" if a == "baseline" else a for a in rows.index]
    fig = loss_bars(rows, names, "Frequency ablations of the neurons")
    return fig.update_xaxes(tickangle=-20)


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
    pre: np.ndarray,
    names: Sequence[str],
    a_values: Sequence[int],
    k: int,
    style: Style,
    title: str | None = None,
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
        title=title or f"Pre-activations of the frequency-{k} neurons, ordered by phase",
        coloraxis=color_axis(style, "diverging", values=pre),
    )
    fig.update_xaxes(title="b", showgrid=False)
    return fig.update_yaxes(title="neuron (by phase)", type="category", autorange="reversed")


def running_sums(
    pre: np.ndarray,
    weights: np.ndarray,
    a_values: Sequence[int],
    title: str,
    style: Style,
    relu: bool = True,
) -> go.Figure:
    """Running sums over neurons (in the given order) of ``weight · ReLU(pre)`` (top) and of
    ``weight · pre`` (bottom) as functions of ``b``, with ``a`` on the slider: row ``i`` is
    the sum of the first ``i + 1`` neurons. With the ReLU the full sum becomes a wave in
    ``a + b``; without it, the ``a`` and ``b`` waves only add.

    ``pre``: ``(neurons, n, n)`` indexed by ``(neuron, a, b)``; ``weights``: ``(neurons,)``.
    With ``relu=False`` (units with no ReLU, such as the bilinear net's products) only the
    plain running sum is drawn.
    """
    w = weights[:, None, None]
    sums = {"without ReLU": np.cumsum(w * pre, axis=0)}
    if relu:
        sums = {"with ReLU": np.cumsum(w * np.maximum(pre, 0.0), axis=0), **sums}
    fig = make_subplots(rows=len(sums), cols=1, subplot_titles=list(sums), vertical_spacing=0.15)
    steps = []
    for a in a_values:
        traces = []
        for row, (name, total) in enumerate(sums.items(), start=1):
            axis = "coloraxis" if row == 1 else "coloraxis2"
            traces.append((heatmap_trace(total[:, a, :], coloraxis=axis, name=name), row, 1))
        steps.append(SliderStep(str(a), traces))
    add_slider(fig, steps, prefix="a = ")
    fig.update_layout(title=title)
    for row, total in enumerate(sums.values(), start=1):
        axis = "coloraxis" if row == 1 else "coloraxis2"
        fig.update_layout({axis: color_axis(style, "diverging", values=total, showscale=False)})
    fig.update_xaxes(title="b", row=len(sums), showgrid=False)
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


def handmade_wave(waves: dict[str, np.ndarray], shifts: Sequence[int], style: Style) -> go.Figure:
    """Seed ``004``'s hand-made wave (top), its reversed copy shifted by ``c`` (middle) and
    their sum (bottom), one ``c`` per slider step, offset apart as in the notebook; dotted
    markers at the sum's symmetry points ``c/2`` and ``c/2 + n/2``.

    ``waves``: name → ``(n, n)`` indexed ``(c, x)``
    (:func:`grokscope.cyclic_ideal.reversed_shifted`).
    """
    n = next(iter(waves.values())).shape[1]
    span = float(np.ptp(waves["wave"][0]))
    offsets = {"sum": -1.5 * span, "wave": span, "reversed, shifted by c": 0.0}
    colors = palette(style)
    top, bottom = max(offsets.values()) + 2 * span, min(offsets.values()) - 2 * span
    fig = go.Figure()
    steps = []
    for c in shifts:
        traces = [
            (line_trace(np.arange(n), waves[name][c] + offsets[name], name=name,
                        color=colors[i % len(colors)]), None, None)
            for i, name in enumerate(waves)
        ]  # fmt: skip
        for x in (c / 2, c / 2 + n / 2):
            marker = go.Scatter(x=[x, x], y=[bottom, top], mode="lines", showlegend=False,
                                line={"dash": "dot", "color": "grey"})  # fmt: skip
            traces.append((marker, None, None))
        steps.append(
            SliderStep(
                str(c),
                traces,
                title=f"Hand-made wave, reversed and shifted: "
                f"c = {c}, symmetric about {c / 2:g} and {c / 2 + n / 2:g}",
            )
        )
    add_slider(fig, steps, prefix="shift c = ")
    fig.update_xaxes(title="x", range=[-0.5, n - 0.5])
    return fig.update_yaxes(title="value (offset apart)", range=[bottom, top])


def centred_cosines(
    cosines: np.ndarray,
    freqs: Sequence[int],
    c_values: Sequence[int],
    a_values: Sequence[int],
    style: Style,
) -> go.Figure:
    """Seed ``004``'s idealised activations: unit cosines of each key frequency centred on
    ``c/2`` over positions ``x`` and their scaled sum (thick), one ``c`` per slider step; the
    markers are the pairs ``x = a`` (circle) and ``x = b = c − a`` (square), at equal heights.

    ``cosines``: ``(len(freqs) + 1, n, n)`` indexed ``(frequency, c, x)``.
    """
    n = cosines.shape[-1]
    colors = palette(style)
    fig = go.Figure()
    steps = []
    names = [f"freq {f}" for f in freqs] + ["sum (scaled)"]
    for c in c_values:
        traces = []
        for i, name in enumerate(names):
            trace = line_trace(
                np.arange(n), cosines[i, c], name=name, color=colors[i % len(colors)]
            )
            trace.line.width = 4 if i == len(freqs) else 1.5
            traces.append((trace, None, None))
        a = np.asarray(a_values)
        b = (c - a) % n
        for x, symbol, name in ((a, "circle", "x = a"), (b, "square", "x = b = c − a")):
            marker = {"symbol": symbol, "size": 10, "color": "black"}
            points = go.Scatter(
                x=x, y=f32(cosines[-1, c, x]), mode="markers", name=name, marker=marker
            )
            traces.append((points, None, None))
        steps.append(SliderStep(str(c), traces, title=f"Cosines centred on c/2 = {c / 2:g}"))
    add_slider(fig, steps, prefix="c = ")
    fig.update_xaxes(title="x (position of a or b)")
    return fig.update_yaxes(title="value", range=[-1.1, 1.1])


def attention_a_vs_b(pattern: np.ndarray, style: Style) -> go.Figure:
    """Attention from '=' to ``a`` (top row) and to ``b`` (bottom row), one column per head,
    over ``(a, b)``; ``pattern``: ``(n, n, heads, 3)`` (key positions ``a, b, =``)."""
    heads = pattern.shape[2]
    panels = [
        Panel(f"head {h}: to {name}", pattern[:, :, h, pos])
        for pos, name in ((0, "a"), (1, "b"))
        for h in range(heads)
    ]
    return heatmap_grid(panels, title="Attention paid at '=' to a and to b", xaxis="b",
                        yaxis="a", style=style, columns=heads)  # fmt: skip
