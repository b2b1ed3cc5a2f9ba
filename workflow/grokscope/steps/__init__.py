"""The pipeline's steps, one module per step, each run by one Snakemake rule.

Every step module defines::

    def run(inputs: Paths, outputs: Paths, settings: dict) -> None

and reads like a small script: load the inputs, call pure functions, write the outputs.
``inputs`` and ``outputs`` map the rule's input and output names to paths; ``settings`` is the
JSON object the rule passes (see ``workflow/rules/common.smk``: its ``experiment``,
``analysis`` and ``figures`` keys hold the parts of the params files the step reads). The
command line is the same for every step::

    python -m grokscope <step> --inputs NAME=PATH ... --outputs NAME=PATH ... --settings JSON

A step module imports only what it runs, so ``grokscope dvc-yaml`` can give each DVC stage
exactly the code it depends on (:mod:`grokscope.closure`).
"""

from __future__ import annotations

from pathlib import Path

Paths = dict[str, Path]
