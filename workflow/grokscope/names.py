"""Params whose meaning depends on a library or on the group: plotly names, irrep labels.

Checked when params are loaded, before any job, each failure one :class:`ParamsError` line
naming the file, the field and what is allowed. Cheap on purpose, since params are loaded at
every Snakemake start: plotly's name lists and the rules its validators apply (importing
``plotly.graph_objects`` to call them would cost several times more), and irrep labels from
closed forms (cyclic, dihedral), partitions (``S_n``) and the hook length formula (``A_n``)
instead of building Fourier bases. The tests compare both with the real thing: plotly's
validators and :func:`grokscope.representations.fourier_basis`.
"""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path
from typing import Any

from grokscope.errors import ParamsError

COLORSCALE_FIELDS = ("colorscale", "diverging_colorscale", "cyclic_colorscale")


def _listing(names: list[str], limit: int = 8) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f", … ({len(names)} in all)" if len(names) > limit else "")


def is_colorscale(name: str) -> bool:
    """Whether plotly takes ``name`` as a colour scale: a named scale in any case, or one
    with ``_r`` appended (reversed), as ``layout.coloraxis.colorscale`` validates it."""
    from plotly.colors import named_colorscales

    scales, name = set(named_colorscales()), name.lower()
    return name in scales or (name.endswith("_r") and name[:-2] in scales)


def check_figure_names(figures: dict[str, Any], path: str | Path) -> None:
    """The template, palette and colour scales of ``params/figures.yaml`` exist in plotly."""
    import plotly.io as pio
    from plotly.colors import named_colorscales, qualitative

    template = figures["template"]
    if not all(part in pio.templates for part in template.split("+")):
        raise ParamsError(
            f"{path}: template: {template!r} is not a plotly template; use one of "
            f"{', '.join(pio.templates)} (or several joined by '+')"
        )
    palettes = [n for n in dir(qualitative) if isinstance(getattr(qualitative, n), list)]
    palettes = sorted(n for n in palettes if not n.startswith("_"))
    if figures["colorway"] not in palettes:
        raise ParamsError(
            f"{path}: colorway: {figures['colorway']!r} is not a plotly palette "
            f"(plotly.colors.qualitative); use one of {', '.join(palettes)}"
        )
    for field in COLORSCALE_FIELDS:
        if not is_colorscale(figures[field]):
            raise ParamsError(
                f"{path}: {field}: {figures[field]!r} is not a plotly colour scale; use a name "
                f"of plotly.colors.named_colorscales() (any case, _r to reverse), e.g. "
                f"{_listing(sorted(named_colorscales()), 6)}"
            )


def _partitions(n: int, largest: int | None = None) -> list[tuple[int, ...]]:
    """Partitions of ``n`` in decreasing lexicographic order."""
    largest = n if largest is None else largest
    if n == 0:
        return [()]
    return [(k, *rest) for k in range(min(n, largest), 0, -1) for rest in _partitions(n - k, k)]


def _conjugate(partition: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(sum(1 for p in partition if p > i) for i in range(partition[0]))


def _dimension(partition: tuple[int, ...]) -> int:
    """Dimension of the ``S_n`` irrep of ``partition`` (hook length formula)."""
    conj = _conjugate(partition)
    hooks = math.prod(
        (row - j) + (conj[j] - i) - 1 for i, row in enumerate(partition) for j in range(row)
    )
    return math.factorial(sum(partition)) // hooks


def _alternating_dims(n: int) -> list[int]:
    """Dimensions of the non-trivial real irreps of ``A_n``: an ``S_n`` irrep λ ≠ λ' restricts
    to one irrep (λ and λ' to the same); a self-conjugate λ splits into two of half its
    dimension, complex conjugates (one real irrep of λ's dimension) when (n − d)/2 is odd,
    d the length of λ's diagonal, and two real ones otherwise."""
    dims = []
    for partition in _partitions(n)[1:]:
        conj = _conjugate(partition)
        if partition > conj or conj == (n,):
            continue  # counted with its conjugate, or the trivial irrep
        dim = _dimension(partition)
        if partition != conj:
            dims.append(dim)
        elif (n - sum(1 for i, p in enumerate(partition) if p > i)) // 2 % 2:
            dims.append(dim)
        else:
            dims += [dim // 2, dim // 2]
    return dims


def _letters(pos: int) -> str:
    out, pos = "", pos + 1
    while pos:
        pos, r = divmod(pos - 1, 26)
        out = chr(ord("a") + r) + out
    return out


def irrep_labels(name: str, n: int) -> list[str]:
    """The labels of the non-trivial irreps of a group, as
    :func:`grokscope.representations.fourier_basis` names them (the key-irrep candidates)."""
    if name == "cyclic":
        return [f"freq {k}" for k in range(1, n // 2 + 1)]
    if name == "dihedral":
        one_d = ["sign", "alt", "alt·sign"] if n % 2 == 0 else ["sign"]
        return one_d + [f"rot {k}" for k in range(1, (n + 1) // 2)]
    if name == "symmetric":
        return [str(list(p)) for p in _partitions(n)[1:]]
    counts = Counter(_alternating_dims(n))
    return [
        f"{dim}{_letters(i) if count > 1 else ''}"
        for dim, count in sorted(counts.items())
        for i in range(count)
    ]


def check_key_irreps(
    rule: dict[str, Any], experiments: dict[str, dict[str, Any]], path: str | Path
) -> None:
    """With rule ``explicit``, every label in ``key_irreps.irreps`` is an irrep of the group of
    every experiment the suite builds (``experiments``: name → params)."""
    if rule["rule"] != "explicit":
        return
    if not rule["irreps"]:
        raise ParamsError(f"{path}: key_irreps.irreps: rule `explicit` needs at least one label")
    for name, exp in experiments.items():
        group = exp["group"]
        labels = irrep_labels(group["name"], group["n"])
        unknown = [label for label in rule["irreps"] if label not in labels]
        if unknown:
            symbol = f"{group['name'][0].upper()}_{group['n']}"
            raise ParamsError(
                f"{path}: key_irreps.irreps: {', '.join(map(repr, unknown))} not an irrep of "
                f"{symbol} (experiment {name}); its irreps are {_listing(labels)}"
            )
