"""Images -> spike trains (receptive field, rate, Poisson, latency codes). Not implemented yet: see issue 3."""
