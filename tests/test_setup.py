"""What `workflow/scripts/setup.sh` leaves behind, beyond the packages themselves."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path

import pytest

# What every pipeline job, Snakemake and DVC start by importing.
IMPORTED_AT_START = ["torch", "numpy", "pandas", "pyarrow", "plotly", "snakemake", "dvc"]


@pytest.mark.skipif(
    Path(sys.prefix).name != ".venv", reason="the environment was not made by setup.sh"
)
@pytest.mark.parametrize("name", IMPORTED_AT_START)
def test_installed_packages_are_byte_compiled(name: str) -> None:
    """Set-up byte-compiles the packages, so a process where PYTHONDONTWRITEBYTECODE is set
    (where nothing compiled on import is kept) does not compile them from source again."""
    path = importlib.import_module(name).__file__
    cached = importlib.util.cache_from_source(path)
    assert Path(cached).is_file(), f"{name} has no byte-compiled {cached}"
