"""The installer layer: conda packages into a prefix, behind one protocol; local channels."""
