"""nnspice.torch against nnspice's own chip model: same quantisation, same outputs, codes nnspice reads."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")  # Debian python3-torch; the README's test command installs it

import nnspice
from nnspice.torch import ChipNetwork, quantize


@pytest.fixture(scope="module")
def calibration(tmp_path_factory):
    out = tmp_path_factory.mktemp("cal")
    return nnspice.calibration("random", layers="6-9-4", sigma=0.2, negative_gain=0.9, negative_gain_sigma=0.1,
                               synapse_sigma=0.15, seed=5, out=out).calibration


@pytest.mark.parametrize("synapse_gains", [True, False])
def test_forward_and_codes_match_nnspice(calibration, synapse_gains, tmp_path):
    gen = torch.Generator().manual_seed(0)
    net = ChipNetwork(calibration, synapse_gains=synapse_gains, init_range=2.5, generator=gen)  # many clipped weights
    x = torch.rand(64, 6, generator=gen)
    with torch.no_grad():
        y = net(x).numpy()
    codes = net.codes()
    assert any(np.abs(c).max() == 7 for c in codes) and any((c < 0).any() for c in codes)
    ref = nnspice.infer(codes, calibration, x.numpy(), synapse_gains=synapse_gains)
    np.testing.assert_allclose(y, ref, rtol=2e-5, atol=1e-6)
    net.export(tmp_path / "w")
    for a, b in zip(nnspice.read_weights(tmp_path / "w"), codes):
        np.testing.assert_array_equal(a, b)


def test_load_codes_round_trip(calibration):
    rng = np.random.default_rng(1)
    codes = [rng.integers(-7, 8, size=(9, 6)), rng.integers(-7, 8, size=(4, 9))]
    net = ChipNetwork(calibration)
    net.load_codes(codes)
    for a, b in zip(net.codes(), codes):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(nnspice.InputError, match="layer 1 has shape"):
        net.load_codes([codes[0], codes[1][:, :3]])


def test_straight_through_gradient_is_zero_where_clipped():
    w = torch.tensor([[0.1, -0.3, 1.9, -2.5, 1.8]], requires_grad=True)
    unit_pos = torch.full((1, 5), 0.25)
    unit_neg = torch.full((1, 5), 0.25 * 0.8)
    q = quantize(w, unit_pos, unit_neg, 7)
    np.testing.assert_allclose(q.detach().numpy(), [[0.0, -0.2 * 2, 1.75, -1.4, 1.75]], rtol=1e-6)  # -0.3/0.2 = -1.5 -> -2
    q.sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [[1, 1, 0, 0, 1]])  # 1.9/0.25 = 7.6 -> 8 > 7: clipped


def test_training_step_moves_the_codes(calibration):
    gen = torch.Generator().manual_seed(3)
    net = ChipNetwork(calibration, relu_leak=0.01, generator=gen)
    before = [c.copy() for c in net.codes()]
    opt = torch.optim.Adam(net.parameters(), lr=0.05)
    x, y = torch.rand(32, 6, generator=gen), torch.randint(0, 4, (32,), generator=gen)
    for _ in range(20):
        loss = torch.nn.functional.cross_entropy(net(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert any((a != b).any() for a, b in zip(before, net.codes()))


def test_bad_arguments():
    with pytest.raises(nnspice.InputError, match="give a calibration"):
        ChipNetwork()
    with pytest.raises(nnspice.InputError, match="max_code = 9"):
        ChipNetwork(layers="2-2-1", max_code=9)
    net = ChipNetwork(layers="2-2-1")
    with pytest.raises(nnspice.InputError, match=r"expected \(batch, 2\)"):
        net(torch.zeros(3, 5))


def test_weight_bits_set_the_code_range_and_the_default_step():
    gen = torch.Generator().manual_seed(5)
    net = ChipNetwork(layers="3-4-2", weight_bits=4, init_range=4.0, generator=gen)
    assert net.max_code == 15 and net.calibration.weight_bits == 4
    assert net.step == pytest.approx(0.25 * 7 / 15)  # nnspice train's default step on 4 bits
    codes = net.codes()
    assert max(np.abs(c).max() for c in codes) == 15  # masters up to 4.0 >> 15 steps: clipped at 15, not 7
    k = [np.full((4, 3), -15), np.full((2, 4), 11)]
    net.load_codes(k)
    for a, b in zip(k, net.codes()):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(nnspice.InputError, match="not integer codes in -15..15"):
        net.load_codes([np.full((4, 3), 16), k[1]])
    with pytest.raises(nnspice.InputError, match=r"max_code = 16: must be in 1..15 \(sign \+ 4 bits\)"):
        ChipNetwork(layers="3-4-2", weight_bits=4, max_code=16)
    with pytest.raises(nnspice.InputError, match="weight_bits = 7: must be in 1..6"):
        ChipNetwork(layers="3-4-2", weight_bits=7)
    three = nnspice.homogeneous_calibration("3-4-2")
    assert three.weight_bits == 3 and three.max_code == 7
    with pytest.raises(nnspice.InputError, match="weight_bits = 4, but .* 3-bit synapses"):
        ChipNetwork(three, weight_bits=4)
