#!/usr/bin/env python3
"""A 4-7-3 chip end to end from Python: draw -> netlist -> characterise -> train -> evaluate.

Every step is the nnspice command of the same name, run in this process (same options, files and
messages); the results come back as NumPy arrays and dicts. ~1 min on 2 cores.

    python3 examples/python/chip_end_to_end.py --out /tmp/chip473 --seed 7
"""
import argparse
from pathlib import Path

import numpy as np

import nnspice


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default="runs/python_chip473", help="output folder (one subfolder per step)")
    p.add_argument("--seed", type=int, default=7, help="chip seed (the mismatch draw)")
    p.add_argument("--epochs", type=int, default=300, help="training epochs (Iris)")
    a = p.parse_args()
    out = Path(a.out)
    layers = "4-7-3"

    chip = nnspice.draw_chip(layers, a.seed)  # Pelgrom dVT per transistor, the same draw as `nnspice netlist --seed`
    dvt = chip.delvto_V
    print(f"chip: {chip!r}, dVT sd {1e3 * dvt.std():.2f} mV, max |dVT| {1e3 * np.abs(dvt).max():.2f} mV")

    net = nnspice.netlist(layers, chip=chip, out=out / "netlist")
    print(f"netlist: {net.out / 'network.cir'}")

    ch = nnspice.characterize(layers, chip=chip, out=out / "characterize")
    cal = ch.calibration
    print("characterise: slopes per layer", ", ".join(f"{s.min():.3f}..{s.max():.3f}" for s in cal.slopes),
          "| negative gains", ", ".join(f"{g.mean():.3f}" for g in cal.negative_gain))

    tr = nnspice.train("iris", layers=layers, calibration=cal, epochs=a.epochs, seed=a.seed, out=out / "train")
    weights = tr.weights
    print(f"train: test accuracy of the chip model {100 * tr.summary['test_accuracy']:.2f} %, codes of layer 0:\n{weights[0]}")

    # The behavioural model of the same chip, in process, on NumPy arrays.
    data = nnspice.load_dataset("iris", seed=1)
    behavioural = nnspice.infer(weights, cal, data["test_x"])
    beh_acc = float(np.mean(behavioural.argmax(axis=1) == data["test_y"]))

    ev = nnspice.evaluate(layers, chip=chip, weights=weights, dataset="iris", out=out / "evaluate")
    circuit = ev.array("outputs")
    print(f"evaluate: circuit-level accuracy {100 * ev.summary['accuracy']:.2f} % "
          f"(behavioural {100 * beh_acc:.2f} %) on {circuit.shape[0]} test patterns; outputs {circuit.shape} in A")
    print(f"results: {out}")


if __name__ == "__main__":
    main()
