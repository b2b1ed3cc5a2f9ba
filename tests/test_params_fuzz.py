"""Property: any mutation of the real params files either loads or is one ParamsError line
that names the file; the loader never raises anything else.

Mutations: a value replaced by one of another type or range (huge and negative integers,
whole-number floats, NaN, infinities, strings, booleans, null, lists, mappings), a key
removed, a key added, and raw-text oddities (tabs, anchors and aliases, tags, documents,
directives, duplicate keys, control characters). Derandomized, so every run (and CI) tries
the same examples.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from grokscope.params import ParamsError, load_params

torch.set_num_threads(1)

ROOT = Path(__file__).resolve().parents[1]
FILES = [
    "suite.yaml",
    "figures.yaml",
    "analysis.yaml",
    "experiments/tiny_c41.yaml",
    "experiments/sweep_s4.yaml",
    "experiments/mlp_d53.yaml",
    "experiments/transformer_c113.yaml",
    "experiments/nanda_mod113.yaml",
]
EXAMPLES = 2500

scalars = st.one_of(
    st.integers(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, 1, -1, 2**31, 2**63, 2**64, 10**400]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**6), max_value=10**6).map(float),  # 9000.0
    st.text(max_size=12),
    st.sampled_from(["explicit", "cyclic", "freq 3", "Blues", "plotly", "all", "final", ""]),
    st.booleans(),
    st.none(),
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)
ODDITIES = [
    "\t", "&a ", "*a", "!!python/object/apply:os.system ['true']", "!!binary aGk=", "---\n",
    "...\n", "%YAML 1.1\n---\n", "? ", ": ", "- ", "{", "[", "]", "}", "'", '"', "#", "|\n",
    ">-\n", "\x00", "\x07", "\ufeff", "é", "<<: *a\n", "!!set {a, b}", "!!timestamp 2024-01-01",
    "2024-01-01", "0x1F", "0o17", "1_000", "1:30", ".inf", ".nan", "~", "yes", "No", "@",
    "`", "%", "seed: 1\nseed: 2\n",
]  # fmt: skip


def leaf_paths(data, prefix=()):
    """Every path into nested mappings and lists (the root included)."""
    out = [prefix]
    if isinstance(data, dict):
        for key, value in data.items():
            out += leaf_paths(value, (*prefix, key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            out += leaf_paths(value, (*prefix, i))
    return out


def mutate(data, draw):
    """Apply one structural mutation to ``data`` (a parsed params file), drawing choices."""
    path = draw(st.sampled_from(leaf_paths(data)))
    if not path:
        return draw(values) if draw(st.booleans()) else data
    *parents, last = path
    node = data
    for key in parents:
        node = node[key]
    action = draw(st.sampled_from(["replace", "replace", "delete", "add"]))
    if action == "replace":
        node[last] = draw(values)
    elif action == "delete":
        del node[last]
    elif isinstance(node, dict):
        node[draw(st.text(min_size=1, max_size=8) | st.sampled_from(list(node)))] = draw(values)
    else:
        node.append(draw(values))
    return data


def mutate_text(text: str, draw) -> str:
    lines = text.splitlines(keepends=True) or [""]
    i = draw(st.integers(0, len(lines) - 1))
    line = lines[i]
    j = draw(st.integers(0, len(line)))
    printable = st.characters(blacklist_categories=("Cc", "Cs"))  # ODDITIES has a few controls
    oddity = draw(st.sampled_from(ODDITIES) | st.text(printable, max_size=4))
    lines[i] = line[:j] + oddity + line[j:]
    return "".join(lines)


@pytest.fixture(scope="module")
def params_dir(tmp_path_factory) -> Path:
    dest = tmp_path_factory.mktemp("fuzz") / "params"
    shutil.copytree(ROOT / "params", dest)
    load_params(dest)  # warm: plotly imports, models built for the memory estimates
    return dest


@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_mutated_params_load_or_fail_with_one_line(params_dir: Path, data):
    name = data.draw(st.sampled_from(FILES), label="file")
    target = params_dir / name
    original = (ROOT / "params" / name).read_text()
    if data.draw(st.booleans(), label="text mutation"):
        text = original
        for _ in range(data.draw(st.integers(1, 3))):
            text = mutate_text(text, data.draw)
    else:
        parsed = yaml.safe_load(original)
        for _ in range(data.draw(st.integers(1, 3))):
            parsed = mutate(parsed, data.draw)
        text = yaml.safe_dump(parsed, allow_unicode=True, sort_keys=False)
    target.write_text(text, encoding="utf-8")
    try:
        load_params(params_dir)
        event("loaded")
    except ParamsError as err:
        message = str(err)
        event(f"refused: {message.removeprefix(str(params_dir)).split(':')[1].strip()[:24]}")
        assert "\n" not in message and "\r" not in message, message
        assert message.startswith(str(params_dir)), message
    finally:
        target.write_text(original)
