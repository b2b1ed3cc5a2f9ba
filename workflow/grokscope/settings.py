"""A job's settings: the parts of ``params/`` its step reads, resolved into one JSON object.

Every rule declares where its step's settings come from (``step()`` in
``workflow/rules/common.smk``), as a *spec*::

    {"exp": "mlp_d53",                      # whose params/experiments/<exp>.yaml
     "experiment": ["data", "group", "seed"],  # these keys of it
     "analysis": ["neurons"],               # these sections of params/analysis.yaml
     "figures": true,                       # all of params/figures.yaml
     "summaries": ["mlp_d53", "mlp_s5"],    # these experiments' group, model and source
     "seeds": ["s-seed0", "s-seed1"],       # these experiments' seeds (a sweep's members)
     "derived": {"reference": "mlp_c113"}}  # names fixed by the DAG, passed as they are

(every key optional; ``exp`` comes with ``experiment``). Derived values are names from the
DAG (which run a comparison reads), never values a params change could alter without
changing the DAG: those are read from params when the spec is resolved.

:func:`resolve` turns a spec and the loaded params into the step's settings. Snakemake
resolves it when it builds the DAG (the values are a job param, so a changed value reruns the
job); a DVC stage's command passes the spec itself (``--settings-from``), and the step
resolves it when it runs, so ``dvc repro`` after a params change needs no regenerated
``dvc.yaml``. Both go through :func:`resolve`: the same spec gives the same settings in
either tool.
"""

from __future__ import annotations

from typing import Any

SOURCES = ("experiment", "analysis", "figures", "experiments", "members")


def resolve(spec: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """The settings object a spec names, from ``params`` (:func:`grokscope.params.load_params`).

    Keys: ``experiment`` (the chosen keys of the experiment ``spec["exp"]``), ``analysis``
    (the chosen sections), ``figures`` (the whole file), ``experiments`` (each summarised
    experiment's group, model and whether it was trained or imported), ``members`` (each
    named experiment's seed), then each derived value.
    """
    out: dict[str, Any] = {}
    if spec.get("experiment"):
        source = params["experiments"][spec["exp"]]
        out["experiment"] = {key: source[key] for key in spec["experiment"]}
    if spec.get("analysis"):
        out["analysis"] = {key: params["analysis"][key] for key in spec["analysis"]}
    if spec.get("figures"):
        out["figures"] = params["figures"]
    if spec.get("summaries"):
        out["experiments"] = {
            name: summary(params["experiments"][name]) for name in spec["summaries"]
        }
    if spec.get("seeds"):
        out["members"] = {name: params["experiments"][name]["seed"] for name in spec["seeds"]}
    out.update(spec.get("derived", {}))
    return out


def summary(experiment: dict[str, Any]) -> dict[str, Any]:
    """What the report says of an experiment beside its numbers."""
    source = "trained" if "train" in experiment else "imported"
    return {"group": experiment["group"], "model": experiment["model"], "source": source}


def spec_of(
    exp: str | None,
    experiment: list[str] | tuple[str, ...] = (),
    analysis: list[str] | tuple[str, ...] = (),
    figures: bool = False,
    summaries: list[str] | tuple[str, ...] = (),
    seeds: list[str] | tuple[str, ...] = (),
    derived: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A spec with only the keys that are set (so that equal specs print equally)."""
    spec: dict[str, Any] = {}
    if experiment:
        spec["exp"], spec["experiment"] = exp, list(experiment)
    if analysis:
        spec["analysis"] = list(analysis)
    if figures:
        spec["figures"] = True
    if summaries:
        spec["summaries"] = list(summaries)
    if seeds:
        spec["seeds"] = list(seeds)
    if derived:
        clash = set(derived) & set(SOURCES)
        if clash:
            raise ValueError(f"derived settings may not be named {sorted(clash)}")
        spec["derived"] = derived
    return spec
