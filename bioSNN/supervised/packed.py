r"""Input spikes kept as bits, for long presentations in bounded memory.

A float32 batch of spikes ``[T, B, n_in]`` costs 32 bits per entry, and autograd keeps it for the
gradient of the first weight matrix (:math:`\partial L / \partial W = \sum_t g_t^\top x_t`): at the
seed network's 16,384 inputs, batch 16 and ``T = 2000`` that is 2 GB. :class:`PackedSpikes` holds the
batch as the bits the spike files already store (``numpy.packbits(..., bitorder="little")`` along the
inputs, 1 bit per entry), and :func:`spike_linear` computes ``x @ W.T`` a chunk of
:data:`CHUNK_STEPS` steps at a time, keeping only the bits for the backward pass, which unpacks
them again chunk by chunk, into buffers made once per call. Memory then grows by ``B n_in / 8`` bytes per step instead of ``4 B n_in``
(plus the drive ``[T, B, n_out]``). Same values as the dense product (tested).

Example:
    >>> import torch
    >>> x = (torch.rand(30, 2, 20) < 0.3).float()
    >>> w = torch.randn(4, 20, requires_grad=True)
    >>> packed = pack_spikes(x)
    >>> packed.shape, packed.bits.dtype
    ((30, 2, 20), torch.uint8)
    >>> bool(torch.allclose(spike_linear(packed, w), torch.nn.functional.linear(x, w), atol=1e-5))
    True
"""

from __future__ import annotations

from typing import Any, Iterator, NamedTuple

import torch
import torch.nn.functional as F

from ..errors import InputError

__all__ = ["PackedSpikes", "pack_spikes", "spike_linear", "CHUNK_STEPS"]

#: steps unpacked at once by :func:`spike_linear` (memory: ``CHUNK_STEPS * B * n_in`` floats)
CHUNK_STEPS = 50

_SHIFTS = torch.arange(8, dtype=torch.uint8)


class PackedSpikes(NamedTuple):
    """Spikes ``[T, B, n]`` as ``bits`` ``uint8 [T, B, ceil(n / 8)]`` (little bit order) and ``n``."""

    bits: torch.Tensor
    n: int

    @property
    def shape(self) -> tuple[int, int, int]:
        return (int(self.bits.shape[0]), int(self.bits.shape[1]), int(self.n))

    @property
    def device(self) -> torch.device:
        return self.bits.device

    def dense(self, start: int = 0, stop: int | None = None, dtype: torch.dtype = torch.float32) -> torch.Tensor:
        """Steps ``start:stop`` as a dense ``[k, B, n]`` tensor of 0/1 values."""
        b = self.bits[start:stop]
        unpacked = (b.unsqueeze(-1) >> _SHIFTS.to(b.device)) & 1
        return unpacked.reshape(*b.shape[:-1], -1)[..., : self.n].to(dtype)

    def chunks(self, dtype: torch.dtype = torch.float32) -> Iterator[tuple[int, torch.Tensor]]:
        """``(first step, dense [k, B, n])`` for every :data:`CHUNK_STEPS` steps, unpacked into two buffers
        made once and reused (the dense view is overwritten by the next chunk): no allocation per chunk,
        which the C allocator would keep as resident memory."""
        T, B, nb = self.bits.shape
        k = min(CHUNK_STEPS, T)
        shifts = _SHIFTS.to(self.bits.device)
        bits = torch.empty(k, B, nb, 8, dtype=torch.uint8, device=self.bits.device)
        dense = torch.empty(k, B, self.n, dtype=dtype, device=self.bits.device)
        for s in range(0, T, k):
            m = min(k, T - s)
            torch.bitwise_right_shift(self.bits[s:s + m].unsqueeze(-1), shifts, out=bits[:m])
            torch.bitwise_and(bits[:m], 1, out=bits[:m])
            dense[:m].copy_(bits[:m].reshape(m, B, nb * 8)[..., : self.n])
            yield s, dense[:m]

    def mean(self) -> torch.Tensor:
        """The fraction of entries that spike (a 0-d float tensor), counted chunk by chunk."""
        total = sum(float(d.sum(dtype=torch.float64)) for _, d in self.chunks())
        return torch.tensor(total / max(1, self.shape[0] * self.shape[1] * self.n), dtype=torch.float32)


def pack_spikes(x: torch.Tensor) -> PackedSpikes:
    """Dense 0/1 spikes ``[T, B, n]`` as :class:`PackedSpikes` (any value other than 0 is a spike)."""
    if not torch.is_tensor(x) or x.dim() != 3:
        raise InputError(f"spikes to pack must be a [T, batch, n] tensor, got {getattr(x, 'shape', type(x))}")
    n = x.shape[-1]
    pad = (-n) % 8
    b = (x != 0).to(torch.uint8)
    if pad:
        b = F.pad(b, (0, pad))
    b = b.reshape(*b.shape[:-1], -1, 8) << _SHIFTS.to(b.device)
    return PackedSpikes(b.sum(-1, dtype=torch.uint8), n)


class _SpikeLinear(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, bits: torch.Tensor, n: int, weight: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        packed = PackedSpikes(bits, n)
        out = torch.empty(bits.shape[0], bits.shape[1], weight.shape[0], dtype=weight.dtype, device=weight.device)
        for s, dense in packed.chunks(weight.dtype):
            torch.matmul(dense, weight.t(), out=out[s:s + dense.shape[0]])
        ctx.save_for_backward(bits, weight)
        ctx.n = n
        return out

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> Any:  # type: ignore[override]
        bits, weight = ctx.saved_tensors
        packed = PackedSpikes(bits, ctx.n)
        grad_w = None
        if ctx.needs_input_grad[2]:
            grad_w = torch.zeros_like(weight)
            for s, dense in packed.chunks(weight.dtype):
                g = grad[s:s + dense.shape[0]].reshape(-1, weight.shape[0])
                grad_w.addmm_(g.t(), dense.reshape(-1, ctx.n))
        return None, None, grad_w


def spike_linear(x: PackedSpikes | torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """``x @ weight.T`` over ``[T, B, n_in]`` spikes: chunk by chunk from the bits for
    :class:`PackedSpikes` (autograd keeps only the bits), ``F.linear`` for a dense tensor."""
    if isinstance(x, PackedSpikes):
        if x.n != weight.shape[1]:
            raise InputError(f"input has {x.n} channels, the weights take {weight.shape[1]}")
        return _SpikeLinear.apply(x.bits, x.n, weight)
    return F.linear(x, weight)
