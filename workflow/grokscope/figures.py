"""Figures: read the analysis tables of one figure job, build its figures, render them.

A *figure job* (one Snakemake rule per experiment, e.g. ``figure_neurons``) reads its input
tables, turns them into several named figures with the pure builders of
:mod:`grokscope.plots`, and renders all of them into one output directory: each as
interactive HTML (sharing one ``plotly.min.js`` in that directory, so pages work offline) and
as PNG, all PNGs of a job through a single headless-browser session. Figure code reads
Parquet/JSON/CSV only, never checkpoints, so restyling never retrains. The group's Fourier
basis is rebuilt from the group recorded in the tables' metadata.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
import torch

# Plain `import` of each module, so `grokscope dvc-yaml` sees every file the figures use.
import grokscope.plots.cyclic as cyclic
import grokscope.plots.fourier as fourier
import grokscope.plots.logits as logits
import grokscope.plots.neurons as neurons
import grokscope.plots.progress as progress
import grokscope.plots.training as training
import grokscope.plots.universality as universality
from grokscope.cyclic import by_c_and_a
from grokscope.groups import Group, make_group
from grokscope.io import (
    ArtifactError,
    atomic_directory,
    parquet_metadata,
    read_json,
    read_parquet,
)
from grokscope.plots.common import Style, evenly_spaced, palette
from grokscope.representations import fourier_basis, project_2d

Paths = dict[str, Path]
Figures = dict[str, go.Figure]


# --------------------------------------------------------------------------------------------
# reading inputs


def read_metrics(path: Path) -> pd.DataFrame:
    """The training table ``train/metrics.csv`` (``epoch, train_loss, train_acc, test_loss,
    test_acc``)."""
    try:
        df = pd.read_csv(path)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise ArtifactError(f"{path}: not a readable metrics table ({err})") from None
    missing = {"epoch", "train_loss", "test_loss", "train_acc", "test_acc"} - set(df.columns)
    if missing:
        raise ArtifactError(f"{path}: metrics table lacks columns {sorted(missing)}")
    return df


def group_of(path: Path) -> Group:
    """The group recorded in a Parquet file's metadata (dataset or cached activation)."""
    meta = parquet_metadata(path)
    if "group" not in meta:
        raise ArtifactError(f"{path}: no group in the file's metadata")
    return make_group(meta["group"]["name"], meta["group"]["n"])


def activation_file(activations: Path, alias: str) -> Path:
    """The last checkpoint's cached activation file of ``alias`` (``neurons``, ``logits``, …)."""
    hook = read_json(activations / "hooks.json")["aliases"].get(alias, alias)
    files = sorted((activations / hook).glob("epoch_*.parquet"))
    if not files:
        raise ArtifactError(f"{activations / hook}: no cached activations")
    return files[-1]


def read_units(activations: Path, alias: str, units: list[int] | None = None) -> np.ndarray:
    """Selected units of a cached activation at the answer position, over all pairs.

    Reads only the wanted columns. Returns ``(order, order, len(units))`` float32 indexed by
    ``(a, b, unit)``; ``units=None`` reads every unit.
    """
    path = activation_file(activations, alias)
    shape = parquet_metadata(path)["unit_shape"]
    if len(shape) > 2:
        raise ArtifactError(f"{path}: expected (units,) or (positions, units), got {shape}")
    prefix = f"{shape[0] - 1}_" if len(shape) == 2 else ""  # transformers: the '=' position
    units = list(range(shape[-1])) if units is None else units
    df = read_parquet(path, columns=[f"{prefix}{u}" for u in units])
    order = math.isqrt(len(df))
    return df.to_numpy(dtype=np.float32).reshape(order, order, len(units))


def irrep_order(irreps: pd.DataFrame) -> list[str]:
    """Irrep labels in basis order, from ``irrep_norms.parquet``."""
    return irreps.drop_duplicates("irrep").sort_values("irrep_index")["irrep"].tolist()


# --------------------------------------------------------------------------------------------
# figure jobs: inputs (name → path) and style → {figure name: figure}


def job_training(inputs: Paths, style: Style) -> Figures:
    """Training curves. inputs: ``metrics`` (train/metrics.csv)."""
    metrics = read_metrics(inputs["metrics"])
    return {
        "training_curves": training.training_curves(metrics, style),
        "loss": training.training_loss(metrics, style),
        "accuracy": training.training_accuracy(metrics, style),
    }


def job_fourier(inputs: Paths, style: Style) -> Figures:
    """The weights in the Fourier basis. inputs: ``data`` (pairs.parquet, for the group),
    ``basis_norms``, ``irrep_norms``, ``weights``, ``key_irreps``."""
    fb = fourier_basis(group_of(inputs["data"]))
    norms = read_parquet(inputs["basis_norms"])
    keys = read_json(inputs["key_irreps"])["key_irreps"]
    embeds = sorted(m for m in norms["matrix"].unique() if m.startswith("W_E"))
    return {
        "fourier_basis": fourier.fourier_basis_functions(fb, style),
        "embedding_norms": fourier.basis_norms(
            norms, embeds, keys, f"Input embeddings ({', '.join(embeds)}) per basis function", style
        ),
        "unembedding_norms": fourier.basis_norms(
            norms, ["W_U"], keys, "Unembedding W_U per basis function", style
        ),
        "irrep_scores": fourier.irrep_scores(read_parquet(inputs["irrep_norms"]), keys, style),
        "embedding_dimensions": fourier.embedding_dimensions(
            read_parquet(inputs["weights"]), style
        ),
    }


def job_neurons(inputs: Paths, style: Style) -> Figures:
    """Selected neurons and logits over pairs and in the 2-D basis, mean 2-D power, clusters.

    inputs: ``activations`` (directory), ``clusters``, ``sizes``, ``fourier_mean``,
    ``irrep_norms``, ``metrics`` (neurons.json).
    """
    activations = inputs["activations"]
    clusters, sizes = read_parquet(inputs["clusters"]), read_parquet(inputs["sizes"])
    fb = fourier_basis(group_of(activation_file(activations, "neurons")))
    chosen = neurons.select_neurons(clusters, sizes, style["neurons"])
    hidden = read_units(activations, "neurons", chosen)
    info = clusters.set_index("neuron")
    titles = [f"neuron {n}: {info.at[n, 'irrep']} ({info.at[n, 'fraction']:.0%})" for n in chosen]
    centred = torch.from_numpy(hidden - hidden.mean(axis=(0, 1), keepdims=True)).double()
    coefficients = project_2d(centred, fb).numpy()
    outputs = evenly_spaced(fb.group.order, style["outputs"])
    logit_values = read_units(activations, "logits", outputs)
    labels = list(fb.labels)
    mean = read_parquet(inputs["fourier_mean"])
    order = irrep_order(read_parquet(inputs["irrep_norms"]))
    threshold = read_json(inputs["metrics"]).get("clean_threshold")
    return {
        "hidden_activations": neurons.activation_panels(
            hidden,
            titles,
            title="Hidden activations of selected neurons",
            labels=None,
            style=style,
            kind="sequential",
        ),
        "hidden_fourier": neurons.activation_panels(
            coefficients,
            titles,
            title="Selected neurons in the 2-D Fourier basis (centred)",
            labels=labels,
            style=style,
            kind="diverging",
        ),
        "output_activations": neurons.activation_panels(
            logit_values,
            [f"logit of c = {fb.group.labels[c]}" for c in outputs],
            title="Output activations (logits) of selected answers",
            labels=None,
            style=style,
            kind="diverging",
        ),
        "fourier_mean_neurons": neurons.fourier_power(
            mean, "neurons", "Mean 2-D Fourier power of the centred hidden activations", style
        ),
        "fourier_mean_logits": neurons.fourier_power(
            mean, "logits", "Mean 2-D Fourier power of the centred logits", style
        ),
        "neuron_fractions": neurons.neuron_fractions(clusters, order, threshold, style),
        "cluster_sizes": neurons.cluster_sizes(sizes, order, style),
    }


def job_logits(inputs: Paths, style: Style) -> Figures:
    """Readout by cluster, logit directions, character fit, ablations.

    inputs: ``readout``, ``directions``, ``fit`` (logits.json), ``key_irreps``,
    ``irrep_norms``, ``ablations``.
    """
    keys = read_json(inputs["key_irreps"])["key_irreps"]
    table = read_parquet(inputs["ablations"])
    order = irrep_order(read_parquet(inputs["irrep_norms"]))
    return {
        "readout_by_cluster": logits.readout_by_cluster(
            read_parquet(inputs["readout"]), order, keys, style
        ),
        "logit_directions": logits.logit_directions(read_parquet(inputs["directions"]), style),
        "logit_fit": logits.logit_fit(read_json(inputs["fit"]), style),
        "ablations": logits.ablation_summary(table, style),
        "ablations_by_irrep": logits.ablations_by_irrep(table, keys, style),
    }


def job_cyclic(inputs: Paths, style: Style) -> Figures:
    """Seed ``004``'s views (cyclic groups only).

    inputs: ``activations`` (directory), ``phases`` (neuron_phases.parquet), ``harmonics``,
    ``resid`` (resid_by_c_a.parquet), ``ablations``, ``metrics`` (cyclic.json).
    """
    activations = inputs["activations"]
    group = group_of(activation_file(activations, "neurons"))
    if group.name != "cyclic":
        raise ArtifactError(
            f"{activations}: cyclic figures need a cyclic group, not {group.symbol}"
        )
    n, key_freqs = group.order, read_json(inputs["metrics"])["key_frequencies"]
    phases = read_parquet(inputs["phases"])
    steps = style["slider_steps"]
    figures = {
        "relu_harmonics": cyclic.relu_harmonics(
            n, key_freqs, read_parquet(inputs["harmonics"]), steps, style
        ),
        "frequency_ablations": cyclic.frequency_ablations(read_parquet(inputs["ablations"]), style),
        "neuron_phases": cyclic.neuron_phase_polar(phases, key_freqs, style),
        "resid_by_c_a": _by_c_and_a(inputs["resid"], activations, style),
    }
    # One frequency's neurons: the key frequency with the most neurons.
    known = phases[phases["phase"].notna() & phases["frequency"].isin(key_freqs)]
    if len(known):
        k = int(known["frequency"].value_counts().sort_index().idxmax())
        members = known[known["frequency"] == k].sort_values(["phase", "neuron"])
        aliases = read_json(activations / "hooks.json")["aliases"]
        alias = "neurons_pre" if "neurons_pre" in aliases else "neurons"
        pre = read_units(activations, alias, members["neuron"].tolist()).transpose(2, 0, 1)
        names = [f"n{r.neuron} ({r.phase:+.2f})" for r in members.itertuples()]
        a_values = evenly_spaced(n, steps)
        weights = members["readout_cos"].fillna(0.0).to_numpy()
        ideal = cyclic.ideal_neurons(n, k, max(len(members), 8))
        figures |= {
            "preactivations_by_phase": cyclic.preactivations_by_phase(
                pre, names, a_values, k, style
            ),
            "running_sums": cyclic.running_sums(
                pre,
                weights,
                a_values,
                f"Running sums of the frequency-{k} neurons (weights: readout onto cos {k})",
                style,
            ),
            "running_sums_ideal": cyclic.running_sums(
                ideal,
                np.ones(len(ideal)),
                a_values,
                f"Running sums of idealised frequency-{k} neurons",
                style,
            ),
        }
    return figures


def _by_c_and_a(resid: Path, activations: Path, style: Style) -> go.Figure:
    """The residual stream at '=' (transformers) or the hidden neurons (models without a
    residual stream), reordered by ``(c, a)``; the ``resid_dims`` units of largest variance."""
    table = read_parquet(resid)
    dims = [c for c in table.columns if c not in ("c", "a", "b")]
    n = math.isqrt(len(table))
    if dims:
        values = table[dims].to_numpy(dtype=np.float32).reshape(n, n, len(dims))
        what = "Residual stream at '='"
    else:
        hidden = read_units(activations, "neurons")
        values = by_c_and_a(torch.tensor(hidden)).numpy()
        dims = [str(i) for i in range(values.shape[-1])]
        what = "Hidden neurons (no residual stream)"
    variance = values.reshape(n * n, -1).var(axis=0)
    top = np.argsort(-variance, kind="stable")[: style["resid_dims"]]
    names = [f"{'dim' if what.startswith('Resid') else 'neuron'} {dims[i]}" for i in top]
    return cyclic.by_c_and_a(
        values[:, :, top], names, f"{what} by (c, a), largest variance first", style
    )


def job_progress(inputs: Paths, style: Style) -> Figures:
    """Progress measures. inputs: ``progress`` (progress.parquet), ``phases`` (phases.json)."""
    table = read_parquet(inputs["progress"]).sort_values("epoch")
    phases = read_json(inputs["phases"])
    return {
        "progress_losses": progress.progress_losses(table, phases, style),
        "progress_measures": progress.progress_measures(table, phases, style),
    }


def job_universality(inputs: Paths, style: Style) -> Figures:
    """A sweep's universality. inputs: ``table`` (universality.parquet), ``summary``
    (universality.json)."""
    table = read_parquet(inputs["table"])
    summary = read_json(inputs["summary"])
    return {
        "universality_learned": universality.learned_heatmap(table, style),
        "universality_counts": universality.learned_counts(summary, style),
    }


# Figure job → builder of its figures; one Snakemake rule per job (workflow/rules/figures.smk).
FIGURE_JOBS: dict[str, Callable[[Paths, Style], Figures]] = {
    "training": job_training,
    "fourier": job_fourier,
    "neurons": job_neurons,
    "logits": job_logits,
    "cyclic": job_cyclic,
    "progress": job_progress,
    "universality": job_universality,
}


# --------------------------------------------------------------------------------------------
# rendering


def styled(fig: go.Figure, style: Style) -> go.Figure:
    """Apply the shared style from ``params/figures.yaml`` (template, size, font, palette)."""
    return fig.update_layout(
        template=style["template"],
        width=style["width"],
        height=style["height"],
        font_size=style["font_size"],
        colorway=palette(style),
    )


def write_figures(figures: dict[str, go.Figure], out_dir: Path, style: Style) -> None:
    """Render ``{name: figure}`` to ``out_dir/name.html`` and ``name.png``, atomically.

    Everything is written to a temporary sibling directory that replaces ``out_dir`` only
    once every file is complete. All PNGs go through one browser session (one
    ``plotly.io.write_images`` call), at ``width × scale`` by ``height × scale`` pixels.
    """
    with atomic_directory(out_dir) as tmp:
        for name, fig in figures.items():
            # A fixed div id keeps the HTML byte-identical across renders of the same data.
            fig.write_html(tmp / f"{name}.html", include_plotlyjs="directory", div_id=name)
        pio.write_images(
            list(figures.values()),
            [tmp / f"{name}.png" for name in figures],
            width=style["width"],
            height=style["height"],
            scale=style["scale"],
        )


def render_job(name: str, inputs: Paths, style: Style, out_dir: Path) -> list[str]:
    """Build every figure of figure job ``name`` from ``inputs`` and write them to ``out_dir``;
    returns the figure names."""
    if name not in FIGURE_JOBS:
        raise ValueError(f"unknown figure job {name!r}; have {sorted(FIGURE_JOBS)}")
    figures = {fig: styled(f, style) for fig, f in FIGURE_JOBS[name](inputs, style).items()}
    write_figures(figures, out_dir, style)
    return list(figures)
