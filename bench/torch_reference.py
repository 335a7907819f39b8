#!/usr/bin/env python3
"""PyTorch CPU reference of `nnspice train`'s model, for bench/bench_train (our own code): the model is
nnspice.torch.ChipNetwork (python/nnspice/torch.py), the training step plain PyTorch.

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

from nnspice.torch import ChipNetwork  # the package's model (python/nnspice/torch.py); bench_train sets PYTHONPATH


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
    net = ChipNetwork(layers="-".join(map(str, layers)), init_range=0.5, generator=gen)  # homogeneous slopes, gain 1
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
            loss = loss + 1e-6 * net.l1_negative()
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
