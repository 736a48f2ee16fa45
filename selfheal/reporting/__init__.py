"""Turning executed notebooks into offline reports: HTML rendering, the run index, tables.

* :mod:`selfheal.reporting.tables` — escaped, truncated, linked HTML tables (pure).
* :mod:`selfheal.reporting.html` — executed notebook → one self-contained HTML page.
* :mod:`selfheal.reporting.index` — ``reports/index.html`` listing every run.
"""
