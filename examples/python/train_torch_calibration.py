#!/usr/bin/env python3
"""Chip-aware training in your own PyTorch loop with nnspice.torch, checked against `nnspice train`.

Takes a chip's calibration (calibration.json from `nnspice characterize`, or by default a random one with
the paper's slope spread and per-synapse gains from `nnspice calibration`), trains MNIST 196-100-50-10 with
the recipe `nnspice train` uses for MNIST (cross-entropy, Adam lr 0.002 eps 1e-6 with a cosine decay to
2 %, batch 200, masters ~ U(-0.5, 0.5), L1 1e-6 on negative weights, surrogate ReLU slope 0.01), exports the
codes (weights_<l>.npy, ready for `nnspice netlist/evaluate --weights`), and with --compare also runs
`nnspice train` on the same calibration, data and epochs and prints both test accuracies.

    python3 examples/python/train_torch_calibration.py --out /tmp/torch_mnist --compare
"""
import argparse
import json
import math
import time
from pathlib import Path

import numpy as np
import torch

import nnspice
from nnspice.torch import ChipNetwork


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default="runs/python_torch_mnist")
    p.add_argument("--calibration", help="calibration.json of a chip (default: a random one, --calibration-seed)")
    p.add_argument("--calibration-seed", type=int, default=3)
    p.add_argument("--layers", default="196-100-50-10")
    p.add_argument("--epochs", type=int, default=50)
    p.add_argument("--train-limit", type=int, default=0, help="first N training images only (0 = all 60,000)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--compare", action="store_true", help="also run `nnspice train` with the same budget")
    a = p.parse_args()
    out = Path(a.out)
    torch.manual_seed(a.seed)
    torch.set_num_threads(a.threads)

    if a.calibration:
        cal_path = Path(a.calibration)
    else:
        cal_path = nnspice.calibration("random", layers=a.layers, sigma=0.15, negative_gain=1.0, negative_gain_sigma=0.05,
                                       synapse_sigma=0.1, seed=a.calibration_seed, out=out / "calibration").out / "calibration.json"
    cal = nnspice.read_calibration(cal_path)
    print(f"calibration: {cal!r} from {cal_path}")

    data = nnspice.load_dataset("mnist", train_limit=a.train_limit)  # exactly the inputs `nnspice train` sees
    xtr, ytr = torch.from_numpy(data["train_x"]), torch.from_numpy(data["train_y"])
    xte, yte = torch.from_numpy(data["test_x"]), torch.from_numpy(data["test_y"])

    gen = torch.Generator().manual_seed(a.seed)
    net = ChipNetwork(cal, relu_leak=0.01, init_range=0.5, generator=gen)
    lr, final = 0.002, 0.02
    opt = torch.optim.Adam(net.parameters(), lr=lr, eps=1e-6)
    n, batch = xtr.shape[0], 200
    t0 = time.perf_counter()
    for epoch in range(1, a.epochs + 1):
        t = (epoch - 1) / (a.epochs - 1) if a.epochs > 1 else 0.0
        for g in opt.param_groups:
            g["lr"] = lr * (final + (1 - final) * 0.5 * (1 + math.cos(math.pi * t)))
        perm = torch.randperm(n, generator=gen)
        for s in range(0, n, batch):
            idx = perm[s:s + batch]
            loss = torch.nn.functional.cross_entropy(net(xtr[idx]), ytr[idx]) + 1e-6 * net.l1_negative()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        if epoch % 10 == 0 or epoch == a.epochs:
            with torch.no_grad():
                acc = (net(xte).argmax(1) == yte).float().mean().item()
            print(f"torch epoch {epoch}/{a.epochs}: test {100 * acc:.2f} % ({time.perf_counter() - t0:.0f} s)", flush=True)
    with torch.no_grad():
        torch_acc = (net(xte).argmax(1) == yte).float().mean().item()
    paths = net.export(out / "torch_weights")
    # The exported codes on nnspice's own behavioural model of the chip: the same accuracy.
    check = nnspice.infer(nnspice.read_weights(out / "torch_weights"), cal, data["test_x"])
    nn_acc = float(np.mean(check.argmax(axis=1) == data["test_y"]))
    print(f"torch: test {100 * torch_acc:.2f} %; exported {len(paths)} code files to {out / 'torch_weights'}; "
          f"nnspice.infer on them {100 * nn_acc:.2f} %")
    record = {"torch_test_accuracy": torch_acc, "exported_codes_accuracy": nn_acc, "epochs": a.epochs,
              "train_samples": int(n), "calibration": str(cal_path), "seed": a.seed, "torch_version": torch.__version__}
    if a.compare:
        tr = nnspice.train("mnist", layers=a.layers, calibration=cal_path, epochs=a.epochs, seed=a.seed,
                           train_limit=a.train_limit or None, out=out / "nnspice_train")
        ref = tr.summary["test_accuracy"]
        record["nnspice_train_test_accuracy"] = ref
        print(f"nnspice train: test {100 * ref:.2f} %; torch - nnspice = {100 * (torch_acc - ref):+.2f} points")
    (out / "torch_summary.json").write_text(json.dumps(record, indent=2) + "\n")


if __name__ == "__main__":
    main()
