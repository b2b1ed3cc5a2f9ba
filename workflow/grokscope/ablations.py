"""Ablations: change the hidden neurons' functions of (a, b), map them through the rest of the
network, and measure the loss.

All ablations act on the model's ``neuron_hook`` (post-ReLU neurons; the products of the
bilinear net) as functions over all pairs, then replace that activation in a forward pass, so
"the rest of the network" is exactly the model's own code (residual stream, W_out, W_U, …).

- *restricted*: keep each neuron's mean plus its components along the key irreps' ρ(ab)
  directions (for a cyclic group: cos(w(a+b)), sin(w(a+b)) of the key frequencies);
- *excluded*: remove exactly those components;
- *own block* (seed 000's validation): keep only the Fourier block of a neuron's own irrep;
- *frequencies* (seed 004, cyclic groups): zero frequencies along both inputs (FFT).
The same projections applied to the logits (functions of (a, b) for each c) give the
logit-level versions.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from grokscope.hooks import HookedModule
from grokscope.neurons import block_masks
from grokscope.representations import FourierBasis, Irrep, product_directions
from grokscope.train import loss_and_accuracy

Transform = Callable[[torch.Tensor], torch.Tensor]  # (order, order, units) → same shape


def product_basis(fb: FourierBasis, irreps: list[Irrep]) -> torch.Tensor:
    """Orthonormal ρ(ab) directions of ``irreps`` as ``(k, order²)`` float64 rows."""
    if not irreps:
        return torch.zeros(0, fb.group.order**2, dtype=torch.float64)
    dirs = torch.cat([product_directions(fb, irrep).double() for irrep in irreps])
    return dirs.reshape(len(dirs), -1)


def restrict(values: torch.Tensor, directions: torch.Tensor) -> torch.Tensor:
    """Keep each unit's mean plus its components along ``directions`` (orthonormal rows,
    mean-zero): ``(order, order, units)`` → same shape."""
    flat = values.double().reshape(-1, values.shape[-1])  # (order², units)
    mean = flat.mean(dim=0, keepdim=True)
    kept = directions.T @ (directions @ (flat - mean))
    return (mean + kept).reshape(values.shape).to(values.dtype)


def exclude(values: torch.Tensor, directions: torch.Tensor) -> torch.Tensor:
    """Remove each unit's components along ``directions``: same shape as ``values``."""
    flat = values.double().reshape(-1, values.shape[-1])
    removed = flat - directions.T @ (directions @ flat)
    return removed.reshape(values.shape).to(values.dtype)


def keep_block(values: torch.Tensor, fb: FourierBasis, irrep_index: int) -> torch.Tensor:
    """Keep only the 2-D Fourier block of one irrep (plus the constant): same shape."""
    mask = block_masks(fb)[irrep_index].clone()
    mask[0, 0] = True  # keep the mean
    basis = fb.basis64
    coef = torch.einsum("ia,abz,jb->ijz", basis, values.double(), basis)
    coef = coef * mask[:, :, None]
    return torch.einsum("ia,ijz,jb->abz", basis, coef, basis).to(values.dtype)


def remove_frequencies(values: torch.Tensor, freqs: list[int]) -> torch.Tensor:
    """Zero frequencies ``freqs`` (and ``n − f``) along both inputs of ``(n, n, units)``."""
    n = values.shape[0]
    spectrum = torch.fft.fft2(values.double(), dim=(0, 1))
    drop = torch.zeros(n, dtype=torch.bool)
    for f in freqs:
        drop[f % n] = drop[(-f) % n] = True
    spectrum[drop] = 0
    spectrum[:, drop] = 0
    return torch.fft.ifft2(spectrum, dim=(0, 1)).real.to(values.dtype)


def neuron_values(model: HookedModule, pairs: torch.Tensor) -> torch.Tensor:
    """The neuron activation over all pairs as ``(order, order, units)`` (answer position)."""
    _, cache = model.run_with_cache(pairs, [model.neuron_hook])
    values = cache[model.neuron_hook]
    values = values[:, -1] if values.ndim == 3 else values
    order = int(round(len(pairs) ** 0.5))
    return values.reshape(order, order, -1)


def logits_with_neurons(
    model: HookedModule, pairs: torch.Tensor, neurons: torch.Tensor
) -> torch.Tensor:
    """Logits ``(order², order)`` with the neuron activation replaced by ``neurons``
    ``(order, order, units)``."""
    flat = neurons.reshape(len(pairs), -1)

    def replace(x: torch.Tensor, _name: str) -> torch.Tensor:
        if x.ndim == 3:  # transformer: only the '=' position reaches the logits
            x = x.clone()
            x[:, -1] = flat
            return x
        return flat

    with torch.no_grad():
        return model.run_with_hooks(pairs, [(model.neuron_hook, replace)])


def split_losses(
    logits: torch.Tensor, labels: torch.Tensor, is_train: torch.Tensor
) -> dict[str, float]:
    """``train_loss, test_loss, train_acc, test_acc`` of all-pairs logits ``(order², order)``."""
    out = {}
    for split, mask in (("train", is_train), ("test", ~is_train)):
        out[f"{split}_loss"], out[f"{split}_acc"] = loss_and_accuracy(logits[mask], labels[mask])
    return out


def logit_transform(logits: torch.Tensor, transform: Transform) -> torch.Tensor:
    """Apply a transform of functions of (a, b) to logits ``(order², order)`` (units = c)."""
    order = logits.shape[1]
    return transform(logits.reshape(order, order, order)).reshape(order * order, order)
