"""Test support shipped with conda-source: throwaway conda prefixes (and, later, channels).

These build the "embedded default" of DESIGN.md: a real interpreter in a
directory that conda and py-rattler both accept as a conda environment, made
without conda and without any channel.
"""

from conda_source.testing.prefix import make_test_prefix

__all__ = ["make_test_prefix"]
