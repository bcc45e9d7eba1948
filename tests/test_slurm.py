"""The workflow on a real SLURM cluster (issue 15, part 3): a cohort built through the SLURM profile
(profiles/slurm/, Snakemake's SLURM executor plugin) on the single-node cluster of
cluster/start_local_slurm.sh, as the README shows it.

SLURM's own accounting (sacct) must show every cluster step of the build as a job of the build's run that
completed on the node, in the project's folder, under the profile's partition and account, and no job for a
local rule; and every output must equal, byte for byte, a local build (`--cores 2`) of the same config.

Marked `slurm`, left out of the default run: `.ci/run` runs it as its own step after the suite, once the
cluster is up (`bash cluster/start_local_slurm.sh && .venv/bin/python -m pytest -m slurm`); the fixture
starts the cluster itself if it is not running (as root, or with sudo).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from alliance.build.project import copy_project
from conftest import results_digests
from doc_commands import run_documented

pytestmark = pytest.mark.slurm

ROOT = Path(__file__).resolve().parents[1]
START = ROOT / "cluster" / "start_local_slurm.sh"
# The profile's partition and account (profiles/slurm/config.yaml), as the start script creates them.
PARTITION, ACCOUNT = "local", "alliance"
# One small simulated cohort, its bootstrap off: a quick build that still runs every kind of step.
CONFIG = """cohorts:
  small:
    simulate:
      seed: 20201012
      n_patients: 60
    disclosure:
      min_cell: 0
    bootstrap:
      replicates: 0
"""
HEAVY = {"simulate_cohort", "validate_exports", "clean_cohort", "fit_models", "figures", "manuscript_documents"}
LIGHT = {"collect_models", "model_tables", "descriptive_tables", "robustness_tables", "manuscript_text"}
TIMEOUT = 1800  # seconds for a build; a loaded 2-core machine is slow


def cluster_is_up() -> bool:
    if shutil.which("sinfo") is None:
        return False
    result = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True, timeout=60, check=False)
    states = result.stdout.split()
    return result.returncode == 0 and any(s.rstrip("*") in {"idle", "mixed", "allocated"} for s in states)


@pytest.fixture(scope="session")
def slurm_cluster() -> None:
    """The local cluster, started by cluster/start_local_slurm.sh unless it is already up."""
    if cluster_is_up():
        return
    result = subprocess.run(["bash", str(START)], capture_output=True, text=True, timeout=1200, check=False)
    assert result.returncode == 0, f"{START.name} failed:\n{result.stdout}\n{result.stderr[-8000:]}"
    assert cluster_is_up(), result.stderr[-8000:]


def project_with_config(path: Path) -> Path:
    project = copy_project(ROOT, path)
    (project / "mycohort.yaml").write_text(CONFIG, encoding="utf-8")
    return project


@dataclass(frozen=True)
class Builds:
    cluster: Path  # the project built through SLURM
    local: Path  # the same config built locally
    log: str  # Snakemake's output of the SLURM build
    since: str  # when the SLURM build started, for sacct


@pytest.fixture(scope="module")
def builds(slurm_cluster, tmp_path_factory) -> Builds:
    """The same config built through SLURM, as the README shows it, and locally, at the same time."""
    root = tmp_path_factory.mktemp("slurm")
    cluster, local = project_with_config(root / "cluster"), project_with_config(root / "local")
    local_build = subprocess.Popen(
        [sys.executable, "-m", "snakemake", "--cores", "2", "--configfile", "mycohort.yaml"],
        cwd=local,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    since = (datetime.now() - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%S")
    try:
        result = run_documented(
            cluster, ".venv/bin/snakemake --workflow-profile profiles/slurm --configfile mycohort.yaml", TIMEOUT
        )
    finally:
        _, local_log = local_build.communicate(timeout=TIMEOUT)
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-8000:]
    assert "Traceback" not in log
    assert local_build.returncode == 0, local_log[-8000:]
    return Builds(cluster, local, log, since)


def sacct_jobs(run_id: str, since: str) -> list[dict[str, str]]:
    """SLURM's accounting records of the jobs of one Snakemake run (the plugin names every job by the run's
    id, and writes the rule and its wildcards in the job's comment)."""
    fields = ["JobIDRaw", "JobName", "Comment", "State", "ExitCode", "NodeList", "WorkDir", "Partition", "Account"]
    result = subprocess.run(
        ["sacct", "-X", "-n", "-P", "--name", run_id, "-S", since, "--format", ",".join(fields)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return [dict(zip(fields, line.split("|"), strict=True)) for line in result.stdout.splitlines() if line]


def submitted(log: str) -> dict[str, str]:
    """The rule of each SLURM job, by its SLURM job id, as Snakemake's output tells them."""
    steps = re.findall(r"^rule (\w+):\n(?:    .*\n)*?    jobid: (\d+)$", log, re.MULTILINE)
    by_jobid = {jobid: rule for rule, jobid in steps}
    return {
        slurm_id: by_jobid[jobid]
        for jobid, slurm_id in re.findall(r"^Job (\d+) has been submitted with SLURM jobid (\d+)", log, re.MULTILINE)
    }


def test_the_cluster_steps_ran_as_slurm_jobs_and_the_light_ones_locally(builds):
    run_id = re.search(r"SLURM run ID: (\S+)", builds.log)
    assert run_id, builds.log[-3000:]
    jobs = sacct_jobs(run_id.group(1), builds.since)
    node = subprocess.run(["hostname", "-s"], capture_output=True, text=True, check=True).stdout.strip()
    for job in jobs:
        assert (job["State"], job["ExitCode"]) == ("COMPLETED", "0:0"), job
        assert (job["NodeList"], job["Partition"], job["Account"]) == (node, PARTITION, ACCOUNT), job
        assert Path(job["WorkDir"]).resolve() == builds.cluster.resolve(), job
    # Every job Snakemake submitted is in SLURM's records, under its rule, and there is no other.
    expected = submitted(builds.log)
    assert {job["JobIDRaw"]: job["Comment"].split("_wildcards_")[0] for job in jobs} == {
        slurm_id: f"rule_{rule}" for slurm_id, rule in expected.items()
    }
    # Every step Snakemake ran as a cluster job (`rule`, not `localrule`) was submitted.
    cluster_steps = Counter(re.findall(r"^rule (\w+):$", builds.log, re.MULTILINE))
    assert cluster_steps == Counter(expected.values())
    local_steps = set(re.findall(r"^localrule (\w+):$", builds.log, re.MULTILINE))
    assert HEAVY <= set(cluster_steps) and LIGHT <= local_steps, (cluster_steps, local_steps)
    assert not set(cluster_steps) & local_steps
    # One job per outcome's models, each with its outcome in the comment.
    fits = {path.stem for path in (builds.cluster / "results" / "small" / "models" / "fits").glob("*.json")}
    comments = {job["Comment"] for job in jobs if job["Comment"].startswith("rule_fit_models_")}
    assert comments == {f"rule_fit_models_wildcards_small_{outcome}" for outcome in fits}


def test_the_outputs_equal_a_local_build_byte_for_byte(builds):
    on_slurm, local = results_digests(builds.cluster), results_digests(builds.local)
    assert len(local) > 100
    assert on_slurm.keys() == local.keys()
    assert [name for name in local if on_slurm[name] != local[name]] == []


def test_starting_the_running_cluster_again_changes_nothing(slurm_cluster):
    result = subprocess.run(["bash", str(START)], capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr[-8000:]
    assert "starting" not in result.stderr and "restarting" not in result.stderr, result.stderr
    assert "SLURM is up" in result.stderr
