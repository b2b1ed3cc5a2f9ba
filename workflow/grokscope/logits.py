"""How the logits are built: characters of the key irreps and the output-direction components.

The networks compute ``logit(a, b, c) ≈ Σ_r β_r · χ_r(a ∘ b ∘ c⁻¹)`` over the key irreps ``r``
(for cyclic groups ``Σ_k β_k cos(w_k (a + b − c))``). Logits are centred over ``c`` first:
softmax ignores a constant per pair, so only the centred part carries the answer.
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
