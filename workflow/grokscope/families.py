"""The group families by name, and their orders without building a Cayley table.

Params validation and the up-front budgets need only |G|; they run at every Snakemake start,
so this module imports nothing heavy (the tables themselves are in :mod:`grokscope.groups`).
"""

from __future__ import annotations

import math

FAMILIES = ("cyclic", "dihedral", "symmetric", "alternating")


def group_order(name: str, n: int) -> int:
    """|G| of family ``name`` with parameter ``n`` (e.g. 106 for ``("dihedral", 53)``)."""
    if name == "cyclic":
        return n
    if name == "dihedral":
        return 2 * n
    if name in ("symmetric", "alternating"):
        order = math.factorial(n) if n <= 1000 else math.inf  # beyond any machine anyway
        return order // 2 if name == "alternating" and n >= 2 else order
    raise ValueError(f"unknown group {name!r}; choose one of {sorted(FAMILIES)}")
