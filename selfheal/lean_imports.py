"""Keep the processes selfheal owns from loading optional modules they never use.

jsonschema imports ``rfc3987_syntax`` whenever it is installed (the Jupyter stack installs it
through ``jsonschema[format-nongpl]``), and that module compiles an Earley grammar while it
is imported: one to three seconds of CPU in every process and notebook kernel that touches
jsonschema (altair and nbformat do). It only serves the ``iri``/``iri-reference`` formats;
selfheal's schemas use ``date-time`` alone. :func:`skip_slow_optional_modules` marks it as
absent, which jsonschema handles as "not installed". It is called by the ``selfheal``
command and by the kernels :mod:`selfheal.runner` starts, never on ``import selfheal``, so a
program or an interactive kernel that imports selfheal keeps its full format checker.
"""

from __future__ import annotations

import sys

__all__ = ["KERNEL_EXEC_LINE", "SLOW_OPTIONAL_MODULES", "skip_slow_optional_modules"]

#: Optional imports of our dependencies that cost seconds and serve nothing selfheal does.
SLOW_OPTIONAL_MODULES = ("rfc3987_syntax",)

#: The line a kernel runs before the first cell (``--IPKernelApp.exec_lines``); it leaves no
#: name behind in the notebook's namespace.
KERNEL_EXEC_LINE = "__import__('selfheal.lean_imports').lean_imports.skip_slow_optional_modules()"


def skip_slow_optional_modules() -> None:
    """Mark each of :data:`SLOW_OPTIONAL_MODULES` not yet imported as absent in this process."""
    for name in SLOW_OPTIONAL_MODULES:
        sys.modules.setdefault(name, None)  # type: ignore[arg-type]  # None means "absent" to import
