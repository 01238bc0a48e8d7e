"""Paper-ready figures. Not implemented yet: see issue 6."""
