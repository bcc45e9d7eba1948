#!/usr/bin/env bash
# Installs R with lme4 and lmerTest from Debian's packages: the independent reference implementation
# that tests/test_lme4_agreement.py and tests/test_lme4_datasets.py compare the mixed-model engine with
# (nlme for its longitudinal datasets), and boot, against which tests/test_bootstrap.py checks the BCa
# intervals. Does nothing when they are
# already installed. Needs root (uses sudo when not root).
set -euo pipefail
if Rscript -e 'library(lmerTest); library(jsonlite); library(numDeriv); library(nlme); library(boot)' >/dev/null 2>&1; then
    exit 0
fi
as_root=()
[ "$(id -u)" -eq 0 ] || as_root=(sudo)
"${as_root[@]}" apt-get update
DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y --no-install-recommends \
    r-base-core r-cran-lme4 r-cran-lmertest r-cran-jsonlite r-cran-numderiv r-cran-nlme r-cran-boot
