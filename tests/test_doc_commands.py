"""Every shell command the docs show runs (issue 12, part 6): a documented command cannot rot unnoticed.

Each command of README.md, config/README.md, bench/README.md and docs/ (found as tests/doc_commands.py
describes) is either marked illustrative in the doc, or listed in doc_commands.RUN_ELSEWHERE (run as written
by another test, or by CI), or run here in a cheap form:
- a Snakemake command that builds is *rehearsed* in a copy of the project: Snakemake parses it, makes every
  check of a real run (the cores it may use, the config files and their schema, the targets) and then plans
  the jobs as a dry run (`-n` alone would skip the check of --cores); the plan must hold what the command
  asks for. Its `--configfile` is written from the doc's YAML block above it, with a small exports folder;
- `--lint` and `snakefmt --check` run as written in a copy of the project;
- `.venv/bin/python -m pytest ...` collects (`--collect-only`) what it would run;
- a benchmark (`.venv/bin/python bench/...py ...`) parses its arguments (`--help`): benchmarks are never timed
  in tests.
"""

from __future__ import annotations

import argparse
import ast
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from doc_commands import (
    CI,
    ROOT,
    RUN_ELSEWHERE,
    DocCommand,
    commands_in,
    documented_commands,
    environment_argv,
    simple_commands,
    yaml_blocks,
)
from exports_factory import valid_exports, write_exports

# A real run of snakemake's command line, with the jobs planned as in a dry run instead of executed: the
# checks of a real run (its executor, --cores) are made against the intended executor, as for -n itself.
REHEARSAL = """
import functools, sys
from snakemake import api
from snakemake.cli import main

execute = api.DAGApi.execute_workflow

@functools.wraps(execute)
def rehearse(self, *args, **kwargs):
    kwargs["pseudo_executor"] = kwargs.get("pseudo_executor") or "dryrun"
    return execute(self, *args, **kwargs)

api.DAGApi.execute_workflow = rehearse
sys.argv[0] = "snakemake"
sys.exit(main())
"""
ENVIRONMENT_PROGRAMS = {"snakemake", "snakefmt", "python", "pip", "pip3", "pytest", "ruff", "mypy"}


def snakemake_arguments(words: list[str]) -> argparse.Namespace:
    from snakemake.cli import get_argument_parser

    return get_argument_parser().parse_args(words[1:])


def how_to_run(command: str) -> tuple[str | None, str]:
    """How this module runs ``command`` (rehearse, as-is, collect, help), or None and why it cannot."""
    words = shlex.split(command)
    program = words[0]
    if program in ENVIRONMENT_PROGRAMS:
        return None, f"after the quick start the program is .venv/bin/{program} (no environment is activated)"
    if program == ".venv/bin/snakemake":
        if "--report" in words:
            return None, "a report needs a build: run it in a test that builds (doc_commands.RUN_ELSEWHERE)"
        return ("as-is" if "--lint" in words else "rehearse"), ""
    if program == ".venv/bin/snakefmt":
        return "as-is", ""
    if program == ".venv/bin/python" and words[1:3] == ["-m", "pytest"]:
        return "collect", ""
    if program == ".venv/bin/python" and len(words) > 1 and words[1].startswith("bench/"):
        return "help", ""
    return None, "no cheap way to run it here: run it in a test (doc_commands.RUN_ELSEWHERE) or mark it"


def coverage_problems(commands: list[DocCommand] | tuple[DocCommand, ...]) -> list[str]:
    """One line, with file and line, for every command that is neither run by a test nor marked illustrative."""
    problems = []
    for command in commands:
        if command.illustrative is not None:
            if not command.illustrative:
                problems.append(f"{command.where()}: `{command.text}` is marked illustrative without a reason")
            continue
        kind, why = how_to_run(command.text)
        if kind is None and command.text not in RUN_ELSEWHERE:
            problems.append(
                f"{command.where()}: `{command.text}` is neither run by a test nor marked illustrative: {why}"
            )
    return problems


def to_run_here() -> dict[tuple[str, tuple[tuple[str, str], ...]], list[DocCommand]]:
    """The commands this module runs, once per (command, config files written for it), with their places."""
    runs: dict[tuple[str, tuple[tuple[str, str], ...]], list[DocCommand]] = {}
    for command in documented_commands():
        if command.illustrative is not None or command.text in RUN_ELSEWHERE or how_to_run(command.text)[0] is None:
            continue
        runs.setdefault((command.text, config_files(command)), []).append(command)
    return runs


def config_files(command: DocCommand) -> tuple[tuple[str, str], ...]:
    """The --configfile files of a Snakemake command: each the nearest YAML block with `cohorts` above it."""
    words = shlex.split(command.text)
    if words[0] != ".venv/bin/snakemake":
        return ()
    # A name that is no YAML file (a target after --configfile) is left for Snakemake to refuse.
    names = [str(path) for path in snakemake_arguments(words).configfile or [] if path.suffix in {".yaml", ".yml"}]
    above = [
        block
        for block in yaml_blocks((ROOT / command.path).read_text(encoding="utf-8"))
        if block.line < command.line and "cohorts" in (yaml.safe_load("\n".join(block.lines)) or {})
    ]
    assert not names or above, f"{command.where()}: no YAML block with `cohorts:` above it to write {names} from"
    return tuple((name, "\n".join(above[-1].lines)) for name in names)


@pytest.fixture(scope="module")
def exports(tmp_path_factory) -> Path:
    return write_exports(tmp_path_factory.mktemp("exports"), valid_exports())


def project_copy(tmp_path: Path, files: tuple[tuple[str, str], ...], exports: Path) -> Path:
    """A copy of the project (no results) with the doc's config files, their cohorts reading ``exports``."""
    from alliance.build.project import copy_project
    from quick_bootstrap import quick_bootstrap

    project = quick_bootstrap(copy_project(ROOT, tmp_path / "project"))
    for name, text in files:
        config = yaml.safe_load(text)
        for cohort in config["cohorts"].values():
            if "exports" in cohort:
                cohort["exports"] = str(exports)
        (project / name).write_text(yaml.safe_dump(config), encoding="utf-8")
    return project


def run(command: str, project: Path) -> subprocess.CompletedProcess[str]:
    kind, _ = how_to_run(command)
    words = environment_argv(command)
    assert Path(words[0]).is_file(), f"{words[0]} is not in the environment"
    argv = {
        "rehearse": [sys.executable, "-c", REHEARSAL, *words[1:]],
        "as-is": words,
        "collect": [*words, "--collect-only", "-q", "-p", "no:cacheprovider"],
        "help": [*words, "--help"],
    }[str(kind)]
    cwd = project if kind in ("rehearse", "as-is") else ROOT
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=600, check=False)


def check_plan(command: str, result: subprocess.CompletedProcess[str], files: tuple[tuple[str, str], ...]) -> None:
    """A rehearsed build: it passed Snakemake's checks and plans what the command asks for."""
    output = result.stdout + result.stderr
    assert "This was a dry-run" in output, output[-3000:]
    planned = {rule for rule, _ in re.findall(r"^(\w+)\s+(\d+)$", output, re.MULTILINE)} - {"total"}
    arguments = snakemake_arguments(shlex.split(command))
    targets = sorted(arguments.targets or [])
    paths = [target for target in targets if "/" in target]
    assert set(targets) - set(paths) <= planned and (targets or "all" in planned), planned
    planned_cohorts = set(re.findall(r"results/([\w-]+)/", output)) - {"comparison"}  # across cohorts, not one
    if paths:  # only the cohorts of the files asked for
        assert all(path in output for path in paths), output[-3000:]
        assert planned_cohorts == {path.split("/")[1] for path in paths}, planned_cohorts
    elif files:  # exactly the cohorts the --configfile names are built
        named = {cohort for _, text in files for cohort in yaml.safe_load(text)["cohorts"]}
        assert named == planned_cohorts, planned_cohorts


def check(command: str, result: subprocess.CompletedProcess[str], files: tuple[tuple[str, str], ...]) -> None:
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    words = shlex.split(command)
    kind, _ = how_to_run(command)
    if kind == "rehearse":
        check_plan(command, result, files)
    elif "--lint" in words:
        assert "Congratulations" in output, output[-3000:]
    elif words[0] == ".venv/bin/snakefmt":
        assert "--check" not in words or "would be left unchanged" in output, output
    elif kind == "collect":
        counts = re.search(r"(\d+)(?:/\d+)? tests? collected(?: \((\d+) deselected\))?", output)
        assert counts and int(counts.group(1)) > 0, output[-3000:]
        assert "-m" not in words[3:] or int(counts.group(2) or 0) > 0, "the marker selects every test"
    else:  # a benchmark's arguments
        assert result.stdout.startswith("usage:"), output
        assert all(word in result.stdout for word in words if word.startswith("--")), result.stdout


RUNS = to_run_here()


@pytest.mark.parametrize(
    ("command", "files"),
    list(RUNS),
    ids=[f"{', '.join(shown.where() for shown in places)} {command}" for (command, _), places in RUNS.items()],
)
def test_documented_command_runs(command, files, tmp_path, exports):
    places = ", ".join(shown.where() for shown in RUNS[(command, files)])
    try:
        check(command, run(command, project_copy(tmp_path, files, exports)), files)
    except AssertionError as error:
        raise AssertionError(f"{places}: `{command}` does not work as documented: {error}") from None


def test_every_documented_command_is_run_or_marked_illustrative():
    commands = documented_commands()
    assert {".venv/bin/snakemake --cores all", ".venv/bin/python -m pytest"} <= {c.text for c in commands}
    assert {c.path for c in commands} >= {"README.md", "config/README.md", "bench/README.md", "docs/outputs.md"}
    assert coverage_problems(commands) == []


def ci_commands() -> set[str]:
    lines = (ROOT / CI).read_text(encoding="utf-8").splitlines()
    return {command for line in lines if line.strip() and not line.startswith("#") for command in simple_commands(line)}


def runs_documented(test_id: str, command: str) -> bool:
    """Whether the test (or fixture) ``test_id`` calls run_documented(..., ``command``)."""
    path, name = test_id.split("::")
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    function = next(node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == name)
    return any(
        isinstance(node, ast.Call)
        and getattr(node.func, "id", None) == "run_documented"
        and any(isinstance(arg, ast.Constant) and arg.value == command for arg in node.args)
        for node in ast.walk(function)
    )


def test_commands_run_elsewhere_are_documented_and_run_as_written():
    shown = {command.text for command in documented_commands()}
    ci = ci_commands()
    for command, where in RUN_ELSEWHERE.items():
        assert command in shown, f"RUN_ELSEWHERE lists `{command}`, which no doc shows any more"
        if where == CI:
            assert command in ci, f"{CI} does not run `{command}` as the README shows it"
        else:
            assert runs_documented(where, command), f"{where} does not run_documented(..., {command!r})"


SAMPLE = """# Sample

```bash
# a comment
.venv/bin/snakemake --cores all && .venv/bin/python -m pytest  # both run
make everything  # illustrative: a made-up target
```

<!-- illustrative: shows the form only -->
```sh
.venv/bin/snakemake --cores all \\
    --configfile mine.yaml
```

```console
$ .venv/bin/snakefmt --check Snakefile
All 1 file(s) would be left unchanged
```

```yaml
cohorts: {}
```

Run `snakemake --cores 1`, or `.venv/bin/python bench/bench_models.py
--statsmodels`; `sudo` is a name, and so is `--configfile mine.yaml`.
See `bash tests/what.sh` <!-- illustrative: an example --> and ` python3 -m venv x `.
"""


def test_commands_and_marks_are_found_with_their_lines():
    found = [(c.line, c.text, c.illustrative) for c in commands_in("sample.md", SAMPLE)]
    assert found == [
        (5, ".venv/bin/snakemake --cores all", None),
        (5, ".venv/bin/python -m pytest", None),
        (6, "make everything", "a made-up target"),
        (11, ".venv/bin/snakemake --cores all --configfile mine.yaml", "shows the form only"),
        (16, ".venv/bin/snakefmt --check Snakefile", None),
        (24, "snakemake --cores 1", None),
        (24, ".venv/bin/python bench/bench_models.py --statsmodels", None),
        (26, "bash tests/what.sh", "an example"),
        (26, "python3 -m venv x", None),
    ]


def test_an_unmarked_command_fails_with_its_file_and_line():
    problems = coverage_problems(commands_in("sample.md", SAMPLE))
    assert [problem.split(" is ")[0] for problem in problems] == [
        "sample.md:24: `snakemake --cores 1`",
        "sample.md:26: `python3 -m venv x`",
    ]
    assert ".venv/bin/snakemake" in problems[0] and "RUN_ELSEWHERE" in problems[1]


def test_the_rehearsal_refuses_a_build_without_cores(tmp_path, exports):
    result = run(".venv/bin/snakemake", project_copy(tmp_path, (), exports))
    assert result.returncode != 0
    assert "cores have to be specified" in result.stderr, result.stderr[-3000:]


def test_the_rehearsal_refuses_a_target_after_configfile(tmp_path, exports):
    """config/README.md once showed this: Snakemake reads the target as a second config file."""
    files = (("that.yaml", "cohorts:\n  mycohort:\n    exports: here\n"),)
    command = ".venv/bin/snakemake --cores all --configfile that.yaml results/mycohort/clean/patients.csv"
    result = run(command, project_copy(tmp_path, files, exports))
    assert result.returncode != 0
    assert "results/mycohort/clean/patients.csv" in result.stderr, result.stderr[-3000:]
