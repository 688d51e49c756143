"""Local channels: file packages under their subdir and re-index with py-rattler."""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from pathlib import Path

from conda_source.errors import ChannelError


def file_into_channel(packages: Iterable[tuple[Path, str]], channel: Path) -> None:
    """Copy each (package, subdir) into ``channel/subdir/`` and re-index the channel.

    Afterwards ``conda install -c file://CHANNEL name`` finds them.
    """
    channel = channel.absolute()
    if channel.exists() and not channel.is_dir():
        raise ChannelError(str(channel), "exists and is not a directory")
    for package, subdir in packages:
        destination = channel / subdir
        destination.mkdir(parents=True, exist_ok=True)
        target = destination / package.name
        shutil.copyfile(package, target.with_name(target.name + ".part"))
        target.with_name(target.name + ".part").replace(target)
    index_channel(channel)


def index_channel(channel: Path) -> None:
    """(Re)write repodata.json for every subdir; conda channels always have noarch/."""
    import asyncio

    from rattler.index import index_fs

    from conda_source.installer._rattler import settle_at_exit

    settle_at_exit()
    (channel / "noarch").mkdir(parents=True, exist_ok=True)
    try:
        asyncio.run(index_fs(channel, force=True))
    except Exception as exc:  # rattler reports I/O and archive problems with its own types
        raise ChannelError(str(channel), f"indexing failed: {exc}") from exc
