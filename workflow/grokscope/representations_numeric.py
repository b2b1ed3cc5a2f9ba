"""Fourier bases of any finite group computed numerically from its Cayley table (the
construction in :mod:`grokscope.representations`'s docstring), with ``S_n`` irreps labelled by
partition through the Murnaghan–Nakayama rule."""

from __future__ import annotations

import functools
import math

import numpy as np
import torch

from grokscope.groups import Group
from grokscope.representations import FourierBasis, _assemble, _irrep

_TIE = 1e-8  # relative tolerance for "equal" residual norms when pivoting
_SEED = 0


def fourier_basis_numeric(group: Group, seed: int = _SEED) -> FourierBasis:
    """Fourier basis of any finite group, computed from its Cayley table alone.

    Returns a :class:`FourierBasis` (``basis`` ``(order, order)``). The isotypic blocks are the
    joint eigenspaces of two seeded random symmetrised class-sum convolutions; see the module
    docstring. Irreps of ``S_n`` (``group.name == 'symmetric'``) are labelled by partition,
    others ``'trivial'``, then ``'{dim}'`` or ``'{dim}a'``, ``'{dim}b'``, …; rows of a block are
    labelled ``'{irrep label} #{i}'``. Deterministic for a given ``seed`` (which only affects
    how blocks are separated, never the result, barring an accidental eigenvalue collision,
    which raises).
    """
    table = group.table.numpy()
    order = table.shape[0]
    inv = group.inverse(torch.arange(order)).numpy()
    identity = group.identity
    cls = _conjugacy_classes(table, inv)
    rng = np.random.default_rng(seed)

    def random_convolution() -> np.ndarray:
        w = rng.standard_normal(int(cls.max()) + 1)
        weight = w[cls] + w[cls[inv]]  # class function with W(g) = W(g⁻¹)
        return weight[table[:, inv]]  # conv[x, y] = W(x ∘ y⁻¹), symmetric

    blocks = _split(None, random_convolution())
    refine = random_convolution()
    blocks = [part for v in blocks for part in _split(v, refine)]

    squares = table[np.arange(order), np.arange(order)]
    comps = []
    for v in blocks:
        m = v.shape[1]
        psi = order * (v @ v[identity])  # d·(χ or χ+χ̄) at each element
        if np.abs(psi - _class_mean(psi, cls)).max() > 1e-6 * m:
            raise RuntimeError(f"{group.symbol}: block of size {m} is not a class-function block")
        indicator = psi[squares].sum() / order  # d·ν
        kind, dim_c = _kind_and_dim(m, indicator, group.symbol)
        character = psi / dim_c * (2.0 if kind == "quaternionic" else 1.0)
        dim = dim_c if kind == "real" else 2 * dim_c
        norm = (character**2).sum() / order
        expected = {"real": 1.0, "complex": 2.0, "quaternionic": 4.0}[kind]
        if abs(norm - expected) > 1e-6:
            raise RuntimeError(f"{group.symbol}: block of size {m} is not irreducible")
        character = np.where(
            np.abs(character - np.round(character)) < 1e-9, np.round(character), character
        )
        comps.append((v, kind, dim, character))

    labels = _numeric_labels(group, [(c[2], c[3]) for c in comps])

    def sort_key(i: int) -> tuple:
        dim, character = comps[i][2], comps[i][3]
        trivial = dim == 1 and bool(np.allclose(character, 1.0))
        if group.name == "symmetric":  # partitions in decreasing lexicographic order
            return (not trivial, dim, tuple(-x for x in _partition_of(labels[i])))
        return (not trivial, dim, _character_key(character))  # the order of the letters

    order_idx = sorted(range(len(comps)), key=sort_key)

    rows, row_labels, irreps = [], [], []
    for index, i in enumerate(order_idx):
        v, kind, dim, character = comps[i]
        funcs = _canonical_block_basis(v, first=identity)
        start = len(rows)
        rows.extend(funcs)
        row_labels.extend(f"{labels[i]} #{j}" for j in range(len(funcs)))
        irreps.append(_irrep(index, labels[i], dim, kind, range(start, len(rows)), character))
    return _assemble(group, np.stack(rows), row_labels, irreps)


# --------------------------------------------------------------------------------------------
# numeric construction helpers


def _conjugacy_classes(table: np.ndarray, inv: np.ndarray) -> np.ndarray:
    """``(order,)`` int class id of each element (classes numbered by smallest member)."""
    conj = table[table, inv[:, None]]  # conj[h, g] = h ∘ g ∘ h⁻¹
    rep = conj.min(axis=0)
    return np.unique(rep, return_inverse=True)[1].reshape(-1)


def _class_mean(values: np.ndarray, cls: np.ndarray) -> np.ndarray:
    sums = np.bincount(cls, weights=values)
    return (sums / np.bincount(cls))[cls]


def _split(v: np.ndarray | None, conv: np.ndarray) -> list[np.ndarray]:
    """Eigenspaces of the symmetric ``(order, order)`` ``conv`` inside span(v).

    ``v`` is ``(order, m)`` with orthonormal columns spanning an invariant subspace (None: the
    whole space); returns ``(order, m_i)`` orthonormal bases of the eigenspaces, by eigenvalue.
    """
    if v is not None and v.shape[1] == 1:
        return [v]
    small = conv if v is None else v.T @ conv @ v
    values, vectors = np.linalg.eigh((small + small.T) / 2)
    tol = 1e-7 * max(1.0, float(np.abs(values).max()))
    cuts = np.flatnonzero(np.diff(values) > tol) + 1
    parts = np.split(np.arange(len(values)), cuts)
    return [vectors[:, p] if v is None else v @ vectors[:, p] for p in parts]


def _kind_and_dim(m: int, indicator: float, symbol: str) -> tuple[str, int]:
    """Kind and complex dimension from block size ``m`` and ``d·ν``."""
    if abs(indicator) < 0.5:
        kind, d2 = "complex", m / 2
    else:
        kind, d2 = ("real" if indicator > 0 else "quaternionic"), m
    d = round(math.sqrt(d2))
    expected_indicator = 0 if kind == "complex" else d
    if abs(d * d - d2) > 1e-9 or abs(abs(indicator) - expected_indicator) > 1e-6:
        raise RuntimeError(f"{symbol}: inconsistent block (size {m}, d·ν = {indicator:.4f})")
    return kind, d


def _canonical_block_basis(v: np.ndarray, first: int) -> list[np.ndarray]:
    """Deterministic orthonormal basis of span(v): pivoted Gram–Schmidt of ``P = v vᵀ``'s columns.

    ``v`` is ``(order, m)`` with orthonormal columns; returns ``m`` functions of shape
    ``(order,)``. Works in the coordinates of ``v`` (column ``g`` of ``P`` is ``v @ v[g]``), so
    the result does not depend on which orthonormal ``v`` spans the block. The first pivot is
    ``first`` (the identity: its column is the character); then the element with the largest
    residual norm, ties (relative ``_TIE``) going to the lowest index.
    """
    resid = v.copy()
    funcs = []
    for step in range(v.shape[1]):
        norms = (resid**2).sum(axis=1)
        if step == 0:
            pivot = first
        else:
            pivot = int(np.flatnonzero(norms >= norms.max() * (1 - _TIE))[0])
        q = resid[pivot] / math.sqrt(norms[pivot])
        resid -= np.outer(resid @ q, q)
        funcs.append(v @ q)
    return funcs


def _numeric_labels(group: Group, comps: list[tuple[int, np.ndarray]]) -> list[str]:
    """Labels for ``(dim, character)`` components: partitions for S_n, else dim + letter."""
    if group.name == "symmetric":
        perms = [tuple(int(c) for c in label) for label in group.labels]
        if any(sorted(p) != list(range(group.n)) for p in perms):
            raise ValueError(f"{group.symbol}: element labels are not permutations of 0..n-1")
        types = [_cycle_type(p) for p in perms]
        return [_symmetric_label(group, types, chi) for _, chi in comps]
    labels = [""] * len(comps)
    by_dim: dict[int, list[int]] = {}
    for i, (dim, chi) in enumerate(comps):
        if dim == 1 and np.allclose(chi, 1.0):
            labels[i] = "trivial"
        else:
            by_dim.setdefault(dim, []).append(i)
    for dim, members in by_dim.items():
        members.sort(key=lambda i: _character_key(comps[i][1]))
        for pos, i in enumerate(members):
            suffix = _letters(pos) if len(members) > 1 else ""
            labels[i] = f"{dim}{suffix}"
    return labels


def _letters(pos: int) -> str:
    out = ""
    pos += 1
    while pos:
        pos, r = divmod(pos - 1, 26)
        out = chr(ord("a") + r) + out
    return out


def _character_key(character: np.ndarray) -> tuple[float, ...]:
    """Sort key putting characters in decreasing lexicographic order (rounded to 1e-6)."""
    return tuple(float(x) for x in -np.round(character, 6))


def _symmetric_label(group: Group, types: list[tuple[int, ...]], chi: np.ndarray) -> str:
    """The partition (as ``'[3, 1]'``) whose Murnaghan–Nakayama character is ``chi``."""
    for partition in _partitions(group.n):
        values = np.array([_mn_character(partition, ct) for ct in types], dtype=np.float64)
        if np.abs(values - chi).max() < 1e-6:
            return str(list(partition))
    raise RuntimeError(f"{group.symbol}: no partition has this character")


def _partition_of(label: str) -> tuple[int, ...]:
    return tuple(int(x) for x in label.strip("[]").split(","))


def _cycle_type(perm: tuple[int, ...]) -> tuple[int, ...]:
    seen, lengths = set(), []
    for start in range(len(perm)):
        length, i = 0, start
        while i not in seen:
            seen.add(i)
            i = perm[i]
            length += 1
        if length:
            lengths.append(length)
    return tuple(sorted(lengths, reverse=True))


def _partitions(n: int, largest: int | None = None) -> list[tuple[int, ...]]:
    """Partitions of ``n`` in decreasing lexicographic order."""
    largest = n if largest is None else largest
    if n == 0:
        return [()]
    return [(k, *rest) for k in range(min(n, largest), 0, -1) for rest in _partitions(n - k, k)]


@functools.cache
def _mn_character(partition: tuple[int, ...], cycle_type: tuple[int, ...]) -> int:
    """χ^λ at cycle type μ by the Murnaghan–Nakayama rule (rim hooks removed via β-numbers)."""
    if not cycle_type:
        return 1 if not partition else 0
    r, rest = cycle_type[0], cycle_type[1:]
    length = len(partition)
    beta = {p + length - 1 - i for i, p in enumerate(partition)}
    total = 0
    for b in beta:
        if b - r < 0 or b - r in beta:
            continue
        sign = (-1) ** sum(1 for c in beta if b - r < c < b)
        new = sorted((beta - {b}) | {b - r}, reverse=True)
        smaller = tuple(x - (length - 1 - i) for i, x in enumerate(new))
        total += sign * _mn_character(tuple(p for p in smaller if p > 0), rest)
    return total
