"""The shell commands shown in the project's Markdown docs, and where the expensive ones are run.

A command is
- a line of a fenced ```bash, ```sh, ```shell or ```console block (in a console block only a line starting
  with `$ `; a trailing `\\` continues a line), or a line of an unlabelled or ```text block that starts like
  an inline command below;
- an inline `code` span that starts with `.venv/bin/`, or with a program (`snakemake`, `python3`, `bash`,
  `pytest`, ...) or a script path (`*.py`, `*.sh`) followed by arguments. A span of one word is a name.
A line `a && b` holds two commands. YAML, Python and other blocks are not commands.

A command shown only as an illustration is marked, visibly in the Markdown source, with the reason:
`<!-- illustrative: why -->` on the line before its fenced block (the whole block) or right after its inline
span, or a trailing `# illustrative: why` on its line in a block.

tests/test_doc_commands.py runs the cheap commands itself; RUN_ELSEWHERE maps each expensive one to the test
(or CI script) that runs it exactly as written, through `run_documented`, which refuses a command the docs no
longer show.
"""

from __future__ import annotations

import functools
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The programs of the environment running the tests (the project's `.venv` under CI): what `.venv/bin/<x>`
# names in a doc. Not resolved: the venv's python is a symlink.
ENVIRONMENT_BIN = Path(sys.executable).parent

CI = ".ci/run"
VERIFY_TESTS = "tests/test_verify_workflow.py"
# Documented commands too slow for tests/test_doc_commands.py, each run as written (`run_documented`) by the
# named test (or fixture), or an executed line of .ci/run (the README's test command, which CI runs).
RUN_ELSEWHERE: dict[str, str] = {
    "bash tests/install_system.sh": CI,
    "python3 -m venv .venv": CI,
    ".venv/bin/pip install --quiet -r requirements.txt": CI,
    ".venv/bin/python -m pytest": CI,
    ".venv/bin/snakemake --cores all": f"{VERIFY_TESTS}::verified",
    ".venv/bin/snakemake --cores all verify": f"{VERIFY_TESTS}::verified",
    ".venv/bin/snakemake --cores all package": f"{VERIFY_TESTS}::test_package_holds_code_config_synthetic_exports_and_manifest",
    ".venv/bin/snakemake --report report.html": f"{VERIFY_TESTS}::test_the_report_after_a_build",
    ".venv/bin/snakemake --report report.html verify": f"{VERIFY_TESTS}::test_snakemake_report_shows_tables_figures_and_verification_in_chromium",
    "bash cluster/start_local_slurm.sh": CI,
    ".venv/bin/snakemake --workflow-profile profiles/slurm --configfile mycohort.yaml": "tests/test_slurm.py::builds",
}  # fmt: skip

SHELL_LANGUAGES = {"bash", "sh", "shell", "console", "zsh"}
PROGRAMS = {"snakemake", "snakefmt", "python", "python3", "bash", "sh", "pip", "pip3", "pytest", "ruff", "mypy"}
PROGRAMS |= {"Rscript", "R", "git", "make", "sudo", "apt-get", "cd"}
MARKER = re.compile(r"<!--\s*illustrative:\s*(.*?)\s*-->")
TRAILING_MARKER = re.compile(r"#\s*illustrative:\s*(.*)$")
FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})\s*([\w+-]*)")
SEPARATORS = {"&&", "||", ";"}


@dataclass(frozen=True)
class DocCommand:
    path: str  # relative to the project
    line: int
    text: str  # one simple command, normalised (shlex.join of its words)
    illustrative: str | None = None  # the reason, if marked

    def where(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass(frozen=True)
class Block:
    line: int  # of the opening fence
    language: str
    lines: tuple[str, ...]  # the content, dedented by the fence's indentation
    marker: str | None  # `<!-- illustrative: ... -->` on the line before the fence


def doc_paths(root: Path = ROOT) -> list[Path]:
    """Every Markdown file of the project (not in hidden folders, results/, logs/ or bench/output/)."""
    found = []
    for folder, dirs, files in os.walk(root):
        relative = Path(folder).relative_to(root)
        dirs[:] = sorted(
            d
            for d in dirs
            if not d.startswith(".") and (relative / d).as_posix() not in {"results", "logs", "bench/output"}
        )
        found += [Path(folder) / name for name in sorted(files) if name.endswith(".md")]
    return found


def split_markdown(text: str) -> tuple[list[Block], str]:
    """The fenced blocks, and the prose with every fenced line blanked (so that offsets keep their line)."""
    lines = text.split("\n")
    blocks: list[Block] = []
    prose = list(lines)
    index = 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if not opening:
            index += 1
            continue
        indent, fence, language = opening.groups()
        end = index + 1
        while end < len(lines) and not lines[end].strip().startswith(fence):
            end += 1
        previous = next((line for line in reversed(lines[:index]) if line.strip()), "")
        marker = MARKER.fullmatch(previous.strip())
        content = tuple(
            line[len(indent) :] if line.startswith(indent) else line.lstrip() for line in lines[index + 1 : end]
        )
        blocks.append(Block(index + 1, language.lower(), content, marker.group(1) if marker else None))
        for blank in range(index, min(end + 1, len(lines))):
            prose[blank] = ""
        index = end + 1
    return blocks, "\n".join(prose)


def simple_commands(line: str) -> list[str]:
    """`a && b; c` -> [a, b, c], each normalised; comments dropped."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    commands: list[list[str]] = [[]]
    for token in lexer:
        if token in SEPARATORS:
            commands.append([])
        else:
            commands[-1].append(token)
    return [shlex.join(words) for words in commands if words]


def looks_like_command(text: str) -> bool:
    words = text.split()
    if not words:
        return False
    first = words[0]
    if first.startswith(".venv/bin/"):
        return True
    return len(words) > 1 and (first in PROGRAMS or first.endswith((".py", ".sh")))


def block_commands(path: str, block: Block) -> list[DocCommand]:
    if block.language not in SHELL_LANGUAGES | {"", "text"}:
        return []
    found = []
    pending, start = "", 0
    for number, raw in enumerate(block.lines, start=block.line + 1):
        if not pending:
            start = number
        if raw.rstrip().endswith("\\"):
            pending += raw.rstrip()[:-1] + " "
            continue
        line, pending = (pending + raw).strip(), ""
        if block.language == "console":
            if not line.startswith("$ "):
                continue
            line = line[2:]
        elif block.language in {"", "text"} and not looks_like_command(line):
            continue
        if not line or line.startswith("#"):
            continue
        trailing = TRAILING_MARKER.search(line)
        reason = block.marker or (trailing.group(1) if trailing else None)
        found += [DocCommand(path, start, text, reason) for text in simple_commands(line)]
    return found


INLINE = re.compile(r"(?<!`)`([^`]+)`(?!`)(?:\s*<!--\s*illustrative:\s*(.*?)\s*-->)?")


def inline_commands(path: str, prose: str) -> list[DocCommand]:
    """The command spans of the prose, paragraph by paragraph (so that a stray backtick spoils one paragraph)."""
    found = []
    for paragraph in re.finditer(r"(?:^[ \t]*\S.*(?:\n|$))+", prose, re.MULTILINE):
        first_line = prose.count("\n", 0, paragraph.start()) + 1
        for span in INLINE.finditer(paragraph.group(0)):
            text = " ".join(span.group(1).split())
            if looks_like_command(text):
                line = first_line + paragraph.group(0).count("\n", 0, span.start())
                found += [DocCommand(path, line, command, span.group(2)) for command in simple_commands(text)]
    return found


def commands_in(path: str, text: str) -> list[DocCommand]:
    """Every command of one Markdown text, in the order of its lines."""
    blocks, prose = split_markdown(text)
    found = [command for block in blocks for command in block_commands(path, block)]
    found += inline_commands(path, prose)
    return sorted(found, key=lambda command: command.line)


@functools.cache
def documented_commands() -> tuple[DocCommand, ...]:
    return tuple(
        command
        for path in doc_paths()
        for command in commands_in(path.relative_to(ROOT).as_posix(), path.read_text(encoding="utf-8"))
    )


def yaml_blocks(text: str) -> list[Block]:
    return [block for block in split_markdown(text)[0] if block.language in {"yaml", "yml"}]


def environment_argv(command: str) -> list[str]:
    """The words of ``command``, with `.venv/bin/<x>` as the test environment's program <x>."""
    words = shlex.split(command)
    if words[0].startswith(".venv/bin/"):
        words[0] = str(ENVIRONMENT_BIN / words[0].removeprefix(".venv/bin/"))
    return words


def run_documented(project: Path, command: str, timeout: int = 3600) -> subprocess.CompletedProcess[str]:
    """Run ``command`` in ``project`` as the docs show it; it must be shown in a doc and be in RUN_ELSEWHERE."""
    assert command in RUN_ELSEWHERE, f"{command!r} is not in doc_commands.RUN_ELSEWHERE"
    assert any(shown.text == command for shown in documented_commands()), (
        f"{command!r} is shown in no doc any more: update RUN_ELSEWHERE and the test that runs it"
    )
    return subprocess.run(
        environment_argv(command), cwd=project, capture_output=True, text=True, timeout=timeout, check=False
    )
