"""The manuscript's text: Jinja2 templates (``manuscript/*.md.j2``) rendered in a sandbox.

Undefined values are strict: a key that is not in the context stops the build with the template's name
and line. Every number in the context is a sourced :class:`~alliance.report.manuscript.provenance.Num`,
printed only through the filters (:mod:`alliance.report.manuscript.filters`), which record it; the rendered
text comes with the provenance of each number. The templates are the rule's declared files, looked up by
file name: a template includes another by its name (``{% include "methods.md.j2" %}``).
"""

from __future__ import annotations

import traceback
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from alliance import layout
from alliance.data.pipeline import write_json
from alliance.report.manuscript import filters
from alliance.report.manuscript.provenance import (
    ManuscriptError,
    Num,
    Recorder,
    numeric_literals,
    provenance_record,
    resolve,
    unsourced_numbers,
)

TEMPLATE_SUFFIX = ".md.j2"
SECTIONS = layout.MANUSCRIPT_SECTIONS  # rendered on their own and included by manuscript.md.j2
MANUSCRIPT = "manuscript"


def _finalize(value: Any) -> Any:
    """What ``{{ value }}`` prints: never a number, sourced or not, without a format filter."""
    if isinstance(value, Num):
        raise ManuscriptError(f"{value.file}: {value.key} printed without a format filter (use num, p, pct, ...)")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        raise ManuscriptError(f"the number {value!r} has no source (print sourced numbers with a filter)")
    return value


def template_loader(templates: Sequence[str | Path]) -> jinja2.FunctionLoader:
    """Templates by file name, from the declared files only (a name that is not one is not found)."""
    by_name = layout.by_name(templates)

    def load(name: str) -> tuple[str, str, Any] | None:
        path = by_name.get(name)
        if path is None:
            return None
        return path.read_text(encoding="utf-8"), str(path), lambda: True

    return jinja2.FunctionLoader(load)


def make_environment(
    templates: Sequence[str | Path], alpha: float, recorder: Recorder, collected: Mapping[str, bool] | None = None
) -> SandboxedEnvironment:
    """A sandboxed Jinja2 environment over the ``templates`` files, with strict undefined values and the APA
    filters bound to ``recorder``; ``collected``: the outcomes the cohort collected (by default all)."""
    env = SandboxedEnvironment(
        loader=template_loader(templates),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=_finalize,
    )
    env.filters.update(filters.filters(recorder, alpha, collected))
    env.tests.update(filters.tests(alpha))
    return env


def _template_location(error: BaseException) -> str:
    """ "methods.md.j2, line 12" from the traceback of an error raised while rendering."""
    for frame in reversed(traceback.extract_tb(error.__traceback__)):
        if frame.filename.endswith(TEMPLATE_SUFFIX):
            line = (frame.line or "").strip()
            return f"{Path(frame.filename).name}, line {frame.lineno}" + (f" ({line[:160]}...)" if line else "")
    return "(template)"


@dataclass(frozen=True)
class Rendered:
    text: str
    provenance: list[dict[str, Any]]
    tables: list[dict[str, Any]]


def render(templates: Sequence[str | Path], name: str, context: Mapping[str, Any], alpha: float) -> Rendered:
    """Render the template ``name`` (one of ``templates``); every number recorded, undefined keys and
    unsourced numbers fail."""
    recorder = Recorder()
    env = make_environment(templates, alpha, recorder, context.get("collected"))
    env.globals["table"] = lambda table_id: _include_table(context, table_id, recorder)
    env.globals["serial"] = lambda loop: filters.serial(loop.index, loop.length)
    try:
        raw = env.get_template(name).render(**context)
    except jinja2.UndefinedError as error:
        raise ManuscriptError(f"{_template_location(error)}: undefined value: {error.message}") from error
    except ManuscriptError as error:
        raise ManuscriptError(f"{_template_location(error)}: {error}") from error
    stray = unsourced_numbers(raw)
    if stray:
        raise ManuscriptError(f"{name}: numbers without a source in the rendered text: {', '.join(stray)}")
    text, entries = resolve(raw, recorder, name.removesuffix(TEMPLATE_SUFFIX))
    return Rendered(text, entries, recorder.blocks)


def _include_table(context: Mapping[str, Any], table_id: str, recorder: Recorder) -> str:
    tables = context["tables"]
    if table_id not in tables:
        raise ManuscriptError(f"no table {table_id!r} among {sorted(tables)}")
    file, text = tables[table_id]
    return recorder.block(file, text)


def render_manuscript(
    templates: Sequence[str | Path], context: Mapping[str, Any], alpha: float
) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """Each section and the assembled manuscript: ({"methods": md, "results": md, "manuscript": md},
    provenance of every number in the manuscript)."""
    texts: dict[str, str] = {}
    for section in SECTIONS:
        texts[section] = render(templates, section + TEMPLATE_SUFFIX, context, alpha).text
    whole = render(templates, MANUSCRIPT + TEMPLATE_SUFFIX, context, alpha)
    texts[MANUSCRIPT] = whole.text
    return texts, whole.provenance


def templates_literals(templates: Sequence[str | Path]) -> dict[str, list[str]]:
    """Numeric literals typed into each template (outside the allow-list): should be none."""
    return {
        Path(path).name: numeric_literals(Path(path).read_text(encoding="utf-8"))
        for path in sorted(templates, key=lambda p: Path(p).name)
    }


def write_manuscript(
    templates: Sequence[str | Path], context: Mapping[str, Any], alpha: float, files: Mapping[str, Path]
) -> list[Path]:
    """manuscript.md, methods.md, results.md and provenance.json, each to its declared path in ``files``
    (by file name)."""
    targets = {name: layout.declared(files, f"{name}.md") for name in (*SECTIONS, MANUSCRIPT)}
    provenance_path = layout.declared(files, layout.PROVENANCE)
    texts, provenance = render_manuscript(templates, context, alpha)
    for name, text in texts.items():
        targets[name].parent.mkdir(parents=True, exist_ok=True)
        targets[name].write_text(text, encoding="utf-8")
    provenance_path.parent.mkdir(parents=True, exist_ok=True)
    write_json(provenance_record(provenance, context["tables"]), provenance_path)
    return [targets[name] for name in texts] + [provenance_path]
