"""Imports done while waiting for another process: what a caller needs once a backend's hook returns,
imported in a thread while the hook runs in the backend's own process, so the two overlap."""

from __future__ import annotations

import contextlib
import importlib
import threading
from collections.abc import Iterator, Sequence


@contextlib.contextmanager
def importing(modules: Sequence[str]) -> Iterator[None]:
    """Import ``modules`` in a thread while the block waits for a hook (what the caller needs once it returns);
    joined when the block ends.  An import that fails here fails again, and is reported, where it is used."""
    thread = threading.Thread(target=_import_all, args=(tuple(modules),), daemon=True) if modules else None
    if thread is not None:
        thread.start()
    try:
        yield
    finally:
        if thread is not None:
            thread.join()


def _import_all(modules: tuple[str, ...]) -> None:
    for module in modules:
        with contextlib.suppress(Exception):
            importlib.import_module(module)
