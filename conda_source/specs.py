"""Conda spec strings, as every layer passes them around (``'numpy >=1.20'``)."""

from __future__ import annotations


def spec_name(spec: str) -> str:
    """The package name of a conda spec: ``'numpy >=1.20'`` -> ``'numpy'``, ``'conda-forge::six'`` -> ``'six'``."""
    return spec.strip().split(" ", 1)[0].split("::")[-1]
