# Reference fits of linear growth models with lme4/lmerTest, for tests/test_lme4_agreement.py and
# tests/test_lme4_datasets.py.
#
#   Rscript tests/r/lme4_reference.R data.csv spec.json out.json     (one model)
#   Rscript tests/r/lme4_reference.R manifest.json                   (a batch: one R start-up)
#
# manifest.json: [{"data": "...csv", "spec": "...json", "out": "...json"}, ...]
# data.csv: columns patient_id, y, time and one column per fixed-effect term (sanitized names).
# spec.json: {"terms": {"<original term>": "<column>", ...}, "random_slope": true, "reml": false}
# A case that fails writes {"error": "<message>"} to its out.json; the batch goes on.
#
# The model is  y ~ 0 + <term columns> + (1 + time | patient_id)  (or (1 | patient_id)), fitted by ML
# or REML with lmerTest::lmer (Satterthwaite df).
#
# The optimizer is lme4's bobyqa with a tight stopping rule (rhoend 1e-10 instead of lme4's 2e-7,
# maxfun 1e5): with lme4's default, bobyqa stops up to ~1e-5 (relative) away from the optimum in
# theta on flat likelihoods (e.g. sleepstudy's REML fit, or a slope variance of ~1e-7 when time is in
# days, where 2e-7 is a large step in theta), which is more than the tolerances of the tests.
#
# The standard errors of the variance components are computed here in two ways:
# * se_delta_*: the delta method applied to lmerTest's own asymptotic covariance of (theta, sigma)
#   (fit@vcov_varpar, 2 * inverse Hessian of its deviance, the one behind its Satterthwaite df). This is
#   the reference of the tests; on the boundary (a singular G) it is the only meaningful one.
# * se_*: as SPSS reports them, from the observed information of the natural parameters
#   (var_intercept, cov_intercept_slope, var_slope, var_residual), i.e. 2 * inverse Hessian of the ML
#   (or REML) deviance with the fixed effects profiled out (GLS). lme4's own devfun profiles sigma out
#   of the ML deviance, so the deviance in the natural parameters is written out below from the
#   marginal model (V = Z G Z' + s2 I) and checked against lme4's logLik at the optimum. At an interior
#   optimum it equals se_delta_* (invariance), but numDeriv's Hessian in these parameters is less
#   accurate (~1e-4; next to a singular G its steps can leave V not positive definite: then NA). Not
#   computed on the boundary, where it is not the information of anything.
# Nothing here comes from the Python code.

suppressPackageStartupMessages({
  library(lme4)
  library(lmerTest)
  library(jsonlite)
  library(numDeriv)
  library(Matrix)
})

control <- lmerControl(
  optimizer = "bobyqa",
  optCtrl = list(rhoend = 1e-10, maxfun = 1e5),
  check.conv.singular = "ignore"
)

# Natural parameters (var_intercept, cov, var_slope, s2) or (var_intercept, s2) from lme4's
# (theta, sigma): G = sigma^2 Lambda Lambda', Lambda = [t1 0; t2 t3].
natural_from_varpar <- function(varpar, random_slope) {
  s2 <- varpar[length(varpar)]^2
  if (random_slope) {
    t <- varpar[1:3]
    c(s2 * t[1]^2, s2 * t[1] * t[2], s2 * (t[2]^2 + t[3]^2), s2)
  } else {
    c(s2 * varpar[1]^2, s2)
  }
}

fit_one <- function(data_path, spec_path) {
  data <- read.csv(data_path, check.names = FALSE, stringsAsFactors = FALSE)
  spec <- fromJSON(spec_path, simplifyVector = TRUE)
  terms <- unlist(spec$terms) # named: original term -> column
  random_slope <- isTRUE(spec$random_slope)
  reml <- isTRUE(spec$reml)

  data$patient_id <- factor(as.character(data$patient_id))
  data <- data[order(data$patient_id, data$time), , drop = FALSE]
  columns <- unname(terms)
  random <- if (random_slope) "(1 + time | patient_id)" else "(1 | patient_id)"
  formula <- as.formula(paste("y ~ 0 +", paste(sprintf("`%s`", columns), collapse = " + "), "+", random))

  warnings_seen <- character(0)
  fit <- withCallingHandlers(
    lmerTest::lmer(formula, data = data, REML = reml, control = control),
    warning = function(w) {
      warnings_seen <<- c(warnings_seen, conditionMessage(w))
      invokeRestart("muffleWarning")
    }
  )
  if (!inherits(fit, "lmerModLmerTest")) stop("lmerTest could not compute its Satterthwaite machinery")

  # --- fixed effects (Satterthwaite) ---------------------------------------------------------------
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

  # --- variance components -------------------------------------------------------------------------
  vc <- VarCorr(fit)
  G <- as.matrix(vc$patient_id)
  attributes(G) <- attributes(G)[c("dim", "dimnames")]
  s2 <- sigma(fit)^2
  natural <- if (random_slope) c(G[1, 1], G[1, 2], G[2, 2], s2) else c(G[1, 1], s2)

  # --- the deviance in the natural parameters, fixed effects profiled out --------------------------
  # V = Z G Z' + s2 I as one sparse block-diagonal matrix, from its upper triangle within patients
  # (Matrix's sparse Cholesky).
  X <- as.matrix(data[, columns, drop = FALSE])
  y <- data$y
  p <- ncol(X)
  n <- nrow(X)
  pairs <- do.call(rbind, lapply(split(seq_len(n), data$patient_id, drop = TRUE), function(rows) {
    both <- expand.grid(a = rows, b = rows)
    both[both$a <= both$b, ]
  }))
  ta <- data$time[pairs$a]
  tb <- data$time[pairs$b]
  same <- as.numeric(pairs$a == pairs$b)
  Xy <- cbind(X, y)

  deviance_natural <- function(theta) {
    if (random_slope) {
      v <- theta[1] + theta[2] * (ta + tb) + theta[3] * ta * tb + theta[4] * same
    } else {
      v <- theta[1] + theta[2] * same
    }
    V <- Matrix::sparseMatrix(i = pairs$a, j = pairs$b, x = v, dims = c(n, n), symmetric = TRUE)
    R <- tryCatch(Matrix::chol(V), error = function(e) NULL) # V = R'R, no pivoting
    if (is.null(R)) return(NA_real_)
    logdet <- 2 * sum(log(Matrix::diag(R)))
    W <- as.matrix(Matrix::solve(Matrix::t(R), Xy)) # R'^-1 [X y]
    XtVX <- crossprod(W[, seq_len(p), drop = FALSE])
    XtVy <- drop(crossprod(W[, seq_len(p), drop = FALSE], W[, p + 1]))
    yVy <- sum(W[, p + 1]^2)
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
  singular <- isSingular(fit)
  se <- rep(NA_real_, length(natural))
  if (!singular) {
    # Richardson steps relative to every parameter, from 1% (numDeriv's default, 10%, can take G so far
    # from a near-singular optimum that V is not positive definite, e.g. a correlation of -0.99; and its
    # absolute step 1e-4 for a parameter below 1.8e-5, a slope variance of 1e-7, is far too large).
    hessian <- numDeriv::hessian(deviance_natural, natural, method.args = list(d = 1e-2, zero.tol = 0))
    covariance <- tryCatch(2 * solve(hessian), error = function(e) matrix(NA_real_, length(natural), length(natural)))
    variances <- diag(covariance)
    se <- ifelse(is.finite(variances) & variances >= 0, sqrt(pmax(variances, 0)), NA_real_)
  }

  # --- lmerTest's covariance of (theta, sigma), by the delta method to the natural parameters ------
  varpar <- c(getME(fit, "theta"), sigma(fit))
  J <- numDeriv::jacobian(function(v) natural_from_varpar(v, random_slope), varpar)
  delta <- diag(J %*% fit@vcov_varpar %*% t(J))
  se_delta <- ifelse(is.finite(delta) & delta >= 0, sqrt(pmax(delta, 0)), NA_real_)

  messages <- c(warnings_seen, fit@optinfo$conv$lme4$messages, fit@optinfo$message)
  k <- length(natural)
  out <- list(
    fixed = fixed,
    var_intercept = natural[1],
    var_slope = if (random_slope) natural[3] else NULL,
    cov_intercept_slope = if (random_slope) natural[2] else NULL,
    var_residual = s2,
    se_var_intercept = se[1],
    se_var_slope = if (random_slope) se[3] else NULL,
    se_cov_intercept_slope = if (random_slope) se[2] else NULL,
    se_var_residual = se[k],
    se_delta_var_intercept = se_delta[1],
    se_delta_var_slope = if (random_slope) se_delta[3] else NULL,
    se_delta_cov_intercept_slope = if (random_slope) se_delta[2] else NULL,
    se_delta_var_residual = se_delta[k],
    sd_intercept = sqrt(natural[1]),
    sd_slope = if (random_slope) sqrt(natural[3]) else NULL,
    cor_intercept_slope = if (random_slope) natural[2] / sqrt(natural[1] * natural[3]) else NULL,
    sd_residual = sqrt(s2),
    theta = as.list(getME(fit, "theta")),
    loglik = as.numeric(logLik(fit)),
    deviance_criterion = if (reml) as.numeric(REMLcrit(fit)) else as.numeric(deviance(fit)),
    own_deviance = own_deviance,
    lme4_minus2_loglik = lme4_deviance,
    aic = AIC(fit),
    bic = BIC(fit),
    n_obs = nobs(fit),
    n_patients = as.integer(ngrps(fit)[["patient_id"]]),
    reml = reml,
    singular = singular,
    optimizer_evaluations = as.integer(fit@optinfo$feval),
    messages = as.list(unique(messages)),
    lme4_version = as.character(packageVersion("lme4")),
    lmerTest_version = as.character(packageVersion("lmerTest"))
  )
  Filter(Negate(is.null), out)
}

# jsonlite prints at most 15 significant digits; numbers are written verbatim with 17 (round trip).
exact <- function(x) {
  if (is.list(x)) return(lapply(x, exact))
  if (is.numeric(x) && length(x) == 1 && !is.integer(x)) {
    return(structure(if (is.finite(x)) sprintf("%.17g", x) else "null", class = "json"))
  }
  x
}

write_result <- function(result, path) {
  json <- toJSON(exact(result), auto_unbox = TRUE, json_verbatim = TRUE, null = "null", na = "null", pretty = TRUE)
  writeLines(json, path)
}

run_case <- function(data_path, spec_path, out_path) {
  result <- tryCatch(fit_one(data_path, spec_path), error = function(e) list(error = conditionMessage(e)))
  write_result(result, out_path)
}

args <- commandArgs(trailingOnly = TRUE)
if (length(args) == 3) {
  run_case(args[1], args[2], args[3])
} else if (length(args) == 1) {
  manifest <- fromJSON(args[1], simplifyVector = FALSE)
  for (entry in manifest) run_case(entry$data, entry$spec, entry$out)
} else {
  stop("usage: Rscript lme4_reference.R data.csv spec.json out.json | Rscript lme4_reference.R manifest.json")
}
