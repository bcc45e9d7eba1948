#!/usr/bin/env bash
# Installs the system packages the tests need: R with lme4/lmerTest (tests/install_r.sh, the reference
# implementation of the mixed models) and Chromium (tests/test_verify_workflow.py opens the Snakemake
# report in it headless). Does nothing that is already installed. Needs root (uses sudo when not root).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tests/install_r.sh
if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then
    exit 0
fi
as_root=()
[ "$(id -u)" -eq 0 ] || as_root=(sudo)
"${as_root[@]}" apt-get update
DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y --no-install-recommends chromium
