"""The one seam between a front end (the standalone command, or conda) and the verbs.

Either front end builds an ``Invocation``: the environment it names, the channels,
the mapping overrides, how to install packages, the user's command line and how
to talk.  Each verb module then offers ``add_options``, ``to_request``,
``execute`` and ``render``; ``run_verb`` drives them, and ``describe_error`` is
the one renderer of failures.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TextIO

from conda_source.mapping.overrides import Overrides

if TYPE_CHECKING:
    from conda_source.installer.installer import Installer
    from conda_source.reporting import Reporter
    from conda_source.target import Environment


@dataclass(frozen=True)
class Invocation:
    prefix: Path | None = None  # -p, or the environment conda resolved
    name: str | None = None  # -n, resolved without conda
    channels: tuple[str, ...] = ()
    overrides: Overrides = field(default_factory=Overrides)
    command: str = ""  # what the user typed, for conda-meta/history
    json: bool = False
    quiet: bool = False
    verbose: int = 0
    installer_factory: Callable[[Environment, tuple[str, ...]], Installer] | None = None  # None: py-rattler
    editable_default: bool = True  # conda's plugins.conda_source_editable setting
    yes: bool = False  # -y: do not ask before changing the environment
    inside_conda: bool = False
    protect_envs: bool = False  # conda's plugins.conda_source_protect_envs setting
    compression_level: str | None = None  # conda-build's condarc setting conda_build: zstd_compression_level
    spelled: str = ""  # how the user named the environment ("-n dev"), when not by its path

    def spell(self, message: str) -> str:
        """Messages name an environment ``-p PREFIX``; say it as the user did (``-n NAME``) instead."""
        prefix = self.prefix
        if self.spelled and prefix is None and self.name is not None:
            from conda_source.errors import TargetError
            from conda_source.target import named_environment

            try:
                prefix = named_environment(self.name, os.environ)
            except TargetError:
                return message
        return message.replace(f"-p {prefix}", self.spelled) if self.spelled and prefix else message

    def environment(self) -> Environment:
        from conda_source.target import resolve_environment

        return resolve_environment(self.prefix, self.name, os.environ)

    def installer(self, environment: Environment) -> Installer | None:
        return self.installer_factory(environment, self.channels) if self.installer_factory else None

    def make_reporter(self) -> Reporter:
        """conda's reporter inside conda (an installer factory marks that front end), else the console's."""
        from conda_source.cli.reporting import Conda, Console

        if self.inside_conda:
            return Conda()
        return Console(quiet=self.quiet, verbose=self.verbose, yes=self.yes, json=self.json)


class Verb(Protocol):
    SUMMARY: str
    EXAMPLES: str

    def add_options(self, parser: argparse.ArgumentParser) -> None: ...
    def to_request(self, args: argparse.Namespace, invocation: Invocation) -> Any: ...
    def execute(self, request: Any, invocation: Invocation) -> Any: ...
    def render(self, result: Any) -> str: ...


def overrides_from(args: argparse.Namespace, config: tuple[str, ...] = ()) -> Overrides:
    return Overrides(tuple(args.mapping_flags), config, not args.no_user_mapping)


def run_verb(verb: Verb, args: argparse.Namespace, invocation: Invocation) -> int:
    result = verb.execute(verb.to_request(args, invocation), invocation)
    try:
        print(json.dumps(result.to_dict(), indent=2) if invocation.json else invocation.spell(verb.render(result)))
    except BrokenPipeError:  # the reader went away (| head): the work is whole, only its summary is lost
        return output_closed()
    return 0


PIPE_CLOSED = 141  # 128 + SIGPIPE: what a shell reports for a command whose reader went away


def output_closed(stream: TextIO | None = None) -> int:
    """Standard output's reader (or ``stream``'s) went away (``| head``): nothing more can be shown there.  It
    then goes to /dev/null, so the interpreter's last flush does not fail again; the exit status is the one a
    shell gives a command that SIGPIPE ended."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, (stream or sys.stdout).fileno())
        os.close(devnull)
    except (OSError, ValueError):  # no such stream left at all
        pass
    return PIPE_CLOSED


def last_word(text: str, stream: TextIO | None = None) -> None:
    """A run's last words, on stderr (or ``stream``): when their reader went away too (``2>&1 | head``), only
    the exit status is left to say it."""
    stream = stream or sys.stderr
    try:
        print(text, file=stream, flush=True)
    except BrokenPipeError:
        output_closed(stream)


def describe_error(error: BaseException, label: str = "") -> str:
    """What a person reads: what the backend printed (if anything), then ``label`` and what failed and what to do."""
    output = str(getattr(error, "output", "") or "").rstrip()
    return f"{output}\n{label}{error}" if output else f"{label}{error}"


def error_document(error: BaseException) -> dict[str, object]:
    """An error as ``--json`` prints it (conda's keys, plus the backend's output)."""
    return {
        "success": False,
        "error": str(error),
        "exception_name": type(error).__name__,
        "output": str(getattr(error, "output", "") or ""),
    }


def command_line(program: str) -> str:
    return " ".join([program, *sys.argv[1:]])
