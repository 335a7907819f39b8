"""nnspice: precise neural networks on imprecise analog hardware, from Python.

Two layers, one implementation (the C++ library the ``nnspice`` command is built from):

* the data model as NumPy: :func:`draw_chip`, :func:`load_chip`, :class:`Chip` (``delvto_V``, ``save``),
  :func:`read_calibration`, :func:`read_weights` / :func:`write_weights` (int32 code arrays of shape
  (N_{l+1}, N_l)), :func:`load_dataset` (float32 (samples, features)) and :func:`infer` with ``x=`` (the
  behavioural forward pass of a chip model);
* every ``nnspice`` command in this process, with the CLI's options as keyword arguments
  (``input_mean=15e-9`` is ``--input-mean 15e-9``), the CLI's validation, files and messages:
  :func:`netlist`, :func:`characterize`, :func:`train`, :func:`infer`, :func:`evaluate`, :func:`dynamics`,
  :func:`simulate`, :func:`calibration`, :func:`run`, and :func:`command` for any other. Each returns a
  :class:`Result` (its folder, ``summary``, NPY outputs as arrays, the chip / calibration / weights it
  wrote). Arrays, chips and calibrations passed in are written to ``OUT/inputs/`` first, so the output
  folder records exactly what was run.

Bad input raises :class:`InputError` (a ``ValueError``) with the CLI's message (file, field, value); a
simulator failure :class:`SimulatorError`, a numerical one :class:`NumericalError`; a command that ends
with a non-zero exit code and no exception (e.g. ``evaluate(reference=...)`` outside the tolerance)
:class:`CommandFailed`. See docs/python.md.
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any, Iterable, Optional, Sequence, Union

import numpy as np

from . import _core
from ._core import Calibration, Chip, InputError, NumericalError, SimulatorError
from ._build_info import NNSPICE_EXECUTABLE

__all__ = [
    "Calibration", "Chip", "CommandFailed", "InputError", "NumericalError", "Result", "SimulatorError",
    "calibration", "characterise", "characterize", "command", "commands", "draw_chip", "dynamics", "evaluate",
    "homogeneous_calibration", "ideal_chip", "infer", "load_chip", "load_dataset", "make_calibration", "netlist",
    "process_info", "read_calibration", "read_weights", "run", "simulate", "train", "version", "write_weights",
]

# Stages of `run` (and `evaluate --chips`) re-execute the nnspice command: the one built beside this package
# (or $NNSPICE_EXECUTABLE). Its location also picks the data directory (cards, process files).
_core.set_executable(os.environ.get("NNSPICE_EXECUTABLE") or NNSPICE_EXECUTABLE)

PathLike = Union[str, os.PathLike]


class CommandFailed(RuntimeError):
    """A command ended with a non-zero exit code without raising (its messages went to stderr)."""

    def __init__(self, message: str, returncode: int, result: "Result"):
        super().__init__(message)
        self.returncode = returncode
        self.result = result


def version() -> str:
    return _core.version()


def commands() -> list:
    """(name, summary) of every nnspice command."""
    return _core.commands()


def process_info(process: Optional[PathLike] = None) -> dict:
    """The process a command would use: name, model card, supply, temperature, transistor sizes."""
    return _core.process_info(os.fspath(process) if process else "")


# ---- data model ------------------------------------------------------------------------------------------

def _layers_text(layers) -> str:
    if isinstance(layers, str):
        return layers
    return _core.format_layers([int(v) for v in layers])


def draw_chip(layers, seed: int, process: Optional[PathLike] = None) -> Chip:
    """Draws a mismatched chip (Pelgrom dVT per transistor) exactly as ``nnspice netlist --seed`` does."""
    return _core.draw_chip(_layers_text(layers), int(seed), os.fspath(process) if process else "")


def ideal_chip(layers) -> Chip:
    return _core.ideal_chip(_layers_text(layers))


def load_chip(path: PathLike, layers=None) -> Chip:
    """Reads a chip file (chip.csv); with ``layers`` a chip of another shape is an InputError."""
    return _core.load_chip(os.fspath(path), _layers_text(layers) if layers is not None else "")


def read_calibration(path: PathLike, synapse_gains: bool = True) -> Calibration:
    return _core.read_calibration(os.fspath(path), synapse_gains)


def homogeneous_calibration(layers, negative_gain: float = 1.0, weight_bits: int = 3) -> Calibration:
    """The homogeneous model of ``layers`` (all slopes 1) with ``weight_bits`` magnitude bits (1..6)."""
    return _core.homogeneous_calibration(_layers_text(layers), float(negative_gain), int(weight_bits))


def make_calibration(layers, slopes: Sequence[np.ndarray], negative_gain: Sequence[np.ndarray]) -> Calibration:
    """A per-neuron calibration of ``layers`` from arrays: slopes[l] and negative_gain[l] (N_l values) for every
    layer with outgoing synapses (l = 0 … L-1); finite and > 0."""
    return _core.make_calibration(_layers_text(layers), [np.asarray(s, dtype=np.float64) for s in slopes],
                                  [np.asarray(g, dtype=np.float64) for g in negative_gain])


def read_weights(path: Union[PathLike, Sequence[PathLike]], layers=None) -> list:
    """Weight codes (list of int32 arrays (N_{l+1}, N_l)) from a directory of weights_<l>.npy or one file per layer."""
    paths = [os.fspath(path)] if isinstance(path, (str, os.PathLike)) else [os.fspath(p) for p in path]
    return _core.read_weights(paths, _layers_text(layers) if layers is not None else "")


def write_weights(directory: PathLike, weights: Sequence[np.ndarray]) -> list:
    """Writes DIR/weights_<l>.npy (int32); every value must be an integer code in -7..7."""
    return _core.write_weights(os.fspath(directory), list(weights))


def load_dataset(name: str = "mnist", *, mnist: Optional[PathLike] = None, fsdd: Optional[PathLike] = None,
                 iris: Optional[PathLike] = None, pixels: str = "checkerboard", input_mean: float = -1.0,
                 validation_fraction: float = 0.0, train_limit: int = 0, test_limit: int = 0, seed: int = 1) -> dict:
    """The data set exactly as ``nnspice train`` sees it: train_x/test_x float32 (samples, features), train_y/test_y
    int64, validation_* when validation_fraction > 0, n_classes and info."""
    return _core.load_dataset(name, os.fspath(mnist) if mnist else "", os.fspath(fsdd) if fsdd else "",
                              os.fspath(iris) if iris else "", pixels, float(input_mean), float(validation_fraction),
                              int(train_limit), int(test_limit), int(seed))


# ---- commands --------------------------------------------------------------------------------------------

# Commands that always write a folder: without ``out`` they get a new temporary one.
_AUTO_OUT = {"netlist", "characterize", "train", "infer", "evaluate", "dynamics", "simulate", "calibration"}

# Options given once per value (simulate --option key=value, train --corner-calibration FILE).
_REPEATED = {"option", "corner_calibration"}

# Boolean options that take a value ("--synapse-gains false"); every other bool is a switch (True = given).
_VALUE_BOOLS = {"synapse_gains", "quantize", "plot", "augment", "revive_dead"}


class Result:
    """The output folder of one command, with its JSON records and NPY outputs at hand."""

    def __init__(self, command: str, out: Optional[Path], returncode: int):
        self.command = command
        self.out = out
        self.returncode = returncode

    def __repr__(self) -> str:
        return f"<nnspice.Result {self.command} -> {self.out} (exit {self.returncode})>"

    def _path(self, name: str) -> Path:
        if self.out is None:
            raise InputError(f"nnspice {self.command} was run without an output folder")
        return self.out / name

    def json(self, name: str) -> dict:
        with open(self._path(name), encoding="utf-8") as f:
            return json.load(f)

    @property
    def summary(self) -> dict:
        """summary.json of the command."""
        return self.json("summary.json")

    @property
    def run_info(self) -> dict:
        """run.json: command line, seeds, config, versions."""
        return self.json("run.json")

    def array(self, name: str) -> np.ndarray:
        """An NPY output, e.g. result.array("outputs") for OUT/outputs.npy."""
        p = self._path(name if name.endswith(".npy") else name + ".npy")
        if not p.is_file():
            have = sorted(f.name for f in self.out.glob("*.npy"))
            raise InputError(f"{p}: no such output of nnspice {self.command} (NPY outputs: {', '.join(have) or 'none'})")
        return np.load(p)

    __getitem__ = array

    def files(self) -> list:
        return sorted(str(p.relative_to(self.out)) for p in self.out.rglob("*") if p.is_file())

    @property
    def chip(self) -> Chip:
        return load_chip(self._path("chip.csv"))

    @property
    def calibration(self) -> Calibration:
        return read_calibration(self._path("calibration.json"))

    @property
    def weights(self) -> list:
        return read_weights(self.out)


def _number(v) -> str:
    if isinstance(v, (bool, np.bool_)):
        return "true" if v else "false"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        return repr(float(v))
    return str(v)


def _inputs_dir(out: Path) -> Path:
    d = out / "inputs"
    d.mkdir(parents=True, exist_ok=True)
    return d


def _materialise(key: str, value, out: Path):
    """Objects and arrays become files under OUT/inputs/ (what the CLI reads); returns the option's text."""
    if isinstance(value, Chip):
        p = _inputs_dir(out) / "chip.csv"
        value.save(os.fspath(p))
        return os.fspath(p)
    if isinstance(value, Calibration):
        p = _inputs_dir(out) / "calibration" / "calibration.json"
        p.parent.mkdir(parents=True, exist_ok=True)
        value.save(os.fspath(p))
        return os.fspath(p)
    if key == "weights" and isinstance(value, (list, tuple)) and value and not isinstance(value[0], (str, os.PathLike)):
        d = _inputs_dir(out) / "weights"
        write_weights(d, value)
        return os.fspath(d)
    if isinstance(value, np.ndarray) and value.ndim >= 1 and key in ("patterns", "labels", "inputs_file"):
        p = _inputs_dir(out) / f"{key}.npy"
        np.save(p, np.ascontiguousarray(value, dtype=np.int64 if key == "labels" else np.float64))
        return os.fspath(p)
    if key == "layers":
        return _layers_text(value)
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, (list, tuple, np.ndarray)):
        return ",".join(_number(v) for v in np.asarray(value).ravel())
    return _number(value)


def command(name: str, *positional: Any, out: Optional[PathLike] = None, **options: Any) -> Result:
    """Runs ``nnspice NAME [POSITIONAL...] --option value ...`` in this process.

    Keyword arguments are the command's long options with '-' written '_' (see ``nnspice NAME --help``);
    True gives a switch, False/None leave an option out. ``out`` defaults to a new temporary folder for
    commands that write one."""
    args: list = [os.fspath(p) if isinstance(p, os.PathLike) else str(p) for p in positional]
    out_path: Optional[Path] = None
    if out is not None or name in _AUTO_OUT:
        out_path = Path(out) if out is not None else Path(tempfile.mkdtemp(prefix=f"nnspice-{name}-"))
        out_path.mkdir(parents=True, exist_ok=True)
        args += ["--out", os.fspath(out_path)]
    for key, value in options.items():
        if value is None or (value is False and key not in _VALUE_BOOLS):
            continue
        flag = "--" + key.replace("_", "-")
        if value is True and key not in _VALUE_BOOLS:
            args.append(flag)
            continue
        if isinstance(value, (list, tuple)) and value and isinstance(value[0], (str, os.PathLike)) and key != "layers":
            if key in _REPEATED:  # --option a=1 --option b=2
                for v in value:
                    args += [flag, os.fspath(v)]
            else:  # several files: --weights w0.npy w1.npy
                args += [flag, *(os.fspath(v) for v in value)]
            continue
        args += [flag, _materialise(key, value, out_path) if out_path is not None else _number(value)]
    sys.stdout.flush()
    sys.stderr.flush()
    rc = _core.run(name, args)
    result = Result(name, out_path, rc)
    if rc != 0:
        raise CommandFailed(f"nnspice {name} exited with {rc} (its messages are above{'; ' + os.fspath(out_path) if out_path else ''})",
                            rc, result)
    return result


def netlist(layers=None, *, out: Optional[PathLike] = None, **options) -> Result:
    """``nnspice netlist``: SPICE netlist of a mismatched chip (network.cir) and its chip file (result.chip)."""
    return command("netlist", out=out, layers=layers, **options)


def characterize(layers=None, *, out: Optional[PathLike] = None, **options) -> Result:
    """``nnspice characterize``: the chip's slopes and negative gains (result.calibration)."""
    return command("characterize", out=out, layers=layers, **options)


characterise = characterize


def train(dataset: str = "mnist", *, out: Optional[PathLike] = None, **options) -> Result:
    """``nnspice train``: 3-bit + sign weights for a calibration (result.weights, result.summary)."""
    return command("train", out=out, dataset=dataset, **options)


def infer(weights=None, calibration=None, x: Optional[np.ndarray] = None, *, synapse_gains: bool = True,
          out: Optional[PathLike] = None, **options):
    """With ``x`` (samples, N0): the chip model's outputs (samples, N_L) as float32, in process, no files.
    Without: ``nnspice infer`` on a data set (result.summary: accuracy; result.array("outputs"))."""
    if x is not None:
        if options or out is not None:
            raise InputError("infer(x=...) takes weights, calibration and synapse_gains only")
        if weights is None:
            raise InputError("infer(x=...): weights are required (a list of code arrays or a weights directory)")
        if isinstance(weights, (str, os.PathLike)):
            weights = read_weights(weights)
        if isinstance(calibration, (str, os.PathLike)):
            calibration = read_calibration(calibration, synapse_gains)
        return _core.infer(list(weights), calibration, np.asarray(x, dtype=np.float32), synapse_gains)
    return command("infer", out=out, weights=weights, calibration=calibration, synapse_gains=synapse_gains, **options)


def evaluate(layers=None, *, out: Optional[PathLike] = None, **options) -> Result:
    """``nnspice evaluate``: circuit-level accuracy of a programmed chip (result.summary, result.array("outputs"))."""
    return command("evaluate", out=out, layers=layers, **options)


def dynamics(layers=None, *, out: Optional[PathLike] = None, **options) -> Result:
    """``nnspice dynamics``: pattern-switch transients, time to output and energy (result.summary)."""
    return command("dynamics", out=out, layers=layers, **options)


def simulate(netlist_path: PathLike, *, out: Optional[PathLike] = None, **options) -> Result:
    """``nnspice simulate``: operating points or a transient of a netlist (probe currents as NPY)."""
    return command("simulate", out=out, netlist=netlist_path, **options)


def calibration(mode: str = "random", *, out: Optional[PathLike] = None, **options) -> Result:
    """``nnspice calibration``: a calibration.json without a chip (random or homogeneous)."""
    return command("calibration", out=out, mode=mode, **options)


def run(config: Optional[PathLike] = None, *, out: Optional[PathLike] = None, **options) -> Result:
    """``nnspice run [config.yaml]``: the main job (report.html in result.out)."""
    positional = (config,) if config is not None else ()
    return command("run", *positional, out=out, **options)


def sweep(config: PathLike, *, out: Optional[PathLike] = None, **options) -> Result:
    """``nnspice sweep sweep.yaml``: a design-space grid x Monte Carlo chips (sweep.csv, summary.json in result.out)."""
    return command("sweep", config, out=out, **options)
