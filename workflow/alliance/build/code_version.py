"""Code is an input: the version of the code a workflow step runs, to re-run the step when it changes.

A step's code is its Snakemake script and every module of this package that the script imports,
directly or through other modules (and the package's ``__init__``, which Python runs on any import).
Its version is a SHA-256 over those files' contents, so a rule that passes it as a parameter is out of
date (Snakemake's params trigger) exactly when code it runs has changed: editing the table formatting
re-runs the tables and the text, not the models; editing the scoring re-runs everything after cleaning.
Only the standard library is used: the Snakefile computes these at every load.
"""

from __future__ import annotations

import ast
import functools
import hashlib
from collections.abc import Iterator
from pathlib import Path

PACKAGE = "alliance"


def _module_files(name: str, package_dir: Path) -> list[Path]:
    """Files that importing the dotted ``name`` runs: each package's __init__ on the way, then the module."""
    return list(_module_files_of(name, str(package_dir)))


@functools.lru_cache(maxsize=2048)
def _module_files_of(name: str, package: str) -> tuple[Path, ...]:
    """Cached per load: every rule's version asks for the same names (thousands of file-system checks)."""
    package_dir = Path(package)
    parts = name.split(".")
    if parts[0] != PACKAGE:
        return ()
    files = [package_dir / "__init__.py"]
    for depth in range(1, len(parts) + 1):
        folder = package_dir.joinpath(*parts[1:depth])
        if depth < len(parts) and (folder / parts[depth]).is_dir():
            files.append(folder / parts[depth] / "__init__.py")
    module = package_dir.joinpath(*parts[1:])
    files += [module.with_suffix(".py"), module / "__init__.py"]
    return tuple(path for path in files if path.is_file())


def _imported_names(path: Path, package_dir: Path) -> frozenset[str]:
    """Dotted names of package modules ``path`` imports (``from alliance import x`` may name module x)."""
    stat = path.stat()
    return _imported_names_of(str(path), str(package_dir), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=1024)
def _imported_names_of(path: str, package_dir: str, mtime_ns: int, size: int) -> frozenset[str]:
    """Cached by the file's path, time and size: the two dozen rules' versions walk the same modules, and
    reading and resolving each of them once per rule cost a second at every load of the Snakefile."""
    file, package = Path(path), Path(package_dir)
    here = (PACKAGE, *file.resolve().relative_to(package.resolve()).parent.parts) if _inside(file, package) else ()
    return _imports_in(file.read_text(encoding="utf-8"), path, here)


@functools.lru_cache(maxsize=512)
def _imports_in(source: str, filename: str, package: tuple[str, ...]) -> frozenset[str]:
    """The package imports of a module's ``source`` (``package``: its dotted package, for relative imports).
    Cached by content: every rule's version walks the same modules, and parsing them once per rule made
    each load of the Snakefile (a no-op `snakemake -n` included) seconds slower."""
    names: set[str] = set()
    tree = ast.parse(source, filename=filename)
    here = list(package)
    for node in _statements(tree.body):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative import inside the package
                base = here[: len(here) - node.level + 1] if here else []
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return frozenset(name for name in names if name.split(".")[0] == PACKAGE)


def _statements(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Every statement, nested ones (in functions, classes, ifs, trys ...) included, without descending into
    expressions: an import is a statement, and skipping the expressions (most of a module's nodes) makes
    the walk several times faster than ast.walk, at every load of the Snakefile."""
    for node in body:
        yield node
        for field in ("body", "orelse", "finalbody"):
            yield from _statements(getattr(node, field, None) or [])
        for handler in getattr(node, "handlers", None) or []:
            yield from _statements(handler.body)
        for case in getattr(node, "cases", None) or []:
            yield from _statements(case.body)


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True


def code_files(script: str | Path, package_dir: str | Path) -> list[Path]:
    """The script and every package file it imports, directly or indirectly, sorted."""
    package_dir = Path(package_dir)
    seen: set[Path] = set()
    todo = [Path(script)]
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        for name in _imported_names(path, package_dir):
            todo += [file for file in _module_files(name, package_dir) if file not in seen]
    return sorted(seen)


def code_version(script: str | Path, package_dir: str | Path) -> str:
    """SHA-256 (first 16 hex digits) of the script's and its package modules' names and contents."""
    package_dir = Path(package_dir)
    digest = hashlib.sha256()
    for path in code_files(script, package_dir):
        name = path.name if not _inside(path, package_dir) else str(path.resolve().relative_to(package_dir.resolve()))
        digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]
