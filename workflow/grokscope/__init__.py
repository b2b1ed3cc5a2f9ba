"""grokscope: reproducible grokking experiments on finite groups.

``grokscope.open_run("results/mlp_d53")`` opens a built run in a notebook
(:mod:`grokscope.explore`). It is imported on first use, so ``import grokscope`` stays light
(no torch) and no pipeline step loads it.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
__all__ = ["Run", "open_run"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from grokscope import explore

        return getattr(explore, name)
    raise AttributeError(f"module 'grokscope' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
