"""Key irreps that hold up: the reference definitions, our score, and a default rule that the
pipeline's own ablations confirm, with the check every key set must pass.

Definitions
-----------
* *Logit similarity* (the Toy Model of Universality's ``determine_key_reps``): the cosine
  between the centred logits and an irrep's character cube ``tr ρ(a b c⁻¹)``
  (:func:`grokscope.logits.logit_similarity`). The reference calls an irrep key when it
  exceeds ``0.005``, and uses ``0.05`` for its learning-order analysis
  (:func:`reference_sets`).
* *The paper's per-neuron rule* (cyclic groups, "Progress measures for grokking"): each
  neuron's frequency is the one whose 2-D block explains most of its variance; the key
  frequencies are the distinct frequencies of all neurons
  (:func:`grokscope.cyclic.paper_neuron_frequencies`).
* *Our score* (:func:`grokscope.fourier.choose_key_irreps`): the geometric mean of an irrep's
  share of the embedding norm and of the neurons' variance. Shares of ``d²``-dimensional
  blocks favour high-dimensional irreps, so a 1-dimensional irrep (``sign``) can carry a
  tenth of the logits and still score low.

The check
---------
A key set *holds up* (:func:`ablation_check`) when the model restricted to it still works and
the model without it does not:

* restricted loss (test loss with the neurons restricted to the key irreps' ρ(ab)
  directions plus their mean) ≤ ``restricted_factor`` × the model's test loss;
* excluded loss (train loss with those directions removed) ≥ ``excluded_log_fraction`` ×
  ``log |G|`` (``log |G|`` is the loss of a uniform guess);
* a clear gap: the smallest logit similarity in the set is at least ``min_gap`` × the largest
  outside it (:func:`similarity_gap`); otherwise the set is "no clear key".

The default rule (``confirmed``, :func:`choose_confirmed`)
----------------------------------------------------------
Rank the irreps by logit similarity; ``m_min`` is the smallest top-``m`` that passes both loss
tests (:func:`grokscope.ablations.prefix_search`). The key set ends at the largest similarity
gap among ``m = m_min`` and the larger ``m`` whose ``m``-th similarity is at least
``min_similarity`` and that pass too (so a weaker irrep the loose loss test does not need,
such as ``sign`` on ``S_5``, still joins when it stands clearly above the rest). When no
top-``m`` passes, the set ends at the largest gap among eligible ranks, and is flagged.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pandas as pd

Rule = dict[str, Any]  # params/analysis.yaml: key_irreps


def similarity_gap(similarity: pd.Series, keys: list[str]) -> float:
    """``min(sim over keys) / max(sim over the other irreps)``; ``inf`` when every irrep is key
    or the others are at most 0, ``0`` when a key's similarity is at most 0."""
    inside = similarity[keys]
    outside = similarity.drop(index=keys)
    low = float(inside.min()) if len(inside) else 0.0
    high = float(outside.max()) if len(outside) else 0.0
    if low <= 0:
        return 0.0
    return math.inf if high <= 0 else low / high


def ablation_check(
    test_loss: float,
    restricted_loss: float,
    excluded_loss: float,
    gap: float,
    order: int,
    check: Rule,
) -> dict[str, Any]:
    """Whether a key set holds up, and a flag per failed test.

    Args:
        test_loss: the model's test loss; ``restricted_loss``, ``excluded_loss``: the key
            set's (:func:`grokscope.ablations.key_set_losses`); ``gap``:
            :func:`similarity_gap`; ``order``: ``|G|``.
        check: ``restricted_factor``, ``excluded_log_fraction``, ``min_gap``.

    Returns:
        The inputs, the limits, ``restricted_ok``, ``excluded_ok``, ``gap_ok``,
        ``confirmed`` (both loss tests pass) and ``flags`` (one sentence per failure).
    """
    restricted_limit = check["restricted_factor"] * test_loss
    excluded_limit = check["excluded_log_fraction"] * math.log(order)
    out: dict[str, Any] = {
        "test_loss": test_loss,
        "restricted_loss": restricted_loss,
        "excluded_loss": excluded_loss,
        "restricted_limit": restricted_limit,
        "excluded_limit": excluded_limit,
        "gap": gap if math.isfinite(gap) else None,  # None: no irrep outside the set
        "min_gap": check["min_gap"],
        "restricted_ok": restricted_loss <= restricted_limit,
        "excluded_ok": excluded_loss >= excluded_limit,
        "gap_ok": gap >= check["min_gap"],
    }
    out["confirmed"] = out["restricted_ok"] and out["excluded_ok"]
    flags = []
    if not out["restricted_ok"]:
        flags.append(
            f"ablation failed: restricted loss {restricted_loss:.3g} > "
            f"{check['restricted_factor']:g} × test loss {test_loss:.3g} (the key irreps alone "
            "do not carry the model)"
        )
    if not out["excluded_ok"]:
        flags.append(
            f"ablation failed: excluded loss {excluded_loss:.3g} < "
            f"{check['excluded_log_fraction']:g} × log|G| = {excluded_limit:.3g} (the model "
            "works without the key irreps)"
        )
    if not out["gap_ok"]:
        flags.append(
            f"no clear key: logit-similarity gap {gap:.2f} < {check['min_gap']:g} between the "
            "weakest key irrep and the strongest other one"
        )
    out["flags"] = flags
    return out


def reference_sets(similarity: pd.Series, thresholds: dict[str, float]) -> dict[str, list[str]]:
    """The reference's key sets: irreps whose logit similarity exceeds each threshold
    (``{"key": 0.005, "learning_order": 0.05}``), by descending similarity."""
    ranked = similarity.sort_values(ascending=False, kind="stable")
    return {name: list(ranked[ranked > t].index) for name, t in thresholds.items()}


def choose_confirmed(
    similarity: pd.Series, search: pd.DataFrame, test_loss: float, order: int, rule: Rule
) -> tuple[list[str], str]:
    """The ``confirmed`` rule: labels of the key irreps and the reason.

    Args:
        similarity: logit similarity per non-trivial irrep, descending.
        search: :func:`grokscope.ablations.prefix_search` over that ranking (``m``,
            ``restricted_loss``, ``excluded_loss``; it may stop early).
        rule: ``min_similarity`` and ``check`` (see :func:`ablation_check`).
    """
    values, labels = similarity.to_numpy(), list(similarity.index)

    def ratio(m: int) -> float:  # similarity #m over #m+1 (1-based m)
        if m >= len(values):
            return math.inf
        return values[m - 1] / values[m] if values[m] > 0 else math.inf

    passes = {
        int(r.m): ablation_check(
            test_loss, r.restricted_loss, r.excluded_loss, 0.0, order, rule["check"]
        )["confirmed"]
        for r in search.itertuples()
    }
    m_min = next((m for m in sorted(passes) if passes[m]), None)
    eligible = [m for m in passes if values[m - 1] >= rule["min_similarity"]]
    if m_min is not None:
        candidates = [m_min] + [m for m in eligible if m > m_min and passes[m]]
    else:
        candidates = sorted(set(eligible) | {1})
    m = max(candidates, key=lambda k: (ratio(k), -k))
    why = (
        f"ranked by logit similarity; the smallest top-m passing the ablation check is "
        f"m = {m_min}" if m_min is not None else
        f"ranked by logit similarity; no top-m up to {max(passes)} passes the ablation check"
    )  # fmt: skip
    return labels[:m], (
        f"{why}; the set ends at the largest similarity gap among the candidates "
        f"(similarity ≥ {rule['min_similarity']:g}): #{m} / #{m + 1} = {ratio(m):.2f} "
        f"({values[m - 1]:.3f} vs {values[m] if m < len(values) else 0.0:.3f})"
    )


def search_stop(
    similarity: pd.Series, test_loss: float, order: int, rule: Rule
) -> Callable[[int, dict[str, float]], bool]:
    """When :func:`grokscope.ablations.prefix_search` may stop for the ``confirmed`` rule: a
    top-``m`` has passed and the next rank is below ``min_similarity`` (no later candidate)."""
    values = similarity.to_numpy()
    passed = False

    def stop(m: int, losses: dict[str, float]) -> bool:
        nonlocal passed
        check = ablation_check(test_loss, **losses, gap=0.0, order=order, check=rule["check"])
        passed = passed or check["confirmed"]
        return passed and (m >= len(values) or values[m] < rule["min_similarity"])

    return stop
