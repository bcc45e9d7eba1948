"""The files a verification rule declares, named by their path relative to the cohort's results folder:
the names the manifest, the report and ``config/verify.yaml`` use (``tables/table_4.csv``).

The verification reads only what its rule declares: the manifest hashes exactly the declared publishable
outputs, the report reads the tables and JSON the mapping names among them, and a name that the rule does
not declare is an error, never a path guessed beside the others. Standard library only: the Snakefile
imports this at every load.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

# Patient-level areas of results/<cohort>/ (README: "treat them like the exports themselves").
SENSITIVE = ("clean", "quarantine", "simulated", "validation.txt")
# Single sensitive files elsewhere: a fidelity study's extreme sessions, listed by their session ids.
SENSITIVE_FILES = ("fidelity/extreme_cases.csv",)
# The verification's own outputs (written after the manifest).
VERIFY_DIR = "verify"


def is_sensitive(relative: str | PurePosixPath) -> bool:
    """A path relative to results/<cohort>/ (or results/<study>/) in a patient-level area, or a sensitive file."""
    path = PurePosixPath(relative)
    return bool(path.parts) and (path.parts[0] in SENSITIVE or path.as_posix() in SENSITIVE_FILES)


def publishable(paths: Iterable[str], root: str) -> list[str]:
    """The publishable files among ``paths`` (docs/outputs.md): those under ``root`` (a cohort's results
    folder), neither patient-level nor the verification's own, in their order, each once."""
    prefix = root.rstrip("/") + "/"
    kept = []
    for path in dict.fromkeys(paths):
        relative = PurePosixPath(path[len(prefix) :]) if path.startswith(prefix) else None
        if relative is not None and not is_sensitive(relative) and relative.parts[0] != VERIFY_DIR:
            kept.append(path)
    return kept


@dataclass(frozen=True)
class Declared:
    """Declared files by name (their path relative to ``root``, the folder they all lie in)."""

    root: Path
    files: Mapping[str, Path]

    @classmethod
    def of(cls, paths: Iterable[str | Path]) -> Declared:
        """The files, named relative to the deepest folder that holds them all (results/<cohort>/ for a
        cohort's outputs, which lie in several of its folders)."""
        files = [Path(p) for p in dict.fromkeys(paths)]
        if not files:
            raise ValueError("no declared files")
        root = Path(os.path.commonpath(files))
        if root in files:  # one file: its folder
            root = root.parent
        return cls(root, {PurePosixPath(p.relative_to(root)).as_posix(): p for p in files})

    @classmethod
    def under(cls, paths: Iterable[str | Path], root: str | Path) -> Declared:
        """The files, named relative to ``root`` (results/<study>/ for a study, whose publishable outputs may
        all lie in one of its folders)."""
        base = Path(root)
        files = [Path(p) for p in dict.fromkeys(paths)]
        return cls(base, {PurePosixPath(p.relative_to(base)).as_posix(): p for p in files})

    def names(self, folders: Sequence[str] = ()) -> list[str]:
        """The names, sorted as paths; only those in ``folders`` (first part of the name) when given."""
        names = [n for n in self.files if not folders or PurePosixPath(n).parts[0] in folders]
        return sorted(names, key=PurePosixPath)

    def path(self, name: str) -> Path | None:
        """The declared file called ``name``, or None when the rule does not declare it."""
        return self.files.get(name)

    def paths(self) -> list[Path]:
        return [self.files[name] for name in self.names()]
