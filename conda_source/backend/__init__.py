"""The backend layer: the activated prefix and the one PEP 517 hook sequence, run by the prefix's python."""
