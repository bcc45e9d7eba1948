"""Stage 2, statistics: the model catalogue, the exact mixed-model engine (and the statsmodels
reference), model runs and the missing-data analyses."""
