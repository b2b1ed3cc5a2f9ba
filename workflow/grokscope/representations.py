"""Fourier bases of functions on a finite group, grouped by real irreducible representation.

The math
--------
Functions ``f: G → ℝ`` form the regular representation ``ℝ[G]`` (dimension ``|G|``) with the
inner product ``⟨f, h⟩ = Σ_g f(g) h(g)``. Peter–Weyl / Wedderburn: ``ℝ[G]`` is the orthogonal
direct sum of *isotypic blocks*, one per real irreducible representation (irrep) ρ, each spanned
by the matrix coefficients ``g ↦ ρ(g)_ij``; every block is invariant under both left and right
translation ``f ↦ f(h∘·)``, ``f ↦ f(·∘h)``. An orthonormal basis of each block, concatenated
over the irreps, is a "Fourier basis": row ``i`` of :attr:`FourierBasis.basis` is one basis
function, a vector over the group elements.

A complex irrep with character χ has a Frobenius–Schur indicator ``ν = (1/|G|) Σ_g χ(g²)``:

* ``ν = +1`` (*real* kind): ρ is realisable over ℝ; real dimension ``d``, block of ``d²``
  functions, real character ``χ``, ``Σ_g χ(g)² = |G|``.
* ``ν = 0`` (*complex* kind): χ ≠ χ̄; the pair χ, χ̄ merges into one real irrep of dimension
  ``D = 2d`` with character ``χ + χ̄``; block of ``2d² = D²/2`` functions,
  ``Σ_g (χ + χ̄)(g)² = 2|G|``. The frequencies ``k`` of a cyclic group are of this kind
  (``cos k``, ``sin k``).
* ``ν = −1`` (*quaternionic* kind): the real irrep is ρ viewed over ℝ, ``D = 2d``, character
  ``2χ``, block of ``d² = D²/4`` functions, ``Σ_g (2χ)(g)² = 4|G|``. (None of the groups of the
  pipeline has one, but the generic construction handles it.)

Construction
------------
* Cyclic ``C_n``: exactly the source notebook's ``compute_fourier_basis`` — ``Const``, then
  ``cos k``, ``sin k`` for ``k = 1 .. (n-1)//2``, then for even ``n`` the alternating vector
  ``cos n/2`` alone (the notebook also emits an all-zero ``sin n/2`` row; that is dropped).
* Dihedral ``D_n``: trivial, sign, for even ``n`` ``alt`` (χ(r)=−1, χ(s)=+1) and ``alt·sign``,
  then the matrix entries ``√(2/|G|) ρ_k(g)_ij`` of ``ρ_k(r^a s^t) = R(2πak/n) diag(1,−1)^t`` for
  ``k = 1 .. ⌈n/2⌉−1``.
* Any other group (symmetric, alternating, …): numerically from the Cayley table
  (:func:`grokscope.representations_numeric.fourier_basis_numeric`). For a class function
  ``W`` with ``W(g) = W(g⁻¹)``, the convolution ``(M f)(x) = Σ_y W(x∘y⁻¹) f(y)`` is
  symmetric and commutes with all translations, so it acts on each real isotypic block as the
  scalar ``(1/d) Σ_g W(g) χ(g)``. Eigenspaces of two seeded random such ``M`` (the second
  refining the first) are the blocks. The orthogonal
  projector ``P`` onto a block, applied to the delta at the identity, gives
  ``ψ = |G|·P[:, e] = d·(χ or χ+χ̄)``, whence the indicator, the kind, the dimension and the real
  character. Each block gets a deterministic orthonormal basis, independent of the
  eigensolver's choice of eigenvectors: Gram–Schmidt of the columns of ``P`` (translates of the
  character), starting at the identity and then pivoting on the largest residual norm, ties
  broken by the lowest element index. So the first function of every block is its normalised
  character, and each function is positive at its pivot element. ``S_n`` irreps are identified
  by partition through the Murnaghan–Nakayama rule.

Ordering: trivial irrep first (index 0), then by real dimension, then by label (cyclic and
dihedral in their natural order; ``S_n`` partitions in decreasing lexicographic order; other
groups ``'{dim}a'``, ``'{dim}b'``, … ordered by their characters, decreasing lexicographically
over the elements).

Tensors over pairs ``(a, b)`` use the tensor-product basis (:func:`project_2d`); the functions
the networks build are ``(a, b) ↦ φ(a∘b)`` for φ in one block (:func:`product_directions`):
``cos(2πk(a+b)/n)``, ``sin(2πk(a+b)/n)`` for cyclic groups.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import torch

from grokscope.groups import Group

KINDS = ("real", "complex", "quaternionic")


@dataclass(frozen=True)
class Irrep:
    """One real irreducible representation and its block of the Fourier basis.

    Attributes:
        index: position in :attr:`FourierBasis.irreps` (the trivial irrep is index 0).
        label: readable name, unique within the group (``'trivial'``, ``'freq 3'``,
            ``'rot 2'``, ``'[3, 1]'``, ``'3a'``, …).
        dim: dimension of the real representation.
        kind: Frobenius–Schur type of the underlying complex irrep: ``real``, ``complex``
            or ``quaternionic``.
        rows: the rows of :attr:`FourierBasis.basis` spanning this irrep's isotypic block
            (``dim²``, ``dim²/2`` or ``dim²/4`` of them by kind).
        character: ``(order,)`` float64, trace of the real representation at each element.
    """

    index: int
    label: str
    dim: int
    kind: str
    rows: tuple[int, ...]
    character: torch.Tensor = field(compare=False, repr=False)


@dataclass(frozen=True, eq=False)
class FourierBasis:
    """An orthonormal basis of functions on ``group``, grouped by real irrep.

    Attributes:
        group: the group.
        basis: ``(order, order)`` float32; row ``i`` is basis function ``i`` over the elements;
            rows are orthonormal (and, being square, complete).
        labels: one label per row, e.g. ``'cos 3'``, ``'rot 2 [01]'``, ``'[3, 1] #4'``.
        irreps: the real irreps, ``irreps[i].index == i``; trivial first.
        irrep_of: ``(order,)`` int64, irrep index of each row.
        basis64: ``(order, order)`` float64, the same basis before rounding to float32.
    """

    group: Group
    basis: torch.Tensor
    labels: tuple[str, ...]
    irreps: tuple[Irrep, ...]
    irrep_of: torch.Tensor
    basis64: torch.Tensor = field(repr=False)


# --------------------------------------------------------------------------------------------
# public API


def fourier_basis(group: Group) -> FourierBasis:
    """The Fourier basis of ``group``: ``basis`` is ``(order, order)``, rows grouped by irrep.

    Cyclic and dihedral groups use closed forms (cyclic identical to the source notebook);
    every other group uses :func:`grokscope.representations_numeric.fourier_basis_numeric`,
    with partition labels for ``S_n``.
    """
    if group.name == "cyclic":
        return _cyclic(group)
    if group.name == "dihedral":
        return _dihedral(group)
    from grokscope.representations_numeric import fourier_basis_numeric

    return fourier_basis_numeric(group)


def product_directions(fb: FourierBasis, irrep: Irrep) -> torch.Tensor:
    """The ρ(ab) directions of one irrep: ``(len(irrep.rows), order, order)`` float32.

    Entry ``[r, a, b]`` is ``φ_r(a ∘ b) / √order`` for the ``r``-th basis function ``φ_r`` of the
    irrep's block, so each direction has unit norm over all ``order²`` pairs and directions of
    different rows (of any irreps) are orthogonal. For cyclic groups and frequency ``k`` they are
    the normalised ``cos(2πk(a+b)/n)`` and ``sin(2πk(a+b)/n)``.
    """
    phi = fb.basis64[list(irrep.rows)]  # (rows, order)
    return (phi[:, fb.group.table] / math.sqrt(fb.group.order)).float()


def character_table(fb: FourierBasis) -> torch.Tensor:
    """Real characters, ``(n_irreps, order)`` float64; row ``i`` is ``fb.irreps[i].character``."""
    return torch.stack([irrep.character for irrep in fb.irreps])


def project_2d(values: torch.Tensor, fb: FourierBasis) -> torch.Tensor:
    """Coefficients of functions of pairs in the tensor-product basis (the notebook's ``fft2d``).

    ``values`` is ``(order, order, ...)`` indexed by ``(a, b, ...)``; returns the same shape,
    ``out[i, j, ...] = Σ_{a,b} basis[i, a] basis[j, b] values[a, b, ...]``. Float64 inputs use
    the float64 basis; anything else uses the float32 basis (cast to ``values.dtype``), on
    ``values.device``.
    """
    order = fb.group.order
    if values.shape[:2] != (order, order):
        raise ValueError(f"values must start with ({order}, {order}), got {tuple(values.shape)}")
    source = fb.basis64 if values.dtype == torch.float64 else fb.basis
    basis = source.to(device=values.device, dtype=values.dtype)
    flat = values.reshape(order, order, -1)
    out = torch.einsum("ia,abz,jb->ijz", basis, flat, basis)
    return out.reshape(values.shape)


# --------------------------------------------------------------------------------------------
# closed forms


def _cyclic(group: Group) -> FourierBasis:
    n = group.order
    g = np.arange(n, dtype=np.float64)
    rows = [np.full(n, 1.0 / math.sqrt(n))]
    labels = ["Const"]
    irreps = [_irrep(0, "trivial", 1, "real", (0,), np.ones(n))]
    for k in range(1, (n - 1) // 2 + 1):
        angle = 2 * math.pi * g * k / n
        for f in (np.cos(angle), np.sin(angle)):
            rows.append(f / np.linalg.norm(f))
        labels += [f"cos {k}", f"sin {k}"]
        rows_k = (len(rows) - 2, len(rows) - 1)
        irreps.append(_irrep(k, f"freq {k}", 2, "complex", rows_k, 2 * np.cos(angle)))
    if n % 2 == 0:
        alt = (-1.0) ** g
        rows.append(alt / math.sqrt(n))
        labels.append(f"cos {n // 2}")
        irreps.append(_irrep(len(irreps), f"freq {n // 2}", 1, "real", (n - 1,), alt))
    return _assemble(group, np.stack(rows), labels, irreps)


def _dihedral(group: Group) -> FourierBasis:
    n, order = group.n, group.order
    idx = np.arange(order)
    a, t = idx % n, idx // n
    one_d = [("trivial", np.ones(order)), ("sign", (-1.0) ** t)]
    if n % 2 == 0:
        one_d += [("alt", (-1.0) ** a), ("alt·sign", (-1.0) ** (a + t))]
    rows, labels, irreps = [], [], []
    for label, chi in one_d:
        irreps.append(_irrep(len(irreps), label, 1, "real", (len(rows),), chi))
        rows.append(chi / math.sqrt(order))
        labels.append(label)
    for k in range(1, (n + 1) // 2):
        rho = dihedral_rotation_rep(n, k).numpy()  # (order, 2, 2)
        start = len(rows)
        for i, j in itertools.product(range(2), range(2)):
            rows.append(math.sqrt(2 / order) * rho[:, i, j])
            labels.append(f"rot {k} [{i}{j}]")
        trace = rho[:, 0, 0] + rho[:, 1, 1]
        irreps.append(_irrep(len(irreps), f"rot {k}", 2, "real", range(start, start + 4), trace))
    return _assemble(group, np.stack(rows), labels, irreps)


def dihedral_rotation_rep(n: int, k: int) -> torch.Tensor:
    """``ρ_k(r^a s^t) = R(2πak/n) · diag(1, −1)^t`` for every element of ``D_n``.

    Returns a ``(2n, 2, 2)`` float64 tensor indexed like :func:`grokscope.groups.dihedral`
    (element ``i = r^(i mod n) s^(i // n)``); a homomorphism for its composition.
    """
    idx = np.arange(2 * n)
    theta = 2 * math.pi * (idx % n) * k / n
    c, s = np.cos(theta), np.sin(theta)
    flip = np.where(idx // n == 1, -1.0, 1.0)  # right-multiplying by diag(1, −1) flips column 1
    rho = np.stack([np.stack([c, -s * flip], -1), np.stack([s, c * flip], -1)], -2)
    return torch.as_tensor(rho)


# --------------------------------------------------------------------------------------------
# assembly


def _irrep(
    index: int,
    label: str,
    dim: int,
    kind: str,
    rows: Iterable[int],
    character: np.ndarray | torch.Tensor,
) -> Irrep:
    chi = torch.as_tensor(np.asarray(character, dtype=np.float64))
    return Irrep(index, label, dim, kind, tuple(int(r) for r in rows), chi)


def _assemble(
    group: Group, rows: np.ndarray, labels: list[str], irreps: list[Irrep]
) -> FourierBasis:
    basis64 = torch.as_tensor(np.ascontiguousarray(rows, dtype=np.float64))
    if basis64.shape != (group.order, group.order):
        raise RuntimeError(f"{group.symbol}: built {basis64.shape[0]} of {group.order} functions")
    irrep_of = torch.empty(group.order, dtype=torch.int64)
    for irrep in irreps:
        irrep_of[list(irrep.rows)] = irrep.index
    return FourierBasis(
        group=group,
        basis=basis64.float(),
        labels=tuple(labels),
        irreps=tuple(irreps),
        irrep_of=irrep_of,
        basis64=basis64,
    )
