"""The DVC pipeline's files (grokscope.dvcfiles): which stage is where, what each lock
records, and how regenerating them removes an experiment that left the suite."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from grokscope import dvcfiles

HEADER = "# GENERATED\n"


def write(path: Path, document: dict, header: str = HEADER) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(header + yaml.safe_dump(document))


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A root file with `report`, and experiment `a`'s file with `train-a`, each with a lock."""
    write(tmp_path / "dvc.yaml", {"stages": {"report": {"cmd": "r"}}})
    write(tmp_path / "dvc.lock", {"stages": {"report": {"cmd": "r"}}})
    write(tmp_path / "pipelines/a/dvc.yaml", {"stages": {"train-a": {"cmd": "t", "wdir": "../.."}}})
    write(tmp_path / "pipelines/a/dvc.lock", {"stages": {"train-a": {"cmd": "t"}}})
    return tmp_path


def test_stages_and_addresses_across_files(project: Path):
    assert dvcfiles.yaml_files(project) == [
        project / "dvc.yaml",
        project / "pipelines/a/dvc.yaml",
    ]
    assert set(dvcfiles.stages(project)) == {"report", "train-a"}
    assert dvcfiles.address("report", project) == "report"
    assert dvcfiles.address("train-a", project) == "pipelines/a/dvc.yaml:train-a"
    assert dvcfiles.stage_name("pipelines/a/dvc.yaml:train-a") == "train-a"
    assert dvcfiles.stage_name("report") == "report"
    with pytest.raises(KeyError, match="no DVC stage 'train-b'"):
        dvcfiles.address("train-b", project)


def test_a_lock_entry_counts_only_beside_its_own_stage(project: Path):
    assert set(dvcfiles.locked(project)) == {"report", "train-a"}
    # `train-a` moved to the root file: its entry in the experiment's lock is not DVC's
    # record of it (DVC reads the root lock for it), so it is not recorded until committed.
    write(project / "dvc.yaml", {"stages": {"report": {"cmd": "r"}, "train-a": {"cmd": "t"}}})
    write(project / "pipelines/a/dvc.yaml", {"stages": {"dataset-a": {"cmd": "d"}}})
    assert set(dvcfiles.locked(project)) == {"report"}


def test_writing_removes_the_files_of_an_experiment_that_left(project: Path):
    (project / "pipelines/mine").mkdir()
    write(project / "pipelines/mine/dvc.yaml", {"stages": {"x": {"cmd": "x"}}}, header="")
    texts = {Path("dvc.yaml"): HEADER + "stages: {}\n"}
    assert dvcfiles.differences(texts, HEADER, project) == [
        Path("dvc.yaml"),
        Path("pipelines/a/dvc.yaml"),  # generated and no longer wanted
    ]
    dvcfiles.write(texts, HEADER, project)
    assert dvcfiles.differences(texts, HEADER, project) == []
    assert not (project / "pipelines/a").exists()  # with its lock
    assert (project / "pipelines/mine/dvc.yaml").exists()  # not generated: left alone
