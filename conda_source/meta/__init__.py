"""conda-meta: its records, its history and the write-ahead journal (the only writers there)."""
