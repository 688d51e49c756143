"""conda's entry point for conda-source (``[project.entry-points.conda]``).

conda imports this module at start-up, so it must stay free of imports and I/O:
hooks import their implementation inside the hook body.  The subcommand,
settings and health-check hooks are registered here once the develop-install
and build-local verbs exist; until then this module deliberately registers
nothing, and ``conda --help`` is unaffected.
"""
