# Reference variance components of a sessions x raters G study with lme4, for tests/test_companion_studies.py.
#
#   Rscript tests/r/gstudy_reference.R folder
#
# Every folder/*.csv (columns session, rater, score) is fitted by REML as
#   lmer(score ~ 1 + (1 | session) + (1 | rater))
# with bobyqa and a tight stopping rule (rhoend 1e-10), and its variance components are written to
# folder/<name>.json: {"session": ..., "rater": ..., "residual": ..., "reml_criterion": ...}.
suppressMessages(library(lme4))
library(jsonlite)

args <- commandArgs(trailingOnly = TRUE)
folder <- args[1]
control <- lmerControl(optimizer = "bobyqa", optCtrl = list(rhoend = 1e-10, maxfun = 1e5),
                       check.conv.singular = "ignore")
for (path in list.files(folder, pattern = "\\.csv$", full.names = TRUE)) {
  data <- read.csv(path, colClasses = c(session = "character", rater = "character", score = "numeric"))
  fit <- lmer(score ~ 1 + (1 | session) + (1 | rater), data = data, REML = TRUE, control = control)
  components <- as.data.frame(VarCorr(fit))
  value <- function(group) components$vcov[components$grp == group]
  result <- list(session = value("session"), rater = value("rater"), residual = value("Residual"),
                 reml_criterion = as.numeric(REMLcrit(fit)))
  write_json(result, sub("\\.csv$", ".json", path), auto_unbox = TRUE, digits = NA)
}
