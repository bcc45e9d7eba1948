"""The science of the alliance workflow: reading, validating and scoring a cohort's exports.

Every function here is importable and pure (DataFrames in, DataFrames out); the Snakemake scripts in
``workflow/scripts`` only read their inputs, call these functions and write the results.
"""

__version__ = "0.1.0"
