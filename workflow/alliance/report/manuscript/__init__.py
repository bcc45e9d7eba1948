"""The manuscript's methods and results, rendered from the cohort's outputs, with the provenance of every
number, and converted to HTML and DOCX (or PDF). Import the module you need (no re-exports here: a step's
code version follows the modules its script imports):

* :mod:`~alliance.report.manuscript.numbers`: the rendering context, every number sourced from the outputs;
* :mod:`~alliance.report.manuscript.provenance`: sourced numbers, their record while rendering, config values;
* :mod:`~alliance.report.manuscript.apa`: how a number is printed (APA 7);
* :mod:`~alliance.report.manuscript.filters`: the Jinja2 filters and tests, and the wording rules;
* :mod:`~alliance.report.manuscript.render`: the sandboxed templates, rendering and writing the text;
* :mod:`~alliance.report.manuscript.descriptives`: the aggregates the text cites beyond the tables;
* :mod:`~alliance.report.manuscript.documents`: pandoc conversion to HTML, DOCX and PDF.
"""
