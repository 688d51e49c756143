"""The reporters of the two front ends: phases, the backend's output with -v, and the one question.

Standalone (``Console``): each phase is one line on stderr when stderr is a terminal or with ``-v``;
``-v`` streams the backend's output there as it comes; ``-q`` and ``--json`` show neither.  On a terminal
the plan is printed, then ``Proceed ([y]/n)?`` is asked.  When stdin is not a terminal (scripts, CI)
nothing is asked, as with ``-y``, and the plan is printed only when stdout is a terminal.

Inside conda (``Conda``): phases go through conda's reporter backends (``conda.reporters.get_spinner``:
``Building x: ...working... done``), and conda's own prompt asks (``-y``, ``--json`` and ``--dry-run`` as
conda handles them); "no" ends the command as ``conda install`` does (exit 0, nothing changed).
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from typing import TextIO

from conda_source.reporting import INSTALLING, LINKING, SOLVING, Change, describe_plan


class Console:
    def __init__(
        self,
        *,
        quiet: bool = False,
        verbose: int = 0,
        yes: bool = False,
        json: bool = False,
        stdin: TextIO | None = None,
    ) -> None:
        self.quiet = quiet or json
        self.verbose = verbose
        self.yes = yes or json
        self.stdin = stdin if stdin is not None else sys.stdin

    def phase(self, message: str) -> AbstractContextManager[object]:
        return self._phase(message)

    @contextlib.contextmanager
    def _phase(self, message: str) -> Iterator[None]:
        if not self.quiet and (self.verbose or sys.stderr.isatty()):
            print(f"{message} ...", file=sys.stderr, flush=True)
        yield

    def output(self, text: str) -> None:
        if self.verbose and not self.quiet:
            sys.stderr.write(text)
            sys.stderr.flush()

    def confirm(self, changes: Sequence[Change], link: Sequence[str], unlink: Sequence[str]) -> bool:
        asking = not self.yes and self.stdin.isatty()
        if asking or (not self.quiet and sys.stdout.isatty()):
            print("\n".join(describe_plan(changes, link, unlink)), flush=True)
        if not asking:
            return True
        while True:
            print("Proceed ([y]/n)? ", end="", flush=True)
            answer = self.stdin.readline()
            if not answer:  # end of input on a terminal: nothing is changed
                print()
                return False
            answer = answer.strip().lower()
            if answer in ("", "y", "yes"):
                return True
            if answer in ("n", "no"):
                return False


class Conda:
    """conda's reporter backends and prompt (imported when used: only inside conda)."""

    def phase(self, message: str) -> AbstractContextManager[object]:
        from conda.base.context import context
        from conda.reporters import get_spinner

        if context.quiet or context.json or message in (SOLVING, LINKING) or INSTALLING in message:
            return contextlib.nullcontext()  # conda's own transaction shows its progress itself
        if context.verbosity:  # the backend's output follows: a line of its own, not a spinner
            print(f"{message} ...", flush=True)
            return contextlib.nullcontext()
        return get_spinner(message)  # type: ignore[no-any-return]

    def output(self, text: str) -> None:
        from conda.base.context import context

        if context.verbosity and not context.json and not context.quiet:
            sys.stderr.write(text)
            sys.stderr.flush()

    def confirm(self, changes: Sequence[Change], link: Sequence[str], unlink: Sequence[str]) -> bool:
        from conda.base.context import context
        from conda.reporters import confirm_yn

        if not context.json:
            # conda printed its own plan of the dependencies (CondaInstaller's dry run): the projects here.
            print("\n".join(["Projects:", *(f"  {change}" for change in changes)]) + "\n", flush=True)
        return bool(confirm_yn())  # "no" raises CondaSystemExit: conda exits 0, nothing was changed
