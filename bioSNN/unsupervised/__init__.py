"""Brian2 STDP networks that emit guidance signals. Not implemented yet: see issue 4."""
