"""alliance.build.code_version: which package files a step's script runs, and a version that follows them."""

from __future__ import annotations

from pathlib import Path

from alliance.build.code_version import code_files, code_version


def make_package(root: Path) -> tuple[Path, Path]:
    package = root / "alliance"
    (package / "stage").mkdir(parents=True)
    (package / "__init__.py").write_text("from alliance.base import VALUE\n")
    (package / "base.py").write_text("VALUE = 1\n")
    (package / "tables.py").write_text("from . import base\n")
    (package / "unused.py").write_text("X = 2\n")
    (package / "stage" / "__init__.py").write_text("")
    (package / "stage" / "step.py").write_text("from ..tables import base\n")
    script = root / "script.py"
    script.write_text("from alliance import tables\nimport alliance.stage.step\n")
    return package, script


def test_the_files_a_script_runs_directly_and_through_other_modules(tmp_path):
    package, script = make_package(tmp_path)
    names = {str(path.relative_to(tmp_path)) for path in code_files(script, package)}
    assert names == {
        "script.py",
        "alliance/__init__.py",
        "alliance/base.py",
        "alliance/tables.py",
        "alliance/stage/__init__.py",
        "alliance/stage/step.py",
    }


def test_the_version_changes_with_the_code_it_runs_only(tmp_path):
    package, script = make_package(tmp_path)
    before = code_version(script, package)
    (package / "unused.py").write_text("X = 3\n")
    assert code_version(script, package) == before
    (package / "base.py").write_text("VALUE = 2\n")
    assert code_version(script, package) != before


def test_a_module_whose_imports_change_is_read_again(tmp_path):
    """The imports of each module are cached by its content (the Snakefile asks for every rule's version at
    each load): an edit in the same process is seen."""
    package, script = make_package(tmp_path)
    assert package / "unused.py" not in code_files(script, package)
    (package / "tables.py").write_text("from . import base\nfrom . import unused\n")
    assert package / "unused.py" in code_files(script, package)
