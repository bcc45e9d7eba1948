"""Progress messages of a workflow step: to its Snakemake log file and to the terminal."""

from __future__ import annotations

import logging
import sys


def step_logger(name: str, log_path: str | None) -> logging.Logger:
    logger = logging.getLogger(f"alliance.{name}")
    logger.setLevel(logging.INFO)
    logger.handlers.clear()
    formatter = logging.Formatter(f"[{name}] %(message)s")
    terminal = logging.StreamHandler(sys.stderr)
    terminal.setFormatter(formatter)
    logger.addHandler(terminal)
    if log_path:
        to_file = logging.FileHandler(log_path, mode="w", encoding="utf-8")
        to_file.setFormatter(formatter)
        logger.addHandler(to_file)
    logger.propagate = False
    return logger
