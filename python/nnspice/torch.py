"""nnspice.torch: a chip's calibration inside your own PyTorch code (needs Debian python3-torch).

:class:`ChipNetwork` is the behavioural model of a chip that ``nnspice train`` trains (docs/conventions.md),
as a ``torch.nn.Module``: bias-free layers with the chip's per-neuron slopes,

    a_0 = s_0 * x,   a_{l+1} = s_{l+1} * relu(Wq_l a_l)  (hidden),   out = relu(Wq_{L-1} a_{L-1}),

and Wq_l the B-bit + sign copy (B = the calibration's weight_bits, 3 by default) of float master weights W_l (shape (N_{l+1}, N_l)): code k is worth
step*k*g+ (k > 0) or step*k*g- (k < 0), with g+ = 1 and g- = the pre-neuron's negative gain, or the
synapse's own gains when the calibration has them. Rounding is half away from zero, clipped to +-max_code (2^B - 1, 7 for 3 bits); the
straight-through gradient is 1 where the clip is inactive and 0 where it is active (dual-copy rounding,
Courbariaux et al. 2014). ``relu_leak`` is the trainer's surrogate ReLU slope below threshold (backward
only). Train it with any optimiser and loss; :meth:`ChipNetwork.codes` / :meth:`ChipNetwork.export` give
the integer codes (weights_<l>.npy) that ``nnspice netlist``, ``evaluate`` and ``dynamics`` program.
"""
from __future__ import annotations

import os
from typing import Optional, Sequence, Union

import numpy as np
import torch

from . import Calibration, InputError, homogeneous_calibration, read_calibration, write_weights

__all__ = ["ChipNetwork", "quantize", "surrogate_relu"]


class _Quantize(torch.autograd.Function):
    @staticmethod
    def forward(ctx, w, unit_pos, unit_neg, max_code):
        unit = torch.where(w >= 0, unit_pos.expand_as(w), unit_neg.expand_as(w))
        u = w / unit
        r = torch.sign(u) * torch.floor(torch.abs(u) + 0.5)  # half away from zero
        ctx.save_for_backward((torch.abs(r) <= max_code).to(w.dtype))
        return torch.clamp(r, -max_code, max_code) * unit

    @staticmethod
    def backward(ctx, grad):
        (passes,) = ctx.saved_tensors
        return grad * passes, None, None, None


def quantize(w: torch.Tensor, unit_pos: torch.Tensor, unit_neg: torch.Tensor, max_code: int = 7) -> torch.Tensor:
    """The grid value of every master weight (straight-through gradient, zero where clipped)."""
    return _Quantize.apply(w, unit_pos, unit_neg, max_code)


class _SurrogateReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, z, leak):
        ctx.save_for_backward(z)
        ctx.leak = leak
        return torch.relu(z)

    @staticmethod
    def backward(ctx, grad):
        (z,) = ctx.saved_tensors
        return grad * torch.where(z > 0, torch.ones_like(z), torch.full_like(z, ctx.leak)), None


def surrogate_relu(z: torch.Tensor, leak: float = 0.0) -> torch.Tensor:
    """relu(z) whose derivative below threshold is ``leak`` instead of 0 (the forward pass is unchanged)."""
    return torch.relu(z) if leak == 0 else _SurrogateReLU.apply(z, float(leak))


def _as_calibration(calibration, layers, weight_bits) -> Calibration:
    if calibration is None:
        if layers is None:
            raise InputError("ChipNetwork: give a calibration (calibration.json or nnspice.Calibration) or layers")
        return homogeneous_calibration(layers, weight_bits=3 if weight_bits is None else int(weight_bits))
    if isinstance(calibration, (str, os.PathLike)):
        cal = read_calibration(os.fspath(calibration))
    elif isinstance(calibration, Calibration):
        cal = calibration
    else:
        raise InputError(f"ChipNetwork: calibration must be a path or an nnspice.Calibration, not {type(calibration).__name__}")
    if weight_bits is not None and int(weight_bits) != cal.weight_bits:
        raise InputError(f"ChipNetwork: weight_bits = {weight_bits}, but {cal.source or 'the calibration'} is of a chip "
                         f"with {cal.weight_bits}-bit synapses")
    return cal


class ChipNetwork(torch.nn.Module):
    """The chip model of a calibration, with float master weights as parameters.

    calibration: calibration.json path or :class:`nnspice.Calibration` (None: the homogeneous model of
    ``layers``, with ``weight_bits`` magnitude bits); synapse_gains: use its per-synapse gains when it has them;
    step: the value of code +1 (``nnspice train --weight-step``; default as there, 0.25 * 7 / (2^B - 1));
    max_code: the largest code used (default 2^B - 1); init_range: masters ~ U(-r, r) drawn from ``generator``."""

    def __init__(self, calibration: Union[str, os.PathLike, Calibration, None] = None, *, layers=None,
                 synapse_gains: bool = True, step: Optional[float] = None, max_code: Optional[int] = None,
                 weight_bits: Optional[int] = None, relu_leak: float = 0.0,
                 init_range: float = 0.5, generator: Optional[torch.Generator] = None, quantized: bool = True):
        super().__init__()
        cal = _as_calibration(calibration, layers, weight_bits)
        bits_max = cal.max_code
        if max_code is None:
            max_code = bits_max
        if step is None:
            step = 0.25 * 7 / bits_max
        if cal.has_code_gains:
            raise InputError(f"{cal.source or 'calibration'}: has gains per code (characterize --synapse-codes bits|all), "
                             "which nnspice.torch does not model; nnspice train does")
        if not synapse_gains:
            cal = cal.without_synapse_gains()
        if not (step > 0) or not np.isfinite(step):
            raise InputError(f"ChipNetwork: step = {step}: must be finite and > 0")
        if not (1 <= max_code <= bits_max):
            raise InputError(f"ChipNetwork: max_code = {max_code}: must be in 1..{bits_max} (sign + {cal.weight_bits} bits)")
        if not (relu_leak >= 0):
            raise InputError(f"ChipNetwork: relu_leak = {relu_leak}: must be >= 0")
        self.calibration = cal
        self.layers = [int(v) for v in cal.layers.split("-")]
        self.step, self.max_code, self.relu_leak, self.quantized = float(step), int(max_code), float(relu_leak), quantized
        self.master = torch.nn.ParameterList()
        for l in range(len(self.layers) - 1):
            w = (torch.rand(self.layers[l + 1], self.layers[l], generator=generator) * 2 - 1) * init_range
            self.master.append(torch.nn.Parameter(w))
        for l, s in enumerate(cal.slopes):
            self.register_buffer(f"slopes_{l}", torch.tensor(s, dtype=torch.float32))
        per_synapse = cal.has_synapse_gains
        for l in range(len(self.layers) - 1):
            if per_synapse:
                pos = torch.tensor(cal.synapse_gain_pos[l], dtype=torch.float32)
                neg = torch.tensor(cal.synapse_gain_neg[l], dtype=torch.float32)
            else:
                pos = torch.ones(1, self.layers[l])
                neg = torch.tensor(cal.negative_gain[l], dtype=torch.float32).reshape(1, -1)  # per pre-neuron (column)
            self.register_buffer(f"unit_pos_{l}", self.step * pos)
            self.register_buffer(f"unit_neg_{l}", self.step * neg)

    def slopes(self, l: int) -> torch.Tensor:
        return getattr(self, f"slopes_{l}")

    def effective_weights(self, l: int) -> torch.Tensor:
        """The weights layer l computes with (grid values, or the masters when not quantized)."""
        w = self.master[l]
        if not self.quantized:
            return w
        return quantize(w, getattr(self, f"unit_pos_{l}"), getattr(self, f"unit_neg_{l}"), self.max_code)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (batch, N_0) non-negative inputs -> (batch, N_L) output currents (arbitrary units)."""
        if x.dim() != 2 or x.shape[1] != self.layers[0]:
            raise InputError(f"ChipNetwork: input of shape {tuple(x.shape)}; expected (batch, {self.layers[0]})")
        a = x * self.slopes(0)
        L = len(self.master)
        for l in range(L):
            z = surrogate_relu(a @ self.effective_weights(l).t(), self.relu_leak)
            a = z * self.slopes(l + 1) if l + 1 < L else z
        return a

    def l1_negative(self) -> torch.Tensor:
        """sum |w| over negative masters (the trainer's l1_negative term, 1e-6 times this)."""
        return sum(torch.clamp(w, max=0).abs().sum() for w in self.master)

    @torch.no_grad()
    def codes(self) -> list:
        """Integer codes -max_code..max_code of every layer (int32 arrays (N_{l+1}, N_l))."""
        out = []
        for l, w in enumerate(self.master):
            unit = torch.where(w >= 0, getattr(self, f"unit_pos_{l}").expand_as(w), getattr(self, f"unit_neg_{l}").expand_as(w))
            u = w / unit
            r = torch.clamp(torch.sign(u) * torch.floor(torch.abs(u) + 0.5), -self.max_code, self.max_code)
            out.append(r.to(torch.int32).cpu().numpy())
        return out

    @torch.no_grad()
    def load_codes(self, codes: Sequence[np.ndarray]) -> None:
        """Sets the masters to the grid values of integer codes (e.g. weights from ``nnspice train``)."""
        if len(codes) != len(self.master):
            raise InputError(f"ChipNetwork.load_codes: {len(codes)} layer(s) of codes for a network with {len(self.master)}")
        for l, k in enumerate(codes):
            k = torch.as_tensor(np.asarray(k), dtype=torch.float32)
            if tuple(k.shape) != tuple(self.master[l].shape):
                raise InputError(f"ChipNetwork.load_codes: layer {l} has shape {tuple(k.shape)}; expected {tuple(self.master[l].shape)}")
            if torch.any(k != torch.round(k)) or torch.any(k.abs() > self.max_code):
                raise InputError(f"ChipNetwork.load_codes: layer {l} holds values that are not integer codes in -{self.max_code}..{self.max_code}")
            unit = torch.where(k >= 0, getattr(self, f"unit_pos_{l}").expand_as(k), getattr(self, f"unit_neg_{l}").expand_as(k))
            self.master[l].copy_(k * unit)

    def export(self, directory: Union[str, os.PathLike]) -> list:
        """Writes DIR/weights_<l>.npy (int32 codes), the files ``nnspice netlist/evaluate --weights DIR`` read."""
        return write_weights(directory, self.codes())
