"""Validation of params/: every malformed file is one ParamsError line naming file and field."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml

from grokscope.budgets import (
    DEFAULT_MAX_JOBS,
    check_suite_jobs,
    training_bytes,
    training_priority,
)
from grokscope.groups import make_group
from grokscope.names import irrep_labels, is_colorscale
from grokscope.params import ParamsError, load_experiment, load_params, validate
from grokscope.representations import fourier_basis

torch.set_num_threads(1)

ROOT = Path(__file__).resolve().parents[1]
PARAMS = ROOT / "params"
TINY = "tiny_c41"


@pytest.fixture
def params_dir(tmp_path):
    """A private copy of the real params/ directory."""
    dest = tmp_path / "params"
    shutil.copytree(PARAMS, dest)
    return dest


def tiny(params_dir):
    return params_dir / "experiments" / f"{TINY}.yaml"


def load_tiny():
    return yaml.safe_load((PARAMS / "experiments" / f"{TINY}.yaml").read_text())


def set_in(data, dotted, value):
    *parents, last = dotted.split(".")
    for key in parents:
        data = data[key]
    data[last] = value


def drop(data, dotted):
    *parents, last = dotted.split(".")
    for key in parents:
        data = data[key]
    del data[last]


def test_real_params_load():
    p = load_params(PARAMS)
    assert {"suite", "figures", "experiments"} <= set(p)
    assert TINY in p["experiments"]
    assert p["experiments"][TINY]["group"] == {"name": "cyclic", "n": 41}
    for name in p["suite"]["experiments"]:
        assert name in p["experiments"]


def test_copied_params_load(params_dir):
    assert load_params(params_dir)["experiments"][TINY]["model"]["kind"] == "mlp"


# Each variant edits the parsed tiny_c41.yaml; ``field`` must be named in the message and
# ``extra`` (if any) must also appear.
def _variants():
    v = []

    def add(id_, edit, field, extra=None, marks=()):
        v.append(pytest.param(edit, field, extra, id=id_, marks=marks))

    add("lr_string", lambda d: set_in(d, "train.lr", "fast"), "train.lr")
    add("n_float", lambda d: set_in(d, "group.n", 4.5), "group.n")
    add("n_string", lambda d: set_in(d, "group.n", "41"), "group.n")
    add("betas_short", lambda d: set_in(d, "train.betas", [0.9]), "train.betas")
    add("betas_one", lambda d: set_in(d, "train.betas", [0.9, 1.0]), "train.betas")
    add("epochs_missing", lambda d: drop(d, "train.epochs"), "train.epochs")
    add("train_missing", lambda d: drop(d, "train"), "train")
    add("model_missing", lambda d: drop(d, "model"), "model")
    add("hidden_dim_missing", lambda d: drop(d, "model.hidden_dim"), "model.hidden_dim")
    add("unknown_top_key", lambda d: set_in(d, "learning_rate", 0.1), "learning_rate")
    add("unknown_train_key", lambda d: set_in(d, "train.momentum", 0.9), "train.momentum")
    add("unknown_group", lambda d: set_in(d, "group.name", "quaternion"), "group.name")
    add("unknown_model_kind", lambda d: set_in(d, "model.kind", "cnn"), "model.kind")
    add("other_kinds_key", lambda d: set_in(d, "model.d_model", 64), "d_model", "model")
    add("hidden_dim_zero", lambda d: set_in(d, "model.hidden_dim", 0), "model.hidden_dim")
    add("embed_dim_negative", lambda d: set_in(d, "model.embed_dim", -3), "model.embed_dim")
    add("epochs_negative", lambda d: set_in(d, "train.epochs", -5), "train.epochs")
    add("seed_negative", lambda d: set_in(d, "seed", -1), "seed")
    add("device_unknown", lambda d: set_in(d, "train.device", "tpu"), "train.device")
    add("split_unknown", lambda d: set_in(d, "data.split", "random"), "data.split")
    add("group_not_mapping", lambda d: set_in(d, "group", "cyclic"), "group")
    add("frac_zero", lambda d: set_in(d, "data.frac_train", 0), "data.frac_train")
    add("frac_one", lambda d: set_in(d, "data.frac_train", 1), "data.frac_train")
    add("frac_big", lambda d: set_in(d, "data.frac_train", 1.5), "data.frac_train")
    add("frac_negative", lambda d: set_in(d, "data.frac_train", -0.1), "data.frac_train")
    add("frac_empty_split", lambda d: set_in(d, "data.frac_train", 1e-9), "data.frac_train")
    add(
        "huge_s8",
        lambda d: d.update(group={"name": "symmetric", "n": 8}),
        "group.n",
        "GiB",
    )
    add(
        "huge_s9",
        lambda d: d.update(group={"name": "symmetric", "n": 9}),
        "group.n",
        "GiB",
    )
    add("huge_d40000", lambda d: d.update(group={"name": "dihedral", "n": 20000}), "group.n")
    # Whole numbers written with a decimal point, and values beyond what consumers accept.
    add("epochs_decimal", lambda d: set_in(d, "train.epochs", 9000.0), "train.epochs", "write 9000")
    add("n_decimal", lambda d: set_in(d, "group.n", 41.0), "group.n", "write 41")
    add("hidden_decimal", lambda d: set_in(d, "model.hidden_dim", 64.0), "model.hidden_dim")
    add("seed_decimal", lambda d: set_in(d, "seed", 0.0), "seed", "not an integer")
    add("seed_huge", lambda d: set_in(d, "seed", 2**64), "seed", "maximum")
    add("n_huge", lambda d: set_in(d, "group.n", 2**40), "group.n", "maximum")
    add("lr_inf", lambda d: set_in(d, "train.lr", float("inf")), "train.lr", "not a finite")
    add("lr_nan", lambda d: set_in(d, "train.lr", float("nan")), "train.lr", "not a finite")
    add("wd_inf", lambda d: set_in(d, "train.weight_decay", float("inf")), "train.weight_decay")
    add("beta_nan", lambda d: set_in(d, "train.betas", [0.9, float("nan")]), "train.betas.1")
    add("frac_nan", lambda d: set_in(d, "data.frac_train", float("nan")), "data.frac_train")
    add("log_ckpts_huge", lambda d: set_in(d, "train.log_checkpoints", 10**9), "train.log_")
    add("many_ckpts", lambda d: d["train"].update(epochs=10**6, checkpoint_every=1),
        "train.checkpoint_every", "checkpoints")  # fmt: skip
    add("many_evals", lambda d: d["train"].update(epochs=10**9, eval_every=1,
        checkpoint_every=10**6), "train.eval_every", "evaluations")  # fmt: skip
    # Too wide: the width that drives the estimate is named, the group's order too.
    add("too_wide", lambda d: set_in(d, "model.hidden_dim", 10**9), "model.hidden_dim",
        "group.n = 41")  # fmt: skip
    add("too_wide_embed", lambda d: set_in(d, "model.embed_dim", 10**9), "model.embed_dim", "GiB")
    add("huge_sweep", lambda d: d.update(sweep={"seed": list(range(1000)),
        "train.lr": [0.01 * (i + 1) for i in range(100)]}), "sweep", "100,000 members")  # fmt: skip
    add("sweep_name", lambda d: d.update(sweep={"data.split": ["seeded", "x/y"]}), "sweep")
    return v


@pytest.mark.parametrize(("edit", "field", "extra"), _variants())
def test_malformed_experiment(params_dir, edit, field, extra):
    data = load_tiny()
    edit(data)
    path = tiny(params_dir)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    with pytest.raises(ParamsError) as info:
        load_params(params_dir)
    msg = str(info.value)
    assert "\n" not in msg
    assert str(path) in msg
    assert field in msg
    if extra:
        assert extra in msg
    # the same error when loading the experiment alone
    with pytest.raises(ParamsError) as alone:
        load_experiment(path)
    assert str(alone.value) == msg


def test_other_kinds_key_names_full_field(params_dir):
    data = load_tiny()
    data["model"]["d_model"] = 64
    tiny(params_dir).write_text(yaml.safe_dump(data))
    with pytest.raises(ParamsError, match=r"model\.d_model: unknown key"):
        load_params(params_dir)


# Raw-text variants: syntax errors and non-mapping documents.
RAW = [
    pytest.param("seed: 0\ngroup: {name: cyclic, n: 41\n", "line ", id="unclosed_brace"),
    pytest.param("seed: 0\ntrain:\n  betas: [0.9, 0.98\n  lr: 1\n", "line ", id="unclosed_bracket"),
    pytest.param("seed: 0\n  group: x\n", "line 2", id="bad_indent"),
    pytest.param("", "(top level)", id="empty_file"),
    pytest.param("# only a comment\n", "(top level)", id="comment_only"),
    pytest.param("- seed: 0\n- group: x\n", "(top level)", id="top_level_list"),
    pytest.param("just a string\n", "(top level)", id="top_level_scalar"),
]


@pytest.mark.parametrize(("text", "expected"), RAW)
def test_malformed_yaml(params_dir, text, expected):
    path = tiny(params_dir)
    path.write_text(text)
    with pytest.raises(ParamsError) as info:
        load_params(params_dir)
    msg = str(info.value)
    assert "\n" not in msg
    assert str(path) in msg
    assert expected in msg


def test_yaml_error_line_number(params_dir):
    path = tiny(params_dir)
    lines = path.read_text().splitlines()
    idx = next(i for i, line in enumerate(lines) if line.lstrip().startswith("betas:"))
    lines[idx] = "  betas: [0.9, 0.98"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ParamsError, match=r"YAML syntax error at line \d+") as info:
        load_params(params_dir)
    line = int(str(info.value).split("line ")[1].split(",")[0])
    # the parser notices the unclosed flow sequence on that line or soon after it
    assert idx + 1 <= line <= idx + 3


def test_extra_experiment_file_is_validated_too(params_dir):
    data = load_tiny()
    data["train"]["lr"] = "fast"
    path = params_dir / "experiments" / "unlisted.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ParamsError, match="unlisted.yaml: train.lr"):
        load_params(params_dir)


def test_suite_names_missing_experiment(params_dir):
    suite = params_dir / "suite.yaml"
    suite.write_text("experiments:\n  - does_not_exist\n  - tiny_c41\n")
    with pytest.raises(ParamsError) as info:
        load_params(params_dir)
    msg = str(info.value)
    assert "\n" not in msg
    assert str(suite) in msg
    assert "experiments.0" in msg
    assert "does_not_exist" in msg


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("experiments: []\n", "experiments"),
        ("experiments: [tiny_c41, tiny_c41]\n", "experiments"),
        ("experiments: [tiny_c41]\nextra: 1\n", "extra"),
        ("{}\n", "experiments"),
    ],
)
def test_malformed_suite(params_dir, text, field):
    suite = params_dir / "suite.yaml"
    suite.write_text(text)
    with pytest.raises(ParamsError) as info:
        load_params(params_dir)
    msg = str(info.value)
    assert "\n" not in msg and str(suite) in msg and field in msg


def test_malformed_figures(params_dir):
    path = params_dir / "figures.yaml"
    data = yaml.safe_load(path.read_text())
    data["width"] = 10
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ParamsError, match="figures.yaml: width"):
        load_params(params_dir)


def test_figures_take_neuron_indices_or_a_count(params_dir, tmp_path):
    from grokscope.steps.figure_neurons import chosen_units

    path = params_dir / "figures.yaml"
    data = yaml.safe_load(path.read_text())
    data["neurons"], data["outputs"] = [0, 35, 67], [0, 35, 67]  # as seed 000 plotted
    path.write_text(yaml.safe_dump(data))
    style = load_params(params_dir)["figures"]
    where = tmp_path / "mlp_d53" / "activations"
    assert chosen_units(style, "neurons", 128, where) == [0, 35, 67]
    assert chosen_units({"neurons": 4}, "neurons", 128, where) is None  # automatic choice
    with pytest.raises(
        ParamsError, match=r"figures.yaml: neurons: \[67\] out of range for mlp_d53"
    ):
        chosen_units(style, "neurons", 64, where)
    for bad in ([], [1, 1], [-1], "0, 35"):
        data["neurons"] = bad
        path.write_text(yaml.safe_dump(data))
        with pytest.raises(ParamsError, match="figures.yaml: neurons"):
            load_params(params_dir)


def test_missing_params_file(params_dir):
    (params_dir / "figures.yaml").unlink()
    with pytest.raises(ParamsError, match="figures.yaml: file not found"):
        load_params(params_dir)


def test_training_bytes_grows_with_order():
    model = {"kind": "mlp", "embed_dim": 32, "hidden_dim": 64}
    small, big = training_bytes(41, model), training_bytes(410, model)
    assert 0 < small < big
    assert big > 100 * small  # quadratic in the order


def _cli(*args, timeout=120):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "workflow"), env.get("PYTHONPATH", "")])
    return subprocess.run(
        [sys.executable, "-m", "grokscope", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )


def test_cli_validate_ok(params_dir):
    done = _cli("validate", "--params-dir", str(params_dir))
    assert done.returncode == 0, done.stderr
    assert "params OK" in done.stdout


def test_cli_validate_error_is_one_line(params_dir):
    field = "train.lr"
    data = load_tiny()
    set_in(data, field, "fast")
    path = tiny(params_dir)
    path.write_text(yaml.safe_dump(data))
    done = _cli("validate", "--params-dir", str(params_dir))
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert str(path) in lines[0] and field in lines[0]


def test_cli_validate_yaml_syntax_error(params_dir):
    path = tiny(params_dir)
    path.write_text("seed: [0\n")
    done = _cli("validate", "--params-dir", str(params_dir))
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert len(done.stderr.splitlines()) == 1
    assert "line " in done.stderr and str(path) in done.stderr


def test_decimal_integer_message_names_file_field_and_fix(params_dir):
    path = tiny(params_dir)
    path.write_text(path.read_text().replace("epochs: 2500", "epochs: 9000.0"))
    with pytest.raises(ParamsError) as info:
        load_params(params_dir)
    assert str(info.value) == f"{path}: train.epochs: 9000.0 is not an integer; write 9000"


def test_seed_range_is_what_the_generators_accept():
    """The schema's largest seed seeds torch.Generator and random without overflow or
    truncation; one more is refused."""
    schema = yaml.safe_load(
        (ROOT / "workflow/grokscope/schemas/experiment.schema.yaml").read_text()
    )
    top = schema["properties"]["seed"]["maximum"]
    assert torch.Generator().manual_seed(top).initial_seed() == top
    random.Random(top)
    with pytest.raises(ValueError, match="Overflow"):
        torch.Generator().manual_seed(2**64)
    data = load_tiny()
    data["seed"] = top
    path = ROOT / "params/experiments" / f"{TINY}.yaml"
    assert validate(data, "experiment", path)["seed"] == top
    data["seed"] = top + 1
    with pytest.raises(ParamsError, match="seed: .* is greater than the maximum"):
        validate(data, "experiment", path)


def test_too_wide_transformer_names_heads(params_dir):
    path = params_dir / "experiments" / "transformer_c113.yaml"
    data = yaml.safe_load(path.read_text())
    data["model"]["n_heads"] = 10**6
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ParamsError, match=r"model\.n_heads: training .* needs about [\d.,]+ GiB"):
        load_params(params_dir)


FIGURE_NAMES = [
    ("colorscale", "Bluez", "Blues"),
    ("diverging_colorscale", "RdBuu", "rdbu_r"),
    ("cyclic_colorscale", "twilightt", "Twilight"),
    ("template", "plotly_whitee", "plotly_white+presentation"),
    ("colorway", "Plotlyy", "Set1_r"),
]


@pytest.mark.parametrize(("field", "bad", "good"), FIGURE_NAMES)
def test_plotly_names_are_checked_at_load(params_dir, field, bad, good):
    path = params_dir / "figures.yaml"
    figures = yaml.safe_load(path.read_text())
    figures[field] = good
    path.write_text(yaml.safe_dump(figures))
    assert load_params(params_dir)["figures"][field] == good
    figures[field] = bad
    path.write_text(yaml.safe_dump(figures))
    with pytest.raises(ParamsError) as info:
        load_params(params_dir)
    msg = str(info.value)
    assert "\n" not in msg and msg.startswith(f"{path}: {field}: {bad!r} is not a plotly")


def _explicit(params_dir, labels, suite=(TINY,)):
    (params_dir / "suite.yaml").write_text(f"experiments: {list(suite)}\n")
    path = params_dir / "analysis.yaml"
    analysis = yaml.safe_load(path.read_text())
    analysis["key_irreps"].update(rule="explicit", irreps=labels)
    path.write_text(yaml.safe_dump(analysis, allow_unicode=True))
    return path


def test_explicit_irrep_labels_are_checked_against_each_groups_irreps(params_dir):
    _explicit(params_dir, ["freq 3", "freq 20"])
    assert load_params(params_dir)["analysis"]["key_irreps"]["irreps"] == ["freq 3", "freq 20"]
    path = _explicit(params_dir, ["freq 3", "freq 21"])
    with pytest.raises(ParamsError) as info:
        load_params(params_dir)
    assert str(info.value).startswith(
        f"{path}: key_irreps.irreps: 'freq 21' not an irrep of C_41 (experiment tiny_c41); "
        "its irreps are freq 1, freq 2,"
    )
    # The same label on a dihedral group of the suite
    path = _explicit(params_dir, ["freq 3"], suite=(TINY, "tiny_d7"))
    with pytest.raises(ParamsError, match=r"'freq 3' not an irrep of D_7 .* sign, rot 1"):
        load_params(params_dir)
    _explicit(params_dir, ["rot 2", "sign"], suite=("tiny_d7",))
    load_params(params_dir)
    _explicit(params_dir, [])
    with pytest.raises(ParamsError, match="key_irreps.irreps: rule `explicit` needs"):
        load_params(params_dir)


GROUPS = [("cyclic", n) for n in (2, 3, 8, 9)] + [("dihedral", n) for n in (3, 4, 7, 8)]
GROUPS += [("symmetric", n) for n in (2, 3, 4, 5)] + [("alternating", n) for n in (3, 4, 5, 6)]


@pytest.mark.parametrize(("name", "n"), GROUPS)
def test_cheap_irrep_labels_are_the_fourier_bases_labels(name, n):
    fb = fourier_basis(make_group(name, n))
    assert sorted(irrep_labels(name, n)) == sorted(i.label for i in fb.irreps[1:])


def test_suite_size_limit_counts_jobs_and_is_overridable(params_dir):
    suite = params_dir / "suite.yaml"
    # Every sweep file (listed or not) on its own: 8 members of 16 jobs + 3 sweep steps
    suite.write_text("experiments: [tiny_c41]\nmax_jobs: 100\n")
    with pytest.raises(ParamsError) as info:
        load_params(params_dir)
    assert str(info.value) == (
        f"{params_dir}/experiments/sweep_s4.yaml: sweep: 8 values make 8 members and 131 jobs, "
        "more than max_jobs = 100 (suite.yaml); sweep fewer values or raise max_jobs"
    )
    # The suite: tiny_c41 (cyclic, 18 jobs), sweep_s4 (131), assets, the report and `all`
    suite.write_text("experiments: [tiny_c41, sweep_s4]\nmax_jobs: 140\n")
    with pytest.raises(ParamsError) as info:
        load_params(params_dir)
    assert str(info.value) == (
        f"{suite}: experiments: the suite makes 152 jobs (9 experiments, counting each sweep "
        f"member), more than max_jobs = 140; list fewer experiments or raise max_jobs in {suite}"
    )
    suite.write_text("experiments: [tiny_c41, sweep_s4]\nmax_jobs: 152\n")
    assert len(load_params(params_dir)["sweeps"]["sweep_s4"]) == 8
    suite.write_text("experiments: [tiny_c41]\nmax_jobs: 0\n")
    with pytest.raises(ParamsError, match="suite.yaml: max_jobs: 0 is less than the minimum"):
        load_params(params_dir)


def test_default_suite_is_far_below_the_default_limit():
    p = load_params(PARAMS)
    members = {n: p["sweeps"].get(n, [n]) for n in p["suite"]["experiments"]}
    jobs = check_suite_jobs(members, p["experiments"], set(p["batched"]), DEFAULT_MAX_JOBS, "x")
    assert jobs < DEFAULT_MAX_JOBS / 10


def test_the_default_suites_longest_training_is_scheduled_first():
    # The published transformer trains for minutes, every other run for under one: its data
    # and training jobs get the highest priority, so it starts at once (the critical path).
    p = load_params(PARAMS)
    suite = {name: training_priority(p["experiments"][name]) for name in p["suite"]["experiments"]}
    assert max(suite, key=suite.get) == "transformer_c113"
    assert training_priority(p["experiments"]["nanda_mod113"]) == 0.0  # imported: no training


def test_colour_scale_rule_is_plotlys():
    """The cheap check at load accepts exactly what plotly's colour-axis validator does."""
    import plotly.graph_objects as go
    from plotly.colors import named_colorscales

    names = named_colorscales()
    candidates = names + [n.upper() for n in names] + [n.title() + "_r" for n in names]
    candidates += ["Bluez", "", "_r", "Blues_R", "Blues_rr", "Blues ", "rdbu_r_r", "Viridis_r"]
    for name in candidates:
        try:
            go.layout.Coloraxis(colorscale=name)
            plotly_takes = True
        except ValueError:
            plotly_takes = False
        assert is_colorscale(name) == plotly_takes, name
