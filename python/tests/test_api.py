"""The Python package against the CLI: same chips, files, numbers and error messages."""
import os
import re

import numpy as np
import pytest

import nnspice


def test_chip_draw_matches_netlist_command_and_round_trips(tmp_path, cli):
    chip = nnspice.draw_chip([4, 7, 3], 11)
    assert chip.layers == "4-7-3" and chip.seed == 11 and len(chip) == chip.delvto_V.size > 0
    rc, _, err = cli("netlist", "--layers", "4-7-3", "--seed", 11, "--out", tmp_path / "cli")
    assert rc == 0, err
    from_cli = nnspice.load_chip(tmp_path / "cli" / "chip.csv")
    assert from_cli.names == chip.names
    np.testing.assert_array_equal(from_cli.delvto_V, chip.delvto_V)  # bit-identical draw
    chip.save(str(tmp_path / "chip.csv"))
    again = nnspice.load_chip(tmp_path / "chip.csv", layers="4-7-3")
    np.testing.assert_array_equal(again.delvto_V, chip.delvto_V)
    other = nnspice.draw_chip("4-7-3", 12)
    assert not np.array_equal(other.delvto_V, chip.delvto_V)


def test_edited_chip_reaches_the_netlist(tmp_path):
    chip = nnspice.ideal_chip("2-2-1")
    dvt = chip.delvto_V
    dvt[0] = 0.0123
    chip.delvto_V = dvt
    r = nnspice.netlist("2-2-1", chip=chip, out=tmp_path / "n")
    assert nnspice.load_chip(r.out / "inputs" / "chip.csv").delvto_V[0] == 0.0123
    text = (r.out / "network.cir").read_text()
    assert "delvto=0.0123" in text.replace(" ", "")


@pytest.mark.parametrize("bad, where", [
    (lambda c: setattr(c, "delvto_V", np.zeros(3)), "Chip.delvto_V"),
    (lambda c: setattr(c, "delvto_V", np.full(len(c), np.nan)), "Chip.delvto_V[0]"),
])
def test_bad_chip_values_are_refused(bad, where):
    chip = nnspice.ideal_chip("2-2-1")
    with pytest.raises(nnspice.InputError, match=re.escape(where)):
        bad(chip)


def test_errors_carry_the_cli_message(tmp_path, cli):
    rc, _, err = cli("netlist", "--layers", "4-x-3", "--out", tmp_path / "cli")
    assert rc == 2
    cli_message = err.strip().split("error: ", 1)[1]
    with pytest.raises(nnspice.InputError) as e:
        nnspice.netlist("4-x-3", out=tmp_path / "py")
    assert str(e.value) == cli_message
    assert "4-x-3" in str(e.value)
    assert isinstance(e.value, ValueError)


def test_corrupt_chip_file_names_file_and_line(tmp_path):
    p = tmp_path / "chip.csv"
    nnspice.draw_chip("2-2-1", 1).save(str(p))
    lines = p.read_text().splitlines()
    lines[-1] = lines[-1].split(",")[0] + ",not-a-number"
    p.write_text("\n".join(lines) + "\n")
    with pytest.raises(nnspice.InputError, match=re.escape(str(p))) as e:
        nnspice.load_chip(p)
    assert "not-a-number" in str(e.value)


def test_weights_round_trip_and_bad_codes(tmp_path):
    rng = np.random.default_rng(0)
    w = [rng.integers(-7, 8, size=(7, 4)), rng.integers(-7, 8, size=(3, 7))]
    nnspice.write_weights(tmp_path / "w", w)
    back = nnspice.read_weights(tmp_path / "w")
    assert [b.dtype for b in back] == [np.int32, np.int32]
    for a, b in zip(w, back):
        np.testing.assert_array_equal(a, b)
    bad = [w[0].copy(), w[1]]
    bad[0][2, 1] = 64  # codes of up to 6 bits are weights; the command that uses them checks its chip's bits
    with pytest.raises(nnspice.InputError, match=r"weights\[0\] row 2 column 1: value 64"):
        nnspice.write_weights(tmp_path / "bad", bad)
    with pytest.raises(nnspice.InputError, match=r"weights\[0\] row 0 column 0: value 0.5"):
        nnspice.write_weights(tmp_path / "bad", [np.full((7, 4), 0.5), w[1]])
    with pytest.raises(nnspice.InputError):
        nnspice.write_weights(tmp_path / "bad", [w[0], np.zeros((3, 5), dtype=int)])  # shapes do not chain


def test_calibration_file_and_arrays(tmp_path):
    r = nnspice.calibration("random", layers="4-7-3", sigma=0.15, synapse_sigma=0.1, seed=4, out=tmp_path / "c")
    cal = r.calibration
    assert cal.layers == "4-7-3" and cal.has_synapse_gains and not cal.homogeneous
    assert [s.shape for s in cal.slopes] == [(4,), (7,)]
    assert [g.shape for g in cal.synapse_gain_pos] == [(7, 4), (3, 7)]
    np.testing.assert_allclose([s.mean() for s in cal.slopes], [1, 1], rtol=1e-12)
    made = nnspice.make_calibration("4-7-3", cal.slopes, cal.negative_gain)
    (tmp_path / "m").mkdir()
    made.save(str(tmp_path / "m" / "calibration.json"))
    again = nnspice.read_calibration(tmp_path / "m" / "calibration.json")
    for a, b in zip(again.slopes, cal.slopes):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(nnspice.InputError, match="expected 2 of each"):
        nnspice.make_calibration("4-7-3", cal.slopes[:1], cal.negative_gain[:1])
    with pytest.raises(nnspice.InputError, match=r"slopes\[1\]: expected a 1-D array of 7 values"):
        nnspice.make_calibration("4-7-3", [cal.slopes[0], cal.slopes[0]], cal.negative_gain)
    with pytest.raises(nnspice.InputError, match=r"slopes\[1\]\[2\] = -1"):
        bad = [cal.slopes[0], cal.slopes[1].copy()]
        bad[1][2] = -1
        nnspice.make_calibration("4-7-3", bad, cal.negative_gain)


def test_infer_on_arrays_matches_the_infer_command(tmp_path):
    tr = nnspice.train("iris", calibration=nnspice.calibration("random", layers="4-7-3", synapse_sigma=0.1, seed=2,
                                                               out=tmp_path / "cal").calibration,
                       epochs=60, seed=3, out=tmp_path / "train", quiet=True, plot=False)
    cal = nnspice.read_calibration(tmp_path / "train" / "inputs" / "calibration" / "calibration.json")
    data = nnspice.load_dataset("iris", seed=1)
    outputs = nnspice.infer(tr.weights, cal, data["test_x"])
    assert outputs.shape == (30, 3) and outputs.dtype == np.float32
    inf = nnspice.infer(tr.out, tr.out / "inputs" / "calibration" / "calibration.json", dataset="iris", out=tmp_path / "infer")
    acc = float(np.mean(outputs.argmax(axis=1) == data["test_y"]))
    assert inf.summary["accuracy"] == pytest.approx(acc)
    assert tr.summary["test_accuracy"] == pytest.approx(acc)
    with pytest.raises(nnspice.InputError, match=r"x: expected an array of shape \(samples, 4\)"):
        nnspice.infer(tr.weights, cal, np.zeros((2, 5)))
    with pytest.raises(nnspice.InputError, match=r"x\[1, 2\] = -1"):
        x = np.zeros((2, 4))
        x[1, 2] = -1
        nnspice.infer(tr.weights, cal, x)


def test_dataset_as_numpy():
    d = nnspice.load_dataset("iris", seed=1)
    assert d["train_x"].shape == (120, 4) and d["test_x"].shape == (30, 4)
    assert d["train_x"].dtype == np.float32 and d["train_y"].dtype == np.int64 and d["n_classes"] == 3
    with pytest.raises(nnspice.InputError, match="dataset = 'cifar'"):
        nnspice.load_dataset("cifar")


def test_failed_command_raises_with_result(tmp_path):
    with pytest.raises(nnspice.InputError, match=r"--epochs \(YAML epochs\) = 0\. Violated constraint: epochs >= 1"):
        nnspice.train("iris", epochs=0, out=tmp_path / "t")
    with pytest.raises(nnspice.InputError, match="unknown command 'nope'"):
        nnspice.command("nope")


def test_run_json_records_the_python_call(tmp_path):
    r = nnspice.netlist("2-2-1", seed=3, out=tmp_path / "n")
    assert r.run_info["command_line"].startswith("python nnspice.netlist ")
    assert r.run_info["seed"] == 3


def test_run_dry_run_prints_the_plan(tmp_path, capfd):
    r = nnspice.run(out=tmp_path / "r", dry_run=True)
    printed = capfd.readouterr().out
    assert "plan:" in printed and "iris/chip" in printed and str(tmp_path / "r") in printed
    assert r.returncode == 0


def test_sweep_dry_run_prints_the_grid_and_a_bad_axis_is_an_input_error(tmp_path, capfd):
    cfg = tmp_path / "s.yaml"
    cfg.write_text("experiment: {dataset: iris, layers: 4-7-3, chips: 2}\naxes: {temp_C: [27, 85], vdd_V: [1.8, 1.62]}\n")
    r = nnspice.sweep(cfg, out=tmp_path / "s", dry_run=True)
    printed = capfd.readouterr().out
    assert "4 point(s) x 2 chip(s)" in printed and "p003: temp_C=85, vdd_V=1.62" in printed
    assert r.returncode == 0
    cfg.write_text("experiment: {dataset: iris, layers: 4-7-3}\naxes: {bits: [2, 4]}\n")
    with pytest.raises(nnspice.InputError, match="s.yaml:2:8: axes.bits: the axis is called weight_bits"):
        nnspice.sweep(cfg, out=tmp_path / "s2", dry_run=True)


def test_corner_aware_training_takes_a_list_of_corner_calibrations(tmp_path):
    # A 4-7-3 chip characterised at 27 and 85 C; train against both: one accuracy per calibration in summary.json.
    chip = nnspice.draw_chip("4-7-3", seed=7)
    c27 = nnspice.characterize("4-7-3", chip=chip, method="full", routings=4, out=tmp_path / "c27")
    c85 = nnspice.characterize("4-7-3", chip=chip, method="full", routings=4, temp_C=85, out=tmp_path / "c85")
    r = nnspice.train("iris", calibration=c27.out / "calibration.json", corner_calibration=[c85.out / "calibration.json"],
                      epochs=30, plot=False, quiet=True, out=tmp_path / "t")
    corners = r.summary["corners"]
    assert [os.path.basename(os.path.dirname(c["calibration"])) for c in corners] == ["c27", "c85"]
    assert all(0 <= c["test_accuracy"] <= 1 for c in corners)
    assert abs(r.summary["test_accuracy"] - sum(c["test_accuracy"] for c in corners) / 2) < 1e-12
