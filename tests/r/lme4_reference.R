# Reference fit of one linear growth model with lme4/lmerTest, for tests/test_lme4_agreement.py.
#
#   Rscript tests/r/lme4_reference.R data.csv spec.json out.json
#
# data.csv: columns patient_id, y, time and one column per fixed-effect term (sanitized names).
# spec.json: {"terms": {"<original term>": "<column>", ...}, "random_slope": true, "reml": false}
#
# The model is  y ~ 0 + <term columns> + (1 + time | patient_id)  (or (1 | patient_id)), fitted by ML
# or REML with lmerTest::lmer (Satterthwaite df). The standard errors of the variance components are
# computed here as SPSS reports them: from the observed information of the natural parameters
# (var_intercept, cov_intercept_slope, var_slope, var_residual), i.e. 2 * inverse Hessian of the ML
# (or REML) deviance with the fixed effects profiled out (GLS). lme4's own devfun profiles sigma out
# of the ML deviance, so the deviance in the natural parameters is written out below from the
# marginal model (V_i = Z_i G Z_i' + s2 I) and checked against lme4's logLik at the optimum.
# Nothing here comes from the Python code.

suppressPackageStartupMessages({
  library(lme4)
  library(lmerTest)
  library(jsonlite)
  library(numDeriv)
})

args <- commandArgs(trailingOnly = TRUE)
if (length(args) != 3) stop("usage: Rscript lme4_reference.R data.csv spec.json out.json")
data <- read.csv(args[1], check.names = FALSE, stringsAsFactors = FALSE)
spec <- fromJSON(args[2], simplifyVector = TRUE)
terms <- unlist(spec$terms) # named: original term -> column
random_slope <- isTRUE(spec$random_slope)
reml <- isTRUE(spec$reml)

data$patient_id <- factor(as.character(data$patient_id))
data <- data[order(data$patient_id, data$time), , drop = FALSE]
columns <- unname(terms)
random <- if (random_slope) "(1 + time | patient_id)" else "(1 | patient_id)"
formula <- as.formula(paste("y ~ 0 +", paste(sprintf("`%s`", columns), collapse = " + "), "+", random))
control <- lmerControl(optimizer = "bobyqa", check.conv.singular = "ignore")

warnings_seen <- character(0)
fit <- withCallingHandlers(
  lmerTest::lmer(formula, data = data, REML = reml, control = control),
  warning = function(w) {
    warnings_seen <<- c(warnings_seen, conditionMessage(w))
    invokeRestart("muffleWarning")
  }
)

# --- fixed effects (Satterthwaite) -----------------------------------------------------------------
coefs <- summary(fit, ddf = "Satterthwaite")$coefficients
fixed <- list()
for (term in names(terms)) {
  row <- sprintf("`%s`", terms[[term]])
  if (!row %in% rownames(coefs)) row <- terms[[term]]
  if (!row %in% rownames(coefs)) stop("term not in the fit (rank deficient?): ", term)
  fixed[[term]] <- list(
    estimate = coefs[row, "Estimate"],
    std_error = coefs[row, "Std. Error"],
    df = coefs[row, "df"],
    t = coefs[row, "t value"],
    p = coefs[row, "Pr(>|t|)"]
  )
}

# --- variance components ---------------------------------------------------------------------------
vc <- VarCorr(fit)
G <- as.matrix(vc$patient_id)
attributes(G) <- attributes(G)[c("dim", "dimnames")]
s2 <- sigma(fit)^2
natural <- if (random_slope) c(G[1, 1], G[1, 2], G[2, 2], s2) else c(G[1, 1], s2)

# --- the deviance in the natural parameters, fixed effects profiled out ----------------------------
X <- as.matrix(data[, columns, drop = FALSE])
y <- data$y
p <- ncol(X)
n <- nrow(X)
groups <- split(seq_len(n), data$patient_id, drop = TRUE)
Zs <- lapply(groups, function(rows) if (random_slope) cbind(1, data$time[rows]) else matrix(1, length(rows), 1))

deviance_natural <- function(theta) {
  if (random_slope) {
    Gm <- matrix(c(theta[1], theta[2], theta[2], theta[3]), 2, 2)
    sigma2 <- theta[4]
  } else {
    Gm <- matrix(theta[1], 1, 1)
    sigma2 <- theta[2]
  }
  logdet <- 0
  XtVX <- matrix(0, p, p)
  XtVy <- numeric(p)
  yVy <- 0
  for (g in seq_along(groups)) {
    rows <- groups[[g]]
    Z <- Zs[[g]]
    V <- Z %*% Gm %*% t(Z) + diag(sigma2, length(rows))
    R <- tryCatch(chol(V), error = function(e) NULL)
    if (is.null(R)) return(NA_real_)
    logdet <- logdet + 2 * sum(log(diag(R)))
    Xi <- backsolve(R, X[rows, , drop = FALSE], transpose = TRUE)
    yi <- backsolve(R, y[rows], transpose = TRUE)
    XtVX <- XtVX + crossprod(Xi)
    XtVy <- XtVy + drop(crossprod(Xi, yi))
    yVy <- yVy + sum(yi^2)
  }
  RX <- chol(XtVX)
  u <- backsolve(RX, XtVy, transpose = TRUE)
  quad <- yVy - sum(u^2) # r' V^-1 r at the GLS beta
  if (reml) {
    (n - p) * log(2 * pi) + logdet + 2 * sum(log(diag(RX))) + quad
  } else {
    n * log(2 * pi) + logdet + quad
  }
}

own_deviance <- deviance_natural(natural)
lme4_deviance <- -2 * as.numeric(logLik(fit))
# lme4's REML criterion leaves out nothing that depends on the parameters; a constant offset would
# not change the Hessian, but the two must agree for the ML case and up to a constant for REML.
hessian <- numDeriv::hessian(deviance_natural, natural)
covariance <- tryCatch(2 * solve(hessian), error = function(e) matrix(NA_real_, length(natural), length(natural)))
variances <- diag(covariance)
se <- ifelse(is.finite(variances) & variances >= 0, sqrt(pmax(variances, 0)), NA_real_)

messages <- c(warnings_seen, fit@optinfo$conv$lme4$messages, fit@optinfo$message)

out <- list(
  fixed = fixed,
  var_intercept = natural[1],
  var_slope = if (random_slope) natural[3] else NULL,
  cov_intercept_slope = if (random_slope) natural[2] else NULL,
  var_residual = s2,
  se_var_intercept = se[1],
  se_var_slope = if (random_slope) se[3] else NULL,
  se_cov_intercept_slope = if (random_slope) se[2] else NULL,
  se_var_residual = se[length(se)],
  sd_intercept = sqrt(natural[1]),
  sd_slope = if (random_slope) sqrt(natural[3]) else NULL,
  cor_intercept_slope = if (random_slope) natural[2] / sqrt(natural[1] * natural[3]) else NULL,
  sd_residual = sqrt(s2),
  loglik = as.numeric(logLik(fit)),
  deviance_criterion = if (reml) as.numeric(REMLcrit(fit)) else as.numeric(deviance(fit)),
  own_deviance = own_deviance,
  lme4_minus2_loglik = lme4_deviance,
  aic = AIC(fit),
  bic = BIC(fit),
  n_obs = nobs(fit),
  n_patients = as.integer(ngrps(fit)[["patient_id"]]),
  reml = reml,
  singular = isSingular(fit),
  messages = as.list(unique(messages)),
  lme4_version = as.character(packageVersion("lme4")),
  lmerTest_version = as.character(packageVersion("lmerTest"))
)
out <- Filter(Negate(is.null), out)
# jsonlite prints at most 15 significant digits; numbers are written verbatim with 17 (round trip).
exact <- function(x) {
  if (is.list(x)) return(lapply(x, exact))
  if (is.numeric(x) && length(x) == 1 && !is.integer(x)) {
    return(structure(if (is.finite(x)) sprintf("%.17g", x) else "null", class = "json"))
  }
  x
}
writeLines(toJSON(exact(out), auto_unbox = TRUE, json_verbatim = TRUE, null = "null", na = "null", pretty = TRUE), args[3])
