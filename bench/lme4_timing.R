# Time lme4's fit of Tasks ~ time * poor_outcome + (time | patient_id), ML, on a CSV written by
# bench_models.py. Prints the median of `reps` fits in seconds (R start-up and reading excluded).
args <- commandArgs(trailingOnly = TRUE)
suppressPackageStartupMessages(library(lme4))
data <- read.csv(args[1])
reps <- as.integer(args[2])
times <- numeric(reps)
for (i in seq_len(reps)) {
  times[i] <- system.time(
    fit <- lmer(y ~ time * poor_outcome + (1 + time | patient_id), data = data, REML = FALSE)
  )[["elapsed"]]
}
cat(sprintf("%.6f %.10f\n", median(times), as.numeric(logLik(fit))))
