"""The science of the alliance workflow: reading, validating and scoring a cohort's exports, and the
growth models of Folmo et al. (2020).

Every function here is importable and pure (DataFrames in, DataFrames out); the Snakemake scripts in
``workflow/scripts`` only read their inputs, call these functions and write the results.

The fitting API is exported here and kept stable::

    from alliance import GrowthData, fit_growth
    fit = fit_growth(GrowthData.from_long(ids, y, time, {"poor_outcome": x}), "ML")
"""

from alliance.stats.engine import CollinearTerms, FitFailed, FitResult, GrowthData, fit_growth

__all__ = ["CollinearTerms", "FitFailed", "FitResult", "GrowthData", "fit_growth"]
__version__ = "0.1.0"
