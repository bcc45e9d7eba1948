"""The science of the alliance workflow, in stages that follow the data (README, "For developers"):
``alliance.data`` (exports -> clean tables), ``alliance.stats`` (models), ``alliance.report`` (tables,
figures, manuscript) and ``alliance.verify`` (published vs reproduced), over a base of ``errors``,
``settings``, ``layout``, ``logs`` and ``build``.

Every function here is importable and pure (DataFrames in, DataFrames out); the Snakemake scripts in
``workflow/scripts`` only read their inputs, call these functions and write the results.

The fitting API is exported here and kept stable::

    from alliance import GrowthData, fit_growth
    fit = fit_growth(GrowthData.from_long(ids, y, time, {"poor_outcome": x}), "ML")

It is loaded on first use (PEP 562), so that importing a light module (the settings, the catalogue,
which the Snakefile parses at every load) does not import numpy and pandas through this file.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from alliance.stats.engine import CollinearTerms, FitFailed, FitResult, GrowthData, fit_growth

__all__ = ["CollinearTerms", "FitFailed", "FitResult", "GrowthData", "fit_growth"]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(importlib.import_module("alliance.stats.engine"), name)
    raise AttributeError(f"module 'alliance' has no attribute {name!r}")
