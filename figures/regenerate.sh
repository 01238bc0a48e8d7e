#!/usr/bin/env bash
# Regenerate every figure in figures/ (run from the repository root): the demo's (a few minutes on a
# CPU) and those of the networks shipped in models/ (seconds; read from their files).
set -euo pipefail
biosnn demo --out runs/demo --figures figures "$@"
biosnn plot guidance models/mstar3-wta --out figures/mstar3-wta-guidance
biosnn plot guidance models/mnist-dc100 --out figures/mnist-dc100-guidance
biosnn plot weights models/mnist-dc100 --out figures/mnist-dc100-weights
biosnn plot curves models/mstar3-guided --out figures/mstar3-guided-curves
biosnn plot confusion models/mstar3-guided --out figures/mstar3-guided-confusion
biosnn plot confusion models/mnist-guided --out figures/mnist-guided-confusion
biosnn plot membrane seed_wta_if --out figures/seed_wta_if-brian2-vs-torch
biosnn plot weights models/mstar3-stdp --out figures/mstar3-stdp-weights
