"""The package's structure: each pipeline step's code closure is exactly what it runs, every
rule keeps the contract `grokscope dvc-yaml` reads, and modules stay small."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from repo_utils import ROOT, unreached_by_dvc_repro

from grokscope import dvcfiles, pipeline
from grokscope.closure import PACKAGE_DIR, code_hash, step_closure
from grokscope.models import MODELS

STEPS = sorted(p.stem for p in (PACKAGE_DIR / "steps").glob("*.py") if p.stem != "__init__")
TRAINING = {"train.py", "batched.py", "kernels.py", "losses.py", "checkpoints.py"}
TRAINING |= {"models/__init__.py"}
ANALYSES = {"fourier.py", "neurons.py", "logits.py", "cyclic.py", "ablations.py", "progress.py"}
ANALYSES |= {"key_rules.py", "frequency_ablations.py", "over_training.py"}
FIGURES = {p.relative_to(PACKAGE_DIR).as_posix() for p in (PACKAGE_DIR / "plots").glob("*.py")}


def closure(step: str) -> set[str]:
    return {p.as_posix() for p in step_closure(step)}


def test_every_step_module_has_a_rule_and_every_rule_step_a_module():
    in_pipeline = {"dataset", "train", "train_batched", "import_checkpoint"}
    in_pipeline |= set(pipeline.ANALYSIS_STEPS) | set(pipeline.SUMMARY_STEPS)
    in_pipeline |= set(pipeline.SWEEP_STEPS)
    in_pipeline |= pipeline.COMPARED_ONLY
    in_pipeline |= set(pipeline.SUITE_STEPS)
    in_pipeline |= {f"figure_{job}" for job in pipeline.FIGURE_JOBS}
    assert set(STEPS) == in_pipeline
    rules = "\n".join(p.read_text() for p in (ROOT / "workflow/rules").glob("*.smk"))
    for step in STEPS:
        assert f'step("{step}"' in rules or f'"{step}",' in rules, step


def test_data_generation_depends_on_no_model_training_or_analysis_code():
    code = closure("dataset")
    assert not code & (TRAINING | ANALYSES | FIGURES | {"activations.py"}), code


def test_training_depends_on_no_analysis_or_figure_code():
    for step in ("train", "train_batched"):
        code = closure(step)
        assert {"train.py", "models/__init__.py"} <= code
        assert not code & (ANALYSES | FIGURES | {"activations.py", "params.py"}), (step, code)


def test_figure_steps_depend_on_no_training_code_and_only_their_own_plots():
    for step in STEPS:
        if not step.startswith("figure_"):
            continue
        code = closure(step)
        assert not code & TRAINING, (step, code & TRAINING)
        job = step.removeprefix("figure_")
        plots = {f for f in code if f.startswith("plots/")}
        shared = {
            "plots/__init__.py",
            "plots/browser.py",
            "plots/common.py",
            "plots/heatmaps.py",
            "plots/plotlyjs.py",
            "plots/render.py",
        }
        assert plots - shared == {f"plots/{job}.py"}, (step, plots)


def test_the_shared_plotly_js_depends_on_no_figure_analysis_or_training_code():
    # A figure module edit re-renders figures, never the one plotly.js they all load.
    code = closure("assets")
    assert not code & (TRAINING | ANALYSES | FIGURES | {"activations.py"}), code


def test_analysis_steps_depend_on_no_figure_or_training_loop_code():
    for step in [*pipeline.ANALYSIS_STEPS, "universality"]:
        code = closure(step)
        assert not code & (FIGURES | {"train.py", "batched.py", "params.py", "dvcgen.py"}), step


def test_headline_steps_read_json_only():
    # The headline summarises metrics files: no torch, pandas work, analysis or figure code.
    for step in ("headline", "sweep_headline"):
        code = closure(step)
        assert "headline.py" in code
        assert not code & (TRAINING | ANALYSES | FIGURES | {"activations.py", "curves.py"}), code


def test_no_step_depends_on_the_project_commands():
    for step in STEPS:
        assert not closure(step) & {"params.py", "budgets.py", "dvcgen.py", "sync.py"}, step


def test_no_step_depends_on_the_notebook_api():
    for step in STEPS:
        assert not closure(step) & {"explore.py", "layout.py"}, step


def test_import_grokscope_is_light_and_open_run_is_there_when_asked():
    heavy = sorted({"torch", "pandas", "pyarrow", "plotly", "grokscope.explore"})
    code = (
        f"import sys, grokscope; loaded = [m for m in {heavy} if m in sys.modules];"
        "grokscope.open_run; print(loaded, 'grokscope.explore' in sys.modules)"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT / "workflow")}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.stdout.strip() == "[] True", out.stderr


def test_what_every_snakemake_start_imports_is_light(tmp_path):
    # common.smk loads and validates params/ before any job, at every Snakemake start (and a
    # DVC stage's step resolves its settings from them): torch or pandas there cost seconds.
    # The activation cache budget needs a forward pass per model, measured once per user
    # and code version (grokscope.budgets.HOOK_UNITS), so only the first start loads torch.
    # (plotly's package is lazy: the colour-scale names cost milliseconds.)
    heavy = sorted({"torch", "pandas", "pyarrow", "plotly.graph_objects"})
    code = (
        "import sys; import grokscope.sync, grokscope.closure, grokscope.pipeline;"
        "from grokscope.params import load_params; p = load_params('params');"
        f"print(len(p['experiments']) > 5, [m for m in {heavy} if m in sys.modules])"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT / "workflow"), "XDG_CACHE_HOME": str(tmp_path)}
    runs = [
        subprocess.run(
            [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True
        )  # fmt: skip
        for _ in range(2)
    ]
    assert runs[0].stdout.startswith("True"), runs[0].stderr  # measured: the first loads torch
    assert runs[1].stdout.strip() == "True []", runs[1].stderr
    assert (tmp_path / "grokscope/hook_units.json").exists()


def test_code_hash_follows_the_closure(tmp_path, monkeypatch):
    import grokscope.closure as closure_module

    # A copy of the package where one analysis module changes: only steps that run it change.
    package = tmp_path / "grokscope"
    import shutil

    shutil.copytree(PACKAGE_DIR, package, ignore=shutil.ignore_patterns("__pycache__"))
    before = {s: code_hash(s) for s in STEPS}
    monkeypatch.setattr(closure_module, "PACKAGE_DIR", package)
    closure_module._imports.cache_clear()
    closure_module.step_closure.cache_clear()
    (package / "neurons.py").write_text((package / "neurons.py").read_text() + "\n# edit\n")
    after = {s: closure_module.code_hash(s) for s in STEPS}
    changed = {s for s in STEPS if before[s] != after[s]}
    expected = {s for s in STEPS if "neurons.py" in closure(s)}
    closure_module._imports.cache_clear()
    closure_module.step_closure.cache_clear()
    assert changed == expected and "neurons" in changed and "train" not in changed


def test_dvc_yaml_code_deps_are_exactly_each_steps_closure():
    stages = dvcfiles.stages(ROOT)
    for name, stage in stages.items():
        code = {d for d in stage["deps"] if d.startswith("workflow/grokscope/")}
        step = name.split("-")[0]
        step = "train_batched" if step.startswith("train_batched_") else step
        assert code == {f"workflow/grokscope/{p}" for p in closure(step)}, name


@pytest.mark.parametrize(
    "path", sorted(PACKAGE_DIR.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE_DIR))
)
def test_no_package_module_is_over_300_lines(path: Path):
    assert len(path.read_text().splitlines()) <= 300


def test_every_model_kind_has_its_sizes_for_the_budgets():
    from grokscope.sizes import SIZES

    assert set(SIZES) == set(MODELS)
    for kind, cls in MODELS.items():
        assert (cls.floats_per_pair, cls.parameter_count) == SIZES[kind]


def test_schema_model_kinds_are_the_registered_models():
    schema = yaml.safe_load((PACKAGE_DIR / "schemas/experiment.schema.yaml").read_text())
    assert set(schema["properties"]["model"]["properties"]["kind"]["enum"]) == set(MODELS)


def test_every_rule_keeps_the_contract_dvc_yaml_reads(monkeypatch):
    from grokscope.dag import JobSpec, snakemake_jobs
    from grokscope.dvcgen import contract_problems
    from grokscope.params import load_params
    from grokscope.settings import resolve

    monkeypatch.chdir(ROOT)
    jobs = snakemake_jobs()
    assert jobs and {j.rule for j in jobs} >= {"dataset", "train", "report", "figure_training"}
    assert {f"{j.rule}: {p}" for j in jobs for p in contract_problems(j)} == set()
    # A DVC stage passes the spec, Snakemake the settings: resolved, the spec gives them back.
    params = load_params(ROOT / "params")
    for job in jobs:
        spec, settings = json.loads(job.params["spec"]), json.loads(job.params["settings"])
        assert resolve(spec, params) == settings, job.rule
        assert set(spec.get("derived", {})) <= {"reference"}, f"{job.rule}: derive from params"
    # And the check catches a rule that breaks it.
    broken = JobSpec("x", {}, [], [("", "out")], {"settings": "[]"}, "x.smk", False, True)
    problems = contract_problems(broken)
    assert {"no params.step", "no params.code", "no params.io", "no log:"} <= set(problems)
    assert "params.settings is not a JSON object" in problems and "unnamed output out" in problems
    # A curve that dvc.yaml's plots would not draw is refused too.
    curve = JobSpec("x", {}, [], [("plot", "results/e/curves.csv")], {}, "x.smk", True, True)
    assert "plot output results/e/curves.csv has no entry in PLOTS" in contract_problems(curve)


def test_dvc_metrics_are_the_headlines_and_plots_draw_every_curve():
    from grokscope.dvcgen import PLOTS

    document = yaml.safe_load((ROOT / "dvc.yaml").read_text())
    stages = dvcfiles.stages(ROOT)
    metrics = [m for stage in stages.values() for m in stage.get("metrics", [])]
    experiments = {name.split("-", 1)[1] for name in stages if name.startswith("dataset-")}
    assert sorted(metrics) == sorted(f"results/{e}/headline.json" for e in experiments)
    assert not any("plots" in stage for stage in stages.values())  # drawn by the top level
    plots = {name: plot for entry in document["plots"] for name, plot in entry.items()}
    for exp in experiments:
        for path, entries in PLOTS.items():
            for name, columns, template, _ in entries:
                plot = plots[f"{exp} {name}"]
                assert plot["y"] == {f"results/{exp}/{path}": columns}, (exp, name)
                assert plot["x"] == "epoch" and template in ("simple", "log")
    assert (ROOT / ".dvc/plots/log.json").exists()  # the `log` template


def test_dvc_repro_without_a_target_reaches_every_stage():
    """`dvc repro` builds the root dvc.yaml's stages and what they read; the other pipeline
    files (one per experiment, each with a small dvc.lock) hold only stages that some stage
    reads from, so following reads from the root reaches every stage. Each runs from the
    project root, so its paths mean what they mean in the root file."""
    files = dvcfiles.yaml_files(ROOT)
    assert files[0] == ROOT / "dvc.yaml" and len(files) > 1  # the suite's experiments
    stages = dvcfiles.stages(ROOT)
    assert sum(len(yaml.safe_load(f.read_text())["stages"]) for f in files) == len(stages)
    for f in files[1:]:
        for name, stage in yaml.safe_load(f.read_text())["stages"].items():
            assert (f.parent / stage["wdir"]).resolve() == ROOT.resolve(), name
            assert dvcfiles.address(name, ROOT) == f"{f.relative_to(ROOT)}:{name}"
    assert unreached_by_dvc_repro(ROOT) == set()


def test_a_stage_no_root_stage_reads_is_found_unreached(tmp_path: Path):
    for f in dvcfiles.yaml_files(ROOT):
        (tmp_path / f.relative_to(ROOT)).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / f.relative_to(ROOT)).write_text(f.read_text())
    document = yaml.safe_load((tmp_path / "dvc.yaml").read_text())
    document["stages"].pop("headline-mlp_d53")
    (tmp_path / "dvc.yaml").write_text(yaml.safe_dump(document))
    assert unreached_by_dvc_repro(tmp_path) == set()  # no longer a stage at all
    moved = {"headline-mlp_d53": dvcfiles.stages(ROOT)["headline-mlp_d53"]}
    sub = tmp_path / "pipelines/mlp_d53/dvc.yaml"
    sub.write_text(yaml.safe_dump({"stages": yaml.safe_load(sub.read_text())["stages"] | moved}))
    assert unreached_by_dvc_repro(tmp_path) == {"headline-mlp_d53"}


def test_dvc_parses_its_yaml_with_the_c_parser():
    # pyproject.toml installs ruamel.yaml.clib; without it every DVC command parses dvc.yaml,
    # dvc.lock and each stage's params file in pure Python.
    from ruamel.yaml import YAML

    assert YAML(typ="safe", pure=False).Parser.__name__ == "CParser"
