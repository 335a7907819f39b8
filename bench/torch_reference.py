#!/usr/bin/env python3
"""PyTorch CPU reference of `nnspice train`'s model, for bench/bench_train.sh (our own code).

Same model and training step as train/src/network.cpp + trainer.cpp: bias-free layers
a0 = s0*x, a_{l+1} = s_{l+1}*relu(Wq a_l), out = relu(Wq a_{L-1}); Wq = 3-bit + sign dual-copy
rounding of float masters (step 0.25, negative grid scaled by the negative gain, round half away from
zero, clip +-7, straight-through gradient, zero where clipped); target-weighted MSE (targets 3*one-hot,
weight 0.25 + 0.75 t); L1 1e-6 on negative masters; Adam (eps 1e-6); masters ~ U(-0.5, 0.5).
MNIST input: checkerboard pixels ((x+y) even and training mean > 0.027), each image scaled to mean 0.1.

    /usr/bin/python3 bench/torch_reference.py --mnist DIR --epochs 3 --batch 200 --threads 2 --json out.json
"""
import argparse
import json
import os
import struct
import time

import numpy as np
import torch


def read_idx(path, ndim):
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack(">I", data[:4])[0]
    if magic != 0x800 | ndim:
        raise SystemExit(f"{path}: wrong IDX magic 0x{magic:08x}")
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load_mnist(d, input_mean=0.1, threshold=0.027):
    xtr = read_idx(os.path.join(d, "train-images-idx3-ubyte"), 3).astype(np.float32) / 255.0
    ytr = read_idx(os.path.join(d, "train-labels-idx1-ubyte"), 1).astype(np.int64)
    xte = read_idx(os.path.join(d, "t10k-images-idx3-ubyte"), 3).astype(np.float32) / 255.0
    yte = read_idx(os.path.join(d, "t10k-labels-idx1-ubyte"), 1).astype(np.int64)
    mean = xtr.mean(axis=0)
    yy, xx = np.meshgrid(np.arange(28), np.arange(28), indexing="ij")
    sel = ((xx + yy) % 2 == 0) & (mean > threshold)
    def prep(x):
        x = x[:, sel]
        m = x.mean(axis=1, keepdims=True)
        return np.where(m > 0, x * (input_mean / np.maximum(m, 1e-30)), x).astype(np.float32)
    return prep(xtr), ytr, prep(xte), yte, int(sel.sum())


class Quantize(torch.autograd.Function):
    @staticmethod
    def forward(ctx, w, gain, step, kmax):
        unit = torch.where(w >= 0, torch.full_like(w, step), step * gain.expand_as(w))
        u = w / unit
        r = torch.sign(u) * torch.floor(torch.abs(u) + 0.5)  # half away from zero
        ctx.save_for_backward((torch.abs(r) <= kmax).to(w.dtype))
        return torch.clamp(r, -kmax, kmax) * unit

    @staticmethod
    def backward(ctx, g):
        (mask,) = ctx.saved_tensors
        return g * mask, None, None, None


class ChipNet(torch.nn.Module):
    def __init__(self, layers, gen, step=0.25, kmax=7, gain=1.0):
        super().__init__()
        self.w = torch.nn.ParameterList(
            [torch.nn.Parameter((torch.rand(layers[i + 1], layers[i], generator=gen) - 0.5) * 1.0)
             for i in range(len(layers) - 1)])
        self.slopes = [torch.ones(n) for n in layers[:-1]]
        self.gain = [torch.full((1, n), gain) for n in layers[:-1]]
        self.step, self.kmax = step, kmax

    def forward(self, x):  # x: (B, N0)
        a = x * self.slopes[0]
        L = len(self.w)
        for l, w in enumerate(self.w):
            wq = Quantize.apply(w, self.gain[l], self.step, self.kmax)
            z = torch.relu(a @ wq.t())
            a = z * self.slopes[l + 1] if l + 1 < L else z
        return a


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--mnist", default=os.environ.get("NNSPICE_MNIST_DIR", "/usr/local/share/nnspice/mnist"))
    p.add_argument("--layers", default="196-100-50-10")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--batch", type=int, default=200)
    p.add_argument("--lr", type=float, default=0.001)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--json", default="")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    layers = [int(v) for v in a.layers.split("-")]
    xtr, ytr, xte, yte, npix = load_mnist(a.mnist)
    assert npix == layers[0], f"{npix} pixels selected, network expects {layers[0]}"
    xtr, ytr, xte, yte = map(torch.from_numpy, (xtr, ytr, xte, yte))
    gen = torch.Generator().manual_seed(a.seed)
    net = ChipNet(layers, gen)
    opt = torch.optim.Adam(net.parameters(), lr=a.lr, eps=1e-6)
    n = xtr.shape[0]
    epochs = []
    for epoch in range(1, a.epochs + 1):
        t0 = time.perf_counter()
        perm = torch.randperm(n, generator=gen)
        for s in range(0, n, a.batch):
            idx = perm[s:s + a.batch]
            out = net(xtr[idx])
            t = 3.0 * torch.nn.functional.one_hot(ytr[idx], layers[-1]).to(out.dtype)
            loss = ((0.25 + 0.75 * t) * (out - t) ** 2).mean()
            loss = loss + 1e-6 * sum(torch.clamp(w, max=0).abs().sum() for w in net.w)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        dt = time.perf_counter() - t0
        with torch.no_grad():
            acc = (net(xte).argmax(1) == yte).float().mean().item()
        epochs.append({"epoch": epoch, "seconds": dt, "test_accuracy": acc})
        print(f"torch epoch {epoch}: {dt:.3f} s, test {100 * acc:.2f} %", flush=True)
    res = {"torch_version": torch.__version__, "threads": a.threads, "batch": a.batch, "layers": layers,
           "train_samples": n, "epochs": epochs}
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f, indent=2)


if __name__ == "__main__":
    main()
