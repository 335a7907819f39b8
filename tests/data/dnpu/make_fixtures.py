#!/usr/bin/env python3
"""Writes the torch-file fixtures of tests/dnpu without torch or numpy.

A fake `torch` module makes the standard pickle module emit exactly what torch.save emits
(torch._utils._rebuild_tensor_v2 over persistent-id storages); the raw storages are written by hand in
both layouts. Expected outputs are computed here in float64 with a plain-Python MLP, independently of
the C++ reader. Run from this directory: python3 make_fixtures.py  (writes the files next to it).
"""
import collections, io, pickle, random, struct, sys, types, zipfile

torch = types.ModuleType("torch")
torch_utils = types.ModuleType("torch._utils")
sys.modules["torch"] = torch
sys.modules["torch._utils"] = torch_utils
torch._utils = torch_utils


class FloatStorage: pass
class DoubleStorage: pass
for c in (FloatStorage, DoubleStorage):
    c.__module__ = "torch"
    setattr(torch, c.__name__, c)


def _rebuild_tensor_v2(*args): raise RuntimeError("never called")
_rebuild_tensor_v2.__module__ = "torch._utils"
torch_utils._rebuild_tensor_v2 = _rebuild_tensor_v2


class Storage:
    def __init__(self, key, values, dtype):
        self.key, self.values, self.dtype = key, values, dtype


class Tensor:
    def __init__(self, storage, offset, size, stride):
        self.storage, self.offset, self.size, self.stride = storage, offset, tuple(size), tuple(stride)

    def __reduce__(self):
        return (_rebuild_tensor_v2, (self.storage, self.offset, self.size, self.stride, False, collections.OrderedDict()))


def make_pickler(f, legacy, protocol):
    class P(pickle.Pickler):
        def persistent_id(self, obj):
            if isinstance(obj, Storage):
                t = FloatStorage if obj.dtype == "f" else DoubleStorage
                pid = ("storage", t, obj.key, "cpu", len(obj.values))
                return pid + (None,) if legacy else pid
            return None
    return P(f, protocol=protocol)


def rnd_matrix(rng, rows, cols, scale):
    return [[rng.gauss(0, scale) for _ in range(cols)] for _ in range(rows)]


def forward(layers, x, amplification, clip):
    h = list(x)
    for li, (W, b) in enumerate(layers):
        z = [sum(w * v for w, v in zip(row, h)) + bb for row, bb in zip(W, b)]
        h = z if li == len(layers) - 1 else [max(0.0, v) for v in z]
    y = h[0] * amplification
    if clip is not None:
        y = min(max(y, clip[0]), clip[1])
    return y


def rounded(v, dtype):
    return struct.unpack("<f", struct.pack("<f", v))[0] if dtype == "f" else v


def build(name, legacy, dtype, prefix, sizes, seed, protocol, shared_storage, transposed, outer=None):
    rng = random.Random(seed)
    layers, state, storages = [], collections.OrderedDict(), []
    for li in range(len(sizes) - 1):
        W = [[rounded(v, dtype) for v in row] for row in rnd_matrix(rng, sizes[li + 1], sizes[li], 0.6)]
        b = [rounded(rng.gauss(0, 0.2), dtype) for _ in range(sizes[li + 1])]
        layers.append((W, b))
        rows, cols = len(W), len(W[0])
        if transposed and li == 0:  # stored column-major: stride (1, rows)
            wvals = [W[r][c] for c in range(cols) for r in range(rows)]
            wstride = (1, rows)
        else:
            wvals = [v for row in W for v in row]
            wstride = (cols, 1)
        if shared_storage:  # weight and bias in one storage, bias at an offset
            s = Storage(str(1000 + li), wvals + [0.0] * 3 + b, dtype)
            storages.append(s)
            state[f"{prefix}{2 * li}.weight"] = Tensor(s, 0, (rows, cols), wstride)
            state[f"{prefix}{2 * li}.bias"] = Tensor(s, len(wvals) + 3, (rows,), (1,))
        else:
            sw, sb = Storage(str(2 * li), wvals, dtype), Storage(str(2 * li + 1), b, dtype)
            storages += [sw, sb]
            state[f"{prefix}{2 * li}.weight"] = Tensor(sw, 0, (rows, cols), wstride)
            state[f"{prefix}{2 * li}.bias"] = Tensor(sb, 0, (rows,), (1,))
    if outer:  # a second stack (other tensor objects, same values) at outer + prefix, both at the top level
        for k in list(state):
            t = state[k]
            state[outer + k] = Tensor(t.storage, t.offset, t.size, t.stride)
    amplification = 37.5
    clip = [-150.0, 120.0]
    amp = [0.9, 0.9, 0.9, 0.9, 0.9, 0.5, 0.5]
    off = [-0.3, -0.3, -0.3, -0.3, -0.3, -0.2, -0.2]
    info = {"data_info": {"processor": {"amplification": amplification},
                          "input_data": {"amplitude": amp, "offset": off},
                          "clipping_value": clip},
            "smg_configs": {"processor": {"torch_model_dict": {"hidden_sizes": sizes[1:-1], "D_in": 7, "D_out": 1, "activation": "relu"}}}}
    obj = {"epoch": 3, "model_state_dict": state, "info": info, "train_losses": [0.5, 0.25]}
    if outer:
        obj = collections.OrderedDict(state)
        obj["info"] = info
    buf = io.BytesIO()
    make_pickler(buf, legacy, protocol).dump(obj)
    fmt = "<f" if dtype == "f" else "<d"
    raw = {s.key: b"".join(struct.pack(fmt, v) for v in s.values) for s in storages}
    if legacy:
        with open(name, "wb") as f:
            pickle.dump(0x1950a86a20f9469cfc6c, f, protocol=2)
            pickle.dump(1001, f, protocol=2)
            pickle.dump({"protocol_version": 1001, "little_endian": True, "type_sizes": {"short": 2, "int": 4, "long": 4}}, f, protocol=2)
            f.write(buf.getvalue())
            pickle.dump([s.key for s in storages], f, protocol=2)
            for s in storages:
                f.write(struct.pack("<q", len(s.values)))
                f.write(raw[s.key])
    else:
        with zipfile.ZipFile(name, "w", compression=zipfile.ZIP_STORED) as z:
            z.writestr("fixture/data.pkl", buf.getvalue())
            for k, v in raw.items():
                z.writestr(f"fixture/data/{k}", v)
            z.writestr("fixture/version", "3\n")
    # expected outputs on random inputs inside the ranges
    rng2 = random.Random(seed + 1)
    with open(name.rsplit(".", 1)[0] + "-forward.csv", "w") as f:
        f.write(",".join(f"v{k}_V" for k in range(7)) + ",i_out_nA\n")
        for _ in range(50):
            x = [rng2.uniform(o - a, o + a) for o, a in zip(off, amp)]
            f.write(",".join(repr(v) for v in x) + "," + repr(forward(layers, x, amplification, clip)) + "\n")


build("legacy-f64.pt", legacy=True, dtype="d", prefix="processor.model.raw_model.", sizes=[7, 12, 9, 6, 1], seed=11,
      protocol=2, shared_storage=True, transposed=True)
build("zip-f64-p4.pt", legacy=False, dtype="d", prefix="net.", sizes=[7, 10, 8, 1], seed=12, protocol=4,
      shared_storage=False, transposed=False)
build("legacy-f32.pt", legacy=True, dtype="f", prefix="model.", sizes=[7, 16, 16, 16, 16, 16, 16, 1], seed=13,
      protocol=2, shared_storage=False, transposed=True)
# Two stacks whose prefixes nest ('node.model' and 'outer.node.model'): --prefix node.model must select the first.
build("two-stacks.pt", legacy=False, dtype="d", prefix="node.model.", sizes=[7, 5, 1], seed=21, protocol=4,
      shared_storage=False, transposed=False, outer="outer.")
