"""Progress messages of a workflow step: to its Snakemake log file and to the terminal.

Each line names the step and its wildcards ("[fit_models cohort=clinic, outcome=goals] ..."), so that a log
read on its own (on a cluster, one file per job) says which cohort it is about; an error that stops the
step is written there too, with what failed, before Python prints its traceback.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping
from types import TracebackType
from typing import Any


def step_logger(name: str, log_path: str | None, wildcards: Any = None) -> logging.Logger:
    """The step's logger; ``wildcards`` (Snakemake's, or a mapping) are named in every line."""
    label = " ".join([name, _describe(wildcards)]).strip()
    logger = logging.getLogger(f"alliance.{name}")
    logger.setLevel(logging.INFO)
    logger.handlers.clear()
    formatter = logging.Formatter(f"[{label}] %(message)s")
    terminal = logging.StreamHandler(sys.stderr)
    terminal.setFormatter(formatter)
    logger.addHandler(terminal)
    if log_path:
        to_file = logging.FileHandler(log_path, mode="w", encoding="utf-8")
        to_file.setFormatter(formatter)
        logger.addHandler(to_file)
    logger.propagate = False
    sys.excepthook = _logging_failures(logger, sys.__excepthook__)
    return logger


def _describe(wildcards: Any) -> str:
    if wildcards is None:
        return ""
    items = wildcards.items() if isinstance(wildcards, Mapping) or hasattr(wildcards, "items") else []
    return ", ".join(f"{key}={value}" for key, value in items)


def _logging_failures(logger: logging.Logger, previous: Any) -> Any:
    """An excepthook that writes the error that stops the step to its log, then does what Python does."""

    def hook(kind: type[BaseException], error: BaseException, traceback: TracebackType | None) -> None:
        logger.error(f"failed: {kind.__name__}: {error}")
        previous(kind, error, traceback)

    return hook
