"""Stage 3, report: table formatting, the paper's tables and figures, and the manuscript."""
