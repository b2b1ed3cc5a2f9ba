"""How the logits are built: characters of the key irreps and the output-direction components.

The networks compute ``logit(a, b, c) ≈ Σ_r β_r · χ_r(a ∘ b ∘ c⁻¹)`` over the key irreps ``r``
(for cyclic groups ``Σ_k β_k cos(w_k (a + b − c))``). Logits are centred over ``c`` first:
softmax ignores a constant per pair, so only the centred part carries the answer.

The *logit similarity* of an irrep (the Toy Model of Universality's reference definition of
key irreps, ``Metrics.logit_trace_similarity``) is the cosine between the centred logit cube
and the irrep's character cube ``χ_r(a ∘ b ∘ c⁻¹) = tr ρ_r(a b c⁻¹)`` over all ``(a, b, c)``.
Characters of different irreps are orthogonal over the cube (``Σ_{a,b,c} χ_r χ_s(a b c⁻¹) =
|G|² Σ_g χ_r(g) χ_s(g) = 0``), so the squared similarities add up: ``Σ_{r ∈ S} sim_r²`` is the
fraction of centred logit variance the irreps ``S`` explain (the least-squares FVE of
:func:`logit_fve`).
"""

from __future__ import annotations

import pandas as pd
import torch

from grokscope.representations import FourierBasis, Irrep, project_2d


def centred_logits(logits: torch.Tensor, order: int) -> torch.Tensor:
    """``(order², order)`` row-major logits → ``(order, order, order)`` centred over ``c``."""
    cube = logits.double().reshape(order, order, order)
    return cube - cube.mean(dim=2, keepdim=True)


def character_features(fb: FourierBasis, irreps: list[Irrep]) -> torch.Tensor:
    """``(len(irreps), order, order, order)``: ``χ_r(a ∘ b ∘ c⁻¹)`` for each irrep ``r``."""
    group = fb.group
    abc = group.table[group.table][:, :, group.inverse(torch.arange(group.order))]
    return torch.stack([irrep.character[abc] for irrep in irreps])


def logit_similarity(logits: torch.Tensor, fb: FourierBasis) -> pd.Series:
    """Cosine between the centred logits and each non-trivial irrep's character cube.

    Args:
        logits: ``(order², order)`` over all pairs, row-major (or ``(order, order, order)``).

    Returns:
        One value per non-trivial irrep (index: labels, basis order), in ``[−1, 1]``.

    The cube is never built: summing the logits over the pairs with the same product
    ``g = a ∘ b`` first gives ``S(g, c)``, and ``⟨L, χ(a b c⁻¹)⟩ = Σ_{g,c} S(g, c) χ(g c⁻¹)``;
    ``‖χ(a b c⁻¹)‖² = |G|² Σ_g χ(g)²``.
    """
    group = fb.group
    order = group.order
    cube = centred_logits(logits.reshape(order * order, order), order)  # (a, b, c)
    by_product = torch.zeros(order, order, dtype=torch.float64)  # (g, c)
    by_product.index_add_(0, group.table.reshape(-1), cube.reshape(order * order, order))
    g_c_inverse = group.table[:, group.inverse(torch.arange(order))]  # (g, c) → g ∘ c⁻¹
    chars = torch.stack([irrep.character for irrep in fb.irreps[1:]])  # (irreps, order)
    inner = torch.einsum("gc,rgc->r", by_product, chars[:, g_c_inverse])
    norms = chars.pow(2).sum(dim=1).sqrt() * order * cube.pow(2).sum().sqrt()
    labels = [irrep.label for irrep in fb.irreps[1:]]
    return pd.Series((inner / norms.clamp(min=1e-300)).numpy(), index=labels)


def logit_fve(logits: torch.Tensor, fb: FourierBasis, irreps: list[Irrep]) -> dict[str, object]:
    """Fraction of centred logit variance explained by the key irreps' characters.

    Args:
        logits: ``(order², order)`` over all pairs, row-major.
        irreps: the key irreps.

    Returns:
        ``fve``: least squares with one coefficient per irrep; ``fve_sum``: one coefficient
        on ``Σ_r χ_r``; ``coefficients``: ``{label: β_r}`` of the first fit.
    """
    target = centred_logits(logits, fb.group.order).reshape(-1)  # (order³,)
    features = character_features(fb, irreps).reshape(len(irreps), -1).T  # (order³, n_key)
    total = target.pow(2).sum()

    def explained(x: torch.Tensor) -> tuple[float, torch.Tensor]:
        # Normal equations: a (n_key, n_key) solve. LAPACK's lstsq on the tall matrix is not
        # bit-reproducible run to run; these matmuls are, and the metrics must be.
        beta = torch.linalg.solve(x.T @ x, x.T @ target)
        return float(1 - (target - x @ beta).pow(2).sum() / total), beta

    fve, beta = explained(features)
    fve_sum, _ = explained(features.sum(dim=1, keepdim=True))
    return {
        "fve": fve,
        "fve_sum": fve_sum,
        "coefficients": {irrep.label: float(b) for irrep, b in zip(irreps, beta, strict=True)},
    }


def output_direction_components(
    logits: torch.Tensor, fb: FourierBasis, irreps: list[Irrep]
) -> pd.DataFrame:
    """2-D Fourier coefficients of the logits' component along each output basis function.

    For every basis function ``φ`` of the given irreps, the component ``L_φ(a, b) = Σ_c
    logit(a, b, c) φ(c)`` (the notebook's ``cos(wz)``/``sin(wz)`` directions) is written in
    the 2-D basis. A network computing ``cos(w(a+b−c))`` shows ``+C`` on ``cos·cos`` and ``−C``
    on ``sin·sin`` in the ``cos wz`` direction. Long table: ``irrep, direction, x, y,
    x_label, y_label, coefficient``.
    """
    order = fb.group.order
    cube = centred_logits(logits, order)  # (a, b, c)
    frames = []
    for irrep in irreps:
        for row in irrep.rows:
            component = cube @ fb.basis64[row]  # (order, order)
            coef = project_2d(component, fb)
            frames.append(
                pd.DataFrame(
                    {
                        "irrep": irrep.label,
                        "direction": fb.labels[row],
                        "x": torch.arange(order).repeat_interleave(order).numpy(),
                        "y": torch.arange(order).repeat(order).numpy(),
                        "coefficient": coef.reshape(-1).numpy(),
                    }
                )
            )
    out = pd.concat(frames, ignore_index=True)
    out["x_label"] = [fb.labels[i] for i in out["x"]]
    out["y_label"] = [fb.labels[i] for i in out["y"]]
    return out


def output_direction_values(
    logits: torch.Tensor, fb: FourierBasis, irreps: list[Irrep]
) -> pd.DataFrame:
    """The logits' component along each output basis function of ``irreps`` as a function
    of ``(a, b)`` (seed ``000``'s open TODO: "take a Fourier logit frequency and plot as a
    function of x and y"): ``L_φ(a, b) = Σ_c logit(a, b, c) φ(c)``.

    Long table: ``irrep, direction, a, b, value`` (centred logits, float32 values).
    """
    order = fb.group.order
    cube = centred_logits(logits, order)  # (a, b, c)
    frames = []
    for irrep in irreps:
        for row in irrep.rows:
            frames.append(
                pd.DataFrame(
                    {
                        "irrep": irrep.label,
                        "direction": fb.labels[row],
                        "a": torch.arange(order).repeat_interleave(order).numpy(),
                        "b": torch.arange(order).repeat(order).numpy(),
                        "value": (cube @ fb.basis64[row]).reshape(-1).float().numpy(),
                    }
                )
            )
    return pd.concat(frames, ignore_index=True)


def strongest_other_irreps(
    logits: torch.Tensor, fb: FourierBasis, keys: list[Irrep], count: int
) -> list[Irrep]:
    """The ``count`` non-trivial, non-key irreps whose output directions carry the most of the
    centred logits' squared norm (the "odd" frequencies seed ``000`` wanted to look at)."""
    cube = centred_logits(logits, fb.group.order)
    power = (cube @ fb.basis64.T).pow(2).sum(dim=(0, 1))  # (order,) per output basis function
    key_index = {k.index for k in keys}
    others = [i for i in fb.irreps[1:] if i.index not in key_index]
    others.sort(key=lambda i: -float(power[list(i.rows)].sum()))
    return others[:count]
