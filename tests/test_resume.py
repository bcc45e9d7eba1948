"""An interrupted build resumes (issue 12, part 7): `snakemake --cores 2`, killed in the middle of the model
step, then run again as it was, finishes to outputs byte-identical to an uninterrupted build's.

After SIGKILL (no clean-up at all) Snakemake leaves its locks and the "incomplete" marks of the outputs its
running steps were writing; plain Snakemake would then refuse to run at all ("Directory cannot be locked",
then IncompleteFilesException). The workflow profile (profiles/default/config.yaml: rerun-incomplete) and the
Snakefile's removal of a dead build's locks (alliance.build.stale_locks) make the plain command resume. Ctrl-C
(SIGINT to the whole process group) removes the locks but leaves the marks too.
"""

from __future__ import annotations

import base64
import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from alliance.build.project import copy_project
from alliance.stats.catalogue import load_catalogue
from conftest import results_digests
from quick_bootstrap import quick_bootstrap

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = [sys.executable, "-m", "snakemake", "--cores", "2"]
FITS = Path("results") / "synthetic" / "models" / "fits"
# Steps that had finished before the model step started: a resumed build must not run them again.
BEFORE_MODELS = {"simulate_cohort", "validate_exports", "clean_cohort"}
OUTCOMES = set(load_catalogue(ROOT / "config" / "models.yaml").models_by_outcome())  # one fit_models job each
STARTUP_TIMEOUT = 600  # seconds for the first build to reach the model step (a loaded machine is slow)


def run_snakemake(project: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*SNAKEMAKE, *args], cwd=project, capture_output=True, text=True, timeout=1200, check=False)


@pytest.fixture(scope="module")
def uninterrupted(default_build) -> dict[str, str]:
    """The digests of the default build from a fresh copy, run once without interruption (shared by the
    session: tests/conftest.py)."""
    return default_build.digests


def marked_incomplete(project: Path) -> set[str]:
    """The outputs Snakemake has marked as being written (.snakemake/incomplete/, one file per output, named by
    the output's path in URL-safe base64, split into '@'-prefixed folders when long)."""
    folder = project / ".snakemake" / "incomplete"
    marked = set()
    for path in folder.rglob("*") if folder.is_dir() else ():
        if path.is_file() and path.name != "migration_underway":
            encoded = "".join(part.removeprefix("@") for part in path.relative_to(folder).parts)
            marked.add(base64.urlsafe_b64decode(encoded).decode())
    return marked


def fits_done_and_running(project: Path) -> tuple[set[str], set[str]]:
    """Outcomes whose fit has finished (output written, mark removed) and whose fit is running (marked)."""
    marked = marked_incomplete(project)
    running = {Path(name).stem for name in marked if Path(name).parent == FITS}
    written = {path.stem for path in (project / FITS).glob("*.json")} if (project / FITS).is_dir() else set()
    return written - running, running


@contextlib.contextmanager
def interruptible():
    """Children started here see Ctrl-C as a terminal delivers it. A suite started in the background (`cmd &`
    in a script) ignores SIGINT, and an ignored signal is inherited through exec: the build would never see
    the interrupt (Python installs its KeyboardInterrupt handler only where SIGINT is not ignored at start-up).
    A handler is not inherited (exec resets it to the default), so one is set around the start."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def interrupt_in_model_step(project: Path, signum: signal.Signals) -> int:
    """Start the default build and send ``signum`` to its whole process group (snakemake and the jobs it
    runs, as a terminal's Ctrl-C does) once one fit has finished while another is running. Returns the
    build's exit status."""
    with open(project / "interrupted.out", "wb") as out:
        with interruptible():
            build = subprocess.Popen(
                SNAKEMAKE, cwd=project, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        try:
            deadline = time.monotonic() + STARTUP_TIMEOUT
            while not all(fits_done_and_running(project)):
                if build.poll() is not None:
                    pytest.fail(f"the build ended (status {build.returncode}) before it was interrupted")
                if time.monotonic() > deadline:
                    pytest.fail(f"no fit_models step ran within {STARTUP_TIMEOUT} s")
                time.sleep(0.02)
            os.killpg(build.pid, signum)
            return build.wait(timeout=300)
        finally:
            if build.poll() is None:
                os.killpg(build.pid, signal.SIGKILL)
                build.wait()


def jobs_run(output: str) -> list[tuple[str, str]]:
    """(rule, first output) of each job a snakemake run (or dry run) reports, in order."""
    return re.findall(r"^(?:local)?rule (\w+):\n(?:    input: .*\n)?    output: ([^,\n]+)", output, re.MULTILINE)


def test_a_killed_build_resumes_to_the_bytes_of_an_uninterrupted_one(tmp_path, uninterrupted):
    project = tmp_path / "project"
    quick_bootstrap(copy_project(ROOT, project))
    status = interrupt_in_model_step(project, signal.SIGKILL)
    assert status == -signal.SIGKILL
    done, running = fits_done_and_running(project)
    assert done and running, "the kill was not in the middle of the model step"
    # What a SIGKILL leaves: the locks, the marks, and no collected models yet.
    assert any((project / ".snakemake" / "locks").iterdir()), "no stale lock: this test no longer tests one"
    assert {str(FITS / f"{outcome}.json") for outcome in running} <= marked_incomplete(project)
    assert not (project / FITS.parent / "fits.csv").exists()

    resumed = run_snakemake(project)
    assert resumed.returncode == 0, resumed.stderr[-5000:]
    assert "Removed the locks of a snakemake that was killed" in resumed.stderr
    jobs = jobs_run(resumed.stdout + resumed.stderr)
    assert not {rule for rule, _ in jobs} & BEFORE_MODELS, jobs
    refitted = {Path(output).stem for rule, output in jobs if rule == "fit_models"}
    assert refitted == OUTCOMES - done  # the interrupted fits and those not started, not the finished ones
    assert not marked_incomplete(project)

    digests = results_digests(project)
    differing = sorted(
        name for name in uninterrupted.keys() | digests.keys() if uninterrupted.get(name) != digests.get(name)
    )
    assert not differing, f"the resumed build differs from an uninterrupted one in {differing}"
    assert len(digests) > 100


def test_after_ctrl_c_the_same_command_plans_only_the_unfinished_steps(tmp_path):
    """Ctrl-C: Snakemake stops its jobs and removes its locks, but the outputs they were writing stay marked
    incomplete. The plain command goes on from there (a dry run shows the plan; the test above runs one)."""
    project = tmp_path / "project"
    quick_bootstrap(copy_project(ROOT, project))
    status = interrupt_in_model_step(project, signal.SIGINT)
    assert status != 0
    done, _ = fits_done_and_running(project)
    assert done
    plan = run_snakemake(project, "--dry-run")
    assert plan.returncode == 0, plan.stdout[-3000:] + plan.stderr[-3000:]
    jobs = jobs_run(plan.stdout + plan.stderr)
    assert not {rule for rule, _ in jobs} & BEFORE_MODELS, jobs
    planned = {Path(output).stem for rule, output in jobs if rule == "fit_models"}
    assert planned == OUTCOMES - done
    assert {"collect_models", "manuscript_documents"} <= {rule for rule, _ in jobs}


HOLDER = """
import sys
from pathlib import Path
from alliance.build.stale_locks import clear_stale_locks
print(clear_stale_locks(Path(sys.argv[1])), flush=True)
sys.stdin.read()  # holds the run lock until its input closes
"""


def test_locks_are_removed_only_when_no_snakemake_is_running(tmp_path):
    persistence = tmp_path / ".snakemake"
    locks = persistence / "locks"

    def lock_files() -> None:
        locks.mkdir(parents=True, exist_ok=True)
        (locks / "0.output.lock").write_text("results/synthetic/models/fits/gaf.json\n")

    def start() -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "-c", HOLDER, str(persistence)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )

    lock_files()
    running = start()  # the first snakemake alive here: the locks are a dead build's
    assert running.stdout.readline().strip() == "True"
    assert not locks.exists()
    lock_files()  # the running one's own locks
    second = start()
    assert second.stdout.readline().strip() == "False"
    second.communicate("")
    assert (locks / "0.output.lock").exists()
    running.kill()  # SIGKILL: the kernel releases its run lock
    running.wait()
    after = start()
    assert after.stdout.readline().strip() == "True"
    after.communicate("")
    assert not locks.exists()
