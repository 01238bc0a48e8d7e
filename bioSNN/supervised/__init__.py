"""PyTorch training guided by membrane-potential signals. Not implemented yet: see issue 5."""
