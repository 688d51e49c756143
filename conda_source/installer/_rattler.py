"""The few py-rattler names that differ between the releases conda-source supports.

conda-rattler-solver pins py-rattler <0.27 while newer releases renamed ``Platform``
to ``Subdir``; conda-source works with both, so it installs next to that solver.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def subdir(name: str) -> Any:
    """``rattler.Subdir(name)`` (0.27+), or ``rattler.Platform(name)`` before it."""
    import rattler

    factory = getattr(rattler, "Subdir", None)
    if factory is None:  # py-rattler < 0.27; reading Platform on newer releases warns
        factory = rattler.Platform
    return factory(name)


@contextmanager
def no_new_cache_tag(prefix: Path) -> Iterator[None]:
    """py-rattler 0.28+ marks every prefix it installs into as a cache (``CACHEDIR.TAG`` in its root, for pixi's
    environments); backup tools that honour the tag then skip the whole environment.  A tag the run did not
    find there is removed again, so the environment keeps what it had."""
    tag = prefix / "CACHEDIR.TAG"
    existed = tag.is_file() or tag.is_symlink()
    try:
        yield
    finally:
        if not existed:
            tag.unlink(missing_ok=True)


_settling = False


def settle_at_exit() -> None:
    """Before the interpreter finalizes, wait until py-rattler's threads are done with Python.

    py-rattler's async functions finish on a tokio thread: it attaches to Python (``PyGILState_Ensure``)
    and wakes the event loop with ``call_soon_threadsafe``, whose write to the loop's self-pipe releases
    the GIL.  The main thread then wakes, returns from ``asyncio.run`` and can reach interpreter
    finalization before that tokio thread takes the GIL back; CPython then ends the thread
    (``pthread_exit``), and pyo3's guard, unwinding, releases a thread state that is no longer current:
    "Fatal Python error: PyGILState_Release" (exit 134), or a segfault (139).  Seen under load with
    conda-rattler-solver and with conda-source's own py-rattler calls alike.  ``atexit`` handlers run
    before finalization starts, so waiting there (with the GIL released) lets such a thread finish.
    """
    global _settling
    if not _settling:
        import atexit

        atexit.register(wait_for_foreign_threads)
        _settling = True


def wait_for_foreign_threads(timeout: float = 10.0) -> bool:
    """Wait until every Python thread state belongs to a thread Python started; False after ``timeout``."""
    import threading
    import time

    deadline = time.monotonic() + timeout
    while _thread_states() > len(threading.enumerate()):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.001)  # releases the GIL: an attached native thread can finish
    return True


def _thread_states() -> int:
    """How many thread states the interpreter has (one per thread attached to Python right now)."""
    import ctypes

    api = ctypes.pythonapi
    api.PyInterpreterState_Get.restype = ctypes.c_void_p
    api.PyInterpreterState_ThreadHead.argtypes = [ctypes.c_void_p]
    api.PyInterpreterState_ThreadHead.restype = ctypes.c_void_p
    api.PyThreadState_Next.argtypes = [ctypes.c_void_p]
    api.PyThreadState_Next.restype = ctypes.c_void_p
    count, state = 0, api.PyInterpreterState_ThreadHead(api.PyInterpreterState_Get())
    while state:
        count += 1
        state = api.PyThreadState_Next(state)
    return count
