"""Stage 1, data: the export contract, reading and validating exports, scoring, derived variables,
and the synthetic cohort."""
