"""Finite groups as Cayley tables.

Every group the pipeline trains on is presented the same way: elements are the integers
``0 .. order-1``, and ``table[a, b]`` is the index of ``a ∘ b``. Everything downstream (data,
Fourier bases, analyses) sees only this interface, so adding a group means adding one
constructor here and one entry in :data:`GROUPS`.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch


@dataclass(frozen=True)
class Group:
    """A finite group given by its Cayley table.

    Attributes:
        name: short family name (``cyclic``, ``dihedral``, ``symmetric``, ``alternating``).
        n: the family parameter (C_n, D_n of order 2n, S_n, A_n).
        table: ``(order, order)`` int64 tensor, ``table[a, b] = a ∘ b``.
        labels: human-readable label of each element, length ``order``.
    """

    name: str
    n: int
    table: torch.Tensor
    labels: tuple[str, ...]
    _inverse: torch.Tensor = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        order = self.table.shape[0]
        if self.table.shape != (order, order) or self.table.dtype != torch.int64:
            raise ValueError(f"{self.symbol}: Cayley table must be a square int64 tensor")
        if len(self.labels) != order:
            raise ValueError(f"{self.symbol}: need {order} labels, got {len(self.labels)}")
        # a ∘ b = e  ⇔  b = a⁻¹; each row holds the identity exactly once in a group.
        inverse = (self.table == self.identity).int().argmax(dim=1)
        object.__setattr__(self, "_inverse", inverse)

    @property
    def order(self) -> int:
        """Number of elements |G|."""
        return self.table.shape[0]

    @property
    def identity(self) -> int:
        """Index of the identity element (the row of the table equal to ``arange``)."""
        rows = (self.table == torch.arange(self.order)).all(dim=1).nonzero()
        return int(rows[0, 0])

    @property
    def symbol(self) -> str:
        """Conventional symbol, e.g. ``D_53``."""
        return f"{self.name[0].upper()}_{self.n}"

    def inverse(self, a: torch.Tensor | int) -> torch.Tensor:
        """Inverse of element(s) ``a``; same shape as ``a``."""
        return self._inverse[torch.as_tensor(a)]

    def compose(self, a: torch.Tensor | int, b: torch.Tensor | int) -> torch.Tensor:
        """``a ∘ b`` elementwise (broadcasting); int64 tensor."""
        return self.table[torch.as_tensor(a), torch.as_tensor(b)]


def _table(order: int, compose: Callable[[int, int], int]) -> torch.Tensor:
    return torch.tensor(
        [[compose(a, b) for b in range(order)] for a in range(order)], dtype=torch.int64
    )


def cyclic(n: int) -> Group:
    """C_n: addition mod n. Element k is the rotation by k."""
    k = torch.arange(n)
    return Group("cyclic", n, (k[:, None] + k[None, :]) % n, tuple(str(i) for i in range(n)))


def dihedral(n: int) -> Group:
    """D_n of order 2n, indexed as ``[e, r, …, r^(n-1), s, rs, …, r^(n-1)s]``.

    Element ``i`` is ``r^(i mod n) s^(i // n)``. Composition follows the source notebook
    exactly: a rotation followed by anything adds rotations; a reflection ``r^x s`` composed
    with ``r^y s^t`` gives ``r^(x-y) s^(1+t)``.
    """

    def compose(a: int, b: int) -> int:
        (ar, a_s), (br, b_s) = (a % n, a // n), (b % n, b // n)
        if a_s == 0:
            return (ar + br) % n + b_s * n
        return (ar - br) % n + ((1 + b_s) % 2) * n

    labels = [f"r{k}" for k in range(n)] + [f"r{k}s" for k in range(n)]
    return Group("dihedral", n, _table(2 * n, compose), tuple(labels))


def _permutation_group(name: str, n: int, perms: Sequence[tuple[int, ...]]) -> Group:
    """Group of permutations (as tuples), composed as functions: (a ∘ b)(i) = a(b(i))."""
    index = {p: i for i, p in enumerate(perms)}
    table = _table(len(perms), lambda a, b: index[tuple(perms[a][j] for j in perms[b])])
    labels = tuple("".join(str(x) for x in p) for p in perms)
    return Group(name, n, table, labels)


def _is_even(perm: tuple[int, ...]) -> bool:
    inversions = sum(1 for i, j in itertools.combinations(range(len(perm)), 2) if perm[i] > perm[j])
    return inversions % 2 == 0


def symmetric(n: int) -> Group:
    """S_n: all permutations of ``0..n-1`` in lexicographic order (identity first)."""
    return _permutation_group("symmetric", n, list(itertools.permutations(range(n))))


def alternating(n: int) -> Group:
    """A_n: the even permutations of ``0..n-1`` in lexicographic order (identity first)."""
    perms = [p for p in itertools.permutations(range(n)) if _is_even(p)]
    return _permutation_group("alternating", n, perms)


GROUPS: dict[str, Callable[[int], Group]] = {
    "cyclic": cyclic,
    "dihedral": dihedral,
    "symmetric": symmetric,
    "alternating": alternating,
}


def make_group(name: str, n: int) -> Group:
    """Build a group by family name and parameter, e.g. ``make_group("dihedral", 53)``."""
    if name not in GROUPS:
        raise ValueError(f"unknown group {name!r}; choose one of {sorted(GROUPS)}")
    return GROUPS[name](n)
