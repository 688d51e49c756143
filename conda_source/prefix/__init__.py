"""The prefix install layer: a wheel written into a prefix, owned, taken over, replaced and checked."""
