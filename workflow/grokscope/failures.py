"""What the terminal says when a job fails: one line per failed job.

Every step writes its stderr to the job's log (``2> {log}``), and the CLI ends it with one line
``grokscope <step>: <what failed, where, what to do>`` (an unexpected exception's traceback
stays above that line, in the log). When a Snakemake run fails, its ``onerror`` handler
(``workflow/rules/common.smk``) prints :func:`failure_line` for each failed job, so the reason
is the last thing on the terminal, with the params file and the log to read for more.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path

# The CLI's closing line; a progress bar may share its line (tqdm ends with "\r", not "\n").
_MESSAGE = re.compile(r"grokscope [a-z_]+: (.*)")


def last_message(log: str | Path) -> str | None:
    """The last ``grokscope <step>: …`` message in a job's log (``None`` if there is none)."""
    try:
        text = Path(log).read_text(errors="replace")
    except OSError:
        return None
    found = _MESSAGE.findall(text.replace("\r", "\n"))
    return found[-1].strip() if found else None


def failure_line(
    rule: str, wildcards: Mapping[str, str], logs: Sequence[str], source: str | None
) -> str:
    """One line for a failed job: the rule and its experiment, why it failed (the step's own
    message), the params file it ran from and its log.

    Args:
        rule: the rule's name.
        wildcards: the job's wildcards (e.g. ``{"exp": "tiny_c41"}``).
        logs: the job's log files.
        source: the params file of the job's experiment, if it has one.
    """
    what = rule + (f" ({', '.join(map(str, wildcards.values()))})" if wildcards else "")
    messages = [m for m in map(last_message, logs) if m]
    reason = (
        messages[-1]
        if messages
        else ("it wrote no message (killed by a signal, or out of memory?)")
    )
    where = [source] if source else []
    where.append("log: " + ", ".join(logs) if logs else "no log")
    return f"grokscope: {what} failed: {reason} [{'; '.join(where)}]"
