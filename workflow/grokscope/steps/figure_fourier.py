"""Figures: the Fourier basis functions (slider); (un)embedding norms per basis function;
irrep scores (key irreps starred); each embedding dimension in space and frequency."""

from __future__ import annotations

from typing import Any

import grokscope.plots.fourier as plots
from grokscope.groups import make_group
from grokscope.io import parquet_metadata, read_json, read_parquet
from grokscope.plots.common import Style
from grokscope.plots.render import Figures, write_figures
from grokscope.representations import fourier_basis
from grokscope.steps import Paths


def figures(inputs: Paths, style: Style) -> Figures:
    """The figures by name, unstyled (:func:`grokscope.plots.render.styled`).

    inputs: ``data`` (pairs.parquet, for the group), ``basis_norms``, ``irrep_norms``,
    ``weights``, ``key_irreps``.
    """
    fb = fourier_basis(make_group(**parquet_metadata(inputs["data"])["group"]))
    norms = read_parquet(inputs["basis_norms"])
    keys = read_json(inputs["key_irreps"])["key_irreps"]
    embeds = sorted(m for m in norms["matrix"].unique() if m.startswith("W_E"))
    title = f"Input embeddings ({', '.join(embeds)}) per basis function"
    return {
        "fourier_basis": plots.fourier_basis_functions(fb, style),
        "embedding_norms": plots.basis_norms(norms, embeds, keys, title, style),
        "unembedding_norms": plots.basis_norms(
            norms, ["W_U"], keys, "Unembedding W_U per basis function", style
        ),
        "irrep_scores": plots.irrep_scores(read_parquet(inputs["irrep_norms"]), keys, style),
        "embedding_dimensions": plots.embedding_dimensions(read_parquet(inputs["weights"]), style),
    }


def run(inputs: Paths, outputs: Paths, settings: dict[str, Any]) -> None:
    """inputs: those of :func:`figures` and ``plotly`` (the shared plotly.js); outputs:
    ``figures`` (the directory); settings: ``figures`` (the style)."""
    style = settings["figures"]
    write_figures(figures(inputs, style), outputs["figures"], style, inputs["plotly"])
