"""A flit project whose version and description come from this module."""

__version__ = "0.3.1"
