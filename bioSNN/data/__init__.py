"""Dataset readers (MNIST IDX, MSTAR Phoenix, image folders, the seed project's layout). Not implemented yet: see issue 3."""
