# Longitudinal datasets shipped with R, exported for tests/test_lme4_datasets.py.
#
#   Rscript tests/r/export_datasets.R <directory>
#
# Writes <directory>/<name>.csv with columns patient_id, y, time and the dataset's predictors (numeric
# codes); the Python test builds its models from these columns. Sources:
#   orthodont   nlme::Orthodont    distance (mm) by age (years), 27 children; female = Sex is Female
#   oxboys      nlme::Oxboys       height (cm) by centred age, 26 boys
#   bodyweight  nlme::BodyWeight   weight (g) by Time (days), 16 rats; diet = Diet (1, 2, 3)
#   chickweight datasets::ChickWeight  weight (g) by Time (days), 50 chicks; diet = Diet (1 to 4)
#   loblolly    datasets::Loblolly height (ft) by age (years), 14 seed sources
#   orange      datasets::Orange   circumference (mm) by age (days), 5 trees
#   spruce      nlme::Spruce       log size by days since 1 January 1988, 79 trees; ozone = the
#                                  tree's name starts with O (plots 1, 2; N: normal atmosphere)
#   dyestuff2   lme4::Dyestuff2    yield, 6 batches (no time: time is 0)

suppressPackageStartupMessages({
  library(nlme)
  library(lme4)
})

args <- commandArgs(trailingOnly = TRUE)
if (length(args) != 1) stop("usage: Rscript export_datasets.R <directory>")
directory <- args[1]
dir.create(directory, showWarnings = FALSE, recursive = TRUE)

long <- function(id, y, time, ...) {
  data.frame(patient_id = as.character(id), y = as.numeric(y), time = as.numeric(time), ..., check.names = FALSE)
}
save <- function(table, name) {
  write.csv(table, file.path(directory, paste0(name, ".csv")), row.names = FALSE)
}

with(as.data.frame(nlme::Orthodont), save(long(Subject, distance, age, female = as.integer(Sex == "Female")), "orthodont"))
with(as.data.frame(nlme::Oxboys), save(long(Subject, height, age), "oxboys"))
with(as.data.frame(nlme::BodyWeight), save(long(Rat, weight, Time, diet = as.integer(as.character(Diet))), "bodyweight"))
with(as.data.frame(datasets::ChickWeight), save(long(Chick, weight, Time, diet = as.integer(as.character(Diet))), "chickweight"))
with(as.data.frame(datasets::Loblolly), save(long(Seed, height, age), "loblolly"))
with(as.data.frame(datasets::Orange), save(long(Tree, circumference, age), "orange"))
with(as.data.frame(nlme::Spruce), save(long(Tree, logSize, days, ozone = as.integer(substr(as.character(Tree), 1, 1) == "O")), "spruce"))
with(lme4::Dyestuff2, save(long(Batch, Yield, 0), "dyestuff2"))
