"""conda-source: develop and package Python checkouts the conda way."""

__version__ = "0.1.0"
