"""Fixtures shared by the end-to-end test modules."""

from __future__ import annotations

from pathlib import Path

import pytest
from repo_utils import TINY, make_repo, run


@pytest.fixture(scope="session")
def tiny_build(tmp_path_factory) -> Path:
    """A git repo with the tiny suite, built once per session by `snakemake --cores 2`.

    Do not change it: tests that change things work on a `copy_repo` of it.
    """
    repo = make_repo(tmp_path_factory.mktemp("tiny-build") / "repo", [TINY])
    first = run("snakemake --cores 2", repo)
    assert "Finished jobid" in first.stderr + first.stdout
    return repo
