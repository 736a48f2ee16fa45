"""Draft pull requests from PatchTasks.

- :mod:`~selfheal.pullrequests.run`: :func:`~selfheal.pullrequests.run.run_pr`, what
  ``selfheal pr`` and the pull-requests notebook call (plan, previews, apply);
- :mod:`~selfheal.pullrequests.plan` (pure): what to create, update, leave or skip;
- :mod:`~selfheal.pullrequests.render` (pure): titles, bodies, task files, labels;
- :mod:`~selfheal.pullrequests.github`: the GitHub gateway, the only module that talks to
  GitHub (PyGithub) and translates its failures into :class:`~selfheal.errors.GitHubError`;
- :mod:`~selfheal.pullrequests.proposal` (pure) and :mod:`~selfheal.pullrequests.agent`: a
  coding agent's proposed fix on a PR (docs/agent.md).
"""
