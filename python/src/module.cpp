// nnspice._core: the Python module's native part (pybind11). Two kinds of entry points:
//   * run(command, args): one `nnspice` subcommand in this process, through the same option parsing,
//     validation and writers as the CLI (tools/commands.hpp); its exceptions become nnspice.InputError,
//     nnspice.SimulatorError and nnspice.NumericalError with the CLI's message;
//   * the data model as NumPy: chips (draw, load, save), calibrations, weight codes, data sets and the
//     behavioural forward pass (infer), each through the library's one reader / writer.
// python/nnspice/__init__.py builds the user-facing API on these.
#include <Python.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cstdio>
#include <cstring>
#include <mutex>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

#include "commands.hpp"
#include "nnspice/common/error.hpp"
#include "nnspice/common/run_info.hpp"
#include "nnspice/mismatch/chip.hpp"
#include "nnspice/model/layer_spec.hpp"
#include "nnspice/model/weight_codes.hpp"
#include "nnspice/netlist/network.hpp"
#include "nnspice/netlist/process.hpp"
#include "nnspice/sim/session.hpp"
#include "nnspice/train/calibration.hpp"
#include "nnspice/train/dataset.hpp"
#include "nnspice/train/network.hpp"

namespace py = pybind11;
using namespace nnspice;

namespace {

PyObject* g_input_error = nullptr;
PyObject* g_numerical_error = nullptr;
PyObject* g_simulator_error = nullptr;

using F64Array = py::array_t<double, py::array::c_style | py::array::forcecast>;
using F32Array = py::array_t<float, py::array::c_style | py::array::forcecast>;

F64Array to_numpy(const std::vector<double>& v) {
  F64Array a(static_cast<py::ssize_t>(v.size()));
  if (!v.empty()) std::memcpy(a.mutable_data(), v.data(), v.size() * sizeof(double));
  return a;
}

F64Array to_numpy_matrix(const std::vector<double>& v, std::size_t rows, std::size_t cols) {
  F64Array a({static_cast<py::ssize_t>(rows), static_cast<py::ssize_t>(cols)});
  if (!v.empty()) std::memcpy(a.mutable_data(), v.data(), v.size() * sizeof(double));
  return a;
}

/// A 1-D float64 array of exactly `n` entries (`what` names the argument in the InputError).
std::vector<double> from_numpy(const F64Array& a, std::size_t n, const std::string& what) {
  if (a.ndim() != 1 || static_cast<std::size_t>(a.shape(0)) != n)
    throw InputError(fmt::format("{}: expected a 1-D array of {} values, got shape {}", what, n,
                                 a.ndim() == 1 ? fmt::format("({},)", a.shape(0)) : fmt::format("with {} dimensions", a.ndim())));
  return {a.data(), a.data() + n};
}

// ---- weight codes ----------------------------------------------------------------------------------

py::list codes_to_numpy(const model::WeightCodes& codes) {
  py::list out;
  for (const auto& m : codes) {
    py::array_t<std::int32_t> a({static_cast<py::ssize_t>(m.rows), static_cast<py::ssize_t>(m.cols)});
    auto* p = a.mutable_data();
    for (std::size_t i = 0; i < m.codes.size(); ++i) p[i] = m.codes[i];
    out.append(a);
  }
  return out;
}

model::WeightCodes codes_from_numpy(const py::list& layers, const std::string& what) {
  model::WeightCodes codes;
  for (std::size_t l = 0; l < layers.size(); ++l) {
    py::array a = py::array::ensure(py::object(layers[l]));
    if (!a || a.ndim() != 2)
      throw InputError(fmt::format("{}[{}]: expected a 2-D integer array (N_{{l+1}}, N_l) of codes", what, l));
    // Integral values only: a float array of whole numbers is accepted, 2.5 is not.
    auto f = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(a);
    model::CodeMatrix m;
    m.rows = static_cast<std::size_t>(f.shape(0));
    m.cols = static_cast<std::size_t>(f.shape(1));
    m.codes.resize(m.rows * m.cols);
    const double* p = f.data();
    for (std::size_t i = 0; i < m.codes.size(); ++i) {
      const double v = p[i];
      // Any code of 1..6 bits; the command that uses them checks them against its chip's weight bits.
      if (!(v == static_cast<double>(static_cast<long long>(v))) || v < -model::kMaxCodeAnyBits || v > model::kMaxCodeAnyBits)
        throw InputError(fmt::format("{}[{}] row {} column {}: value {} is not an integer code in -{}..{}", what, l,
                                     i / m.cols, i % m.cols, v, model::kMaxCodeAnyBits, model::kMaxCodeAnyBits));
      m.codes[i] = static_cast<std::int8_t>(v);
    }
    codes.push_back(std::move(m));
  }
  if (codes.empty()) throw InputError(fmt::format("{}: no weight layers", what));
  model::check_weight_codes(codes, model::layers_of(codes), what, model::kMaxCodeAnyBits);
  return codes;
}

// ---- data sets ---------------------------------------------------------------------------------------

py::tuple dataset_to_numpy(const train::Dataset& d) {
  // (samples, features) float32, C order: the layout of PyTorch and scikit-learn.
  const auto n = static_cast<py::ssize_t>(d.size()), f = static_cast<py::ssize_t>(d.features());
  py::array_t<float> x({n, f});
  float* px = x.mutable_data();
  for (py::ssize_t s = 0; s < n; ++s)
    for (py::ssize_t k = 0; k < f; ++k) px[s * f + k] = d.x(k, s);
  py::array_t<std::int64_t> y(n);
  for (py::ssize_t s = 0; s < n; ++s) y.mutable_data()[s] = d.y[static_cast<std::size_t>(s)];
  return py::make_tuple(x, y);
}

py::dict load_dataset(const std::string& name, const std::string& mnist, const std::string& fsdd, const std::string& iris,
                      const std::string& pixels, double input_mean, double validation_fraction, std::size_t train_limit,
                      std::size_t test_limit, std::uint64_t seed) {
  train::DatasetOptions o;
  o.name = name;
  o.mnist_dir = mnist;
  o.fsdd_dir = fsdd;
  o.iris_csv = iris;
  o.pixels = pixels;
  o.input_mean = input_mean;
  o.validation_fraction = validation_fraction;
  o.train_limit = train_limit;
  o.test_limit = test_limit;
  o.seed = seed;
  if (name != "mnist" && name != "fsdd" && name != "iris")
    throw InputError(fmt::format("dataset = '{}': expected mnist, fsdd or iris", name));
  train::DataSplits s;
  {
    py::gil_scoped_release release;
    s = train::load_dataset(o);
  }
  py::dict out;
  auto put = [&](const char* split, const train::Dataset& d) {
    if (d.size() == 0) return;
    auto t = dataset_to_numpy(d);
    out[py::str(std::string(split) + "_x")] = t[0];
    out[py::str(std::string(split) + "_y")] = t[1];
  };
  put("train", s.train);
  put("validation", s.validation);
  put("test", s.test);
  out["n_classes"] = s.test.size() ? s.test.n_classes : s.train.n_classes;
  out["info"] = py::module_::import("json").attr("loads")(s.info.dump());
  return out;
}

// ---- behavioural inference ----------------------------------------------------------------------------

py::array_t<float> infer(const py::list& weights, const train::Calibration* calibration, const F32Array& x, bool synapse_gains) {
  const model::WeightCodes codes = codes_from_numpy(weights, "weights");
  const model::Layers layers = model::layers_of(codes);
  train::Calibration cal = calibration ? *calibration : train::homogeneous_calibration(layers);
  if (!synapse_gains) cal.drop_synapse_gains();
  cal.check_matches(layers);
  if (x.ndim() != 2 || x.shape(1) != layers.front())
    throw InputError(fmt::format("x: expected an array of shape (samples, {}), got {} dimension(s){}", layers.front(), x.ndim(),
                                 x.ndim() == 2 ? fmt::format(" of shape ({}, {})", x.shape(0), x.shape(1)) : std::string()));
  const auto n = x.shape(0), f = x.shape(1);
  for (py::ssize_t i = 0; i < n * f; ++i)
    if (!std::isfinite(x.data()[i]) || x.data()[i] < 0)
      throw InputError(fmt::format("x[{}, {}] = {}: inputs are currents, finite and >= 0", i / f, i % f, x.data()[i]));
  train::Network<float> net;
  net.configure(layers, cal, train::QuantGrid{}, true);
  for (std::size_t l = 0; l < codes.size(); ++l) {
    Eigen::MatrixXi k(static_cast<Eigen::Index>(codes[l].rows), static_cast<Eigen::Index>(codes[l].cols));
    for (std::size_t r = 0; r < codes[l].rows; ++r)
      for (std::size_t c = 0; c < codes[l].cols; ++c) k(static_cast<Eigen::Index>(r), static_cast<Eigen::Index>(c)) = codes[l].at(r, c);
    net.set_codes(l, k);
  }
  Eigen::MatrixXf in(f, n);
  for (py::ssize_t s = 0; s < n; ++s)
    for (py::ssize_t k = 0; k < f; ++k) in(k, s) = x.data()[s * f + k];
  Eigen::MatrixXf out;
  {
    py::gil_scoped_release release;
    out = train::predict(net, in);
  }
  py::array_t<float> result({n, static_cast<py::ssize_t>(out.rows())});
  for (py::ssize_t s = 0; s < n; ++s)
    for (Eigen::Index j = 0; j < out.rows(); ++j) result.mutable_data()[s * out.rows() + j] = out(j, s);
  return result;
}

int run_command(const std::string& name, const std::vector<std::string>& args) {
  const tools::Command* c = tools::find_command(name);
  if (!c) {
    std::vector<std::string> known;
    for (const auto& k : tools::commands()) known.emplace_back(k.name);
    throw InputError(fmt::format("unknown command '{}' (known: {})", name, fmt::join(known, ", ")));
  }
  std::string what = "nnspice.";
  what += name;
  std::vector<std::string> argv = {"python", what};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> p;
  for (auto& a : argv) p.push_back(a.data());
  py::gil_scoped_release release;  // long simulations; other Python threads keep running
  // One command at a time per process, as on the command line: libngspice and the run records are process-wide.
  static std::mutex one_command;
  const std::lock_guard<std::mutex> lock(one_command);
  set_command_line(static_cast<int>(p.size()), p.data());  // run.json: "python nnspice.<command> ..."
  struct Flush {  // the command's output reaches the terminal (or pytest's capture) before Python's next line
    ~Flush() {
      std::fflush(stdout);
      std::fflush(stderr);
    }
  } flush;
  return tools::run_command(*c, args);
}

}  // namespace

PYBIND11_MODULE(_core, m) {
  m.doc() = "nnspice native core (use the nnspice package, not this module)";

  // Exceptions: the CLI's classes (exit codes 2, 3, 1), with the same messages.
  static py::exception<InputError> input_error(m, "InputError", PyExc_ValueError);
  static py::exception<NumericalError> numerical_error(m, "NumericalError", PyExc_ArithmeticError);
  static py::exception<sim::SimError> simulator_error(m, "SimulatorError", numerical_error.ptr());
  g_input_error = input_error.ptr();
  g_numerical_error = numerical_error.ptr();
  g_simulator_error = simulator_error.ptr();
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const InputError& e) {
      PyErr_SetString(g_input_error, e.what());
    } catch (const sim::SimError& e) {  // before NumericalError, its base class
      PyErr_SetString(g_simulator_error, e.what());
    } catch (const NumericalError& e) {
      PyErr_SetString(g_numerical_error, e.what());
    }
  });

  m.def("version", &nnspice_version);
  m.def("set_executable", &set_self_executable, py::arg("path"),
        "the nnspice command that `run` stages re-execute and whose location picks the data directory");
  m.def("data_dir", &data_dir);
  m.def("commands", [] {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& c : tools::commands()) out.emplace_back(c.name, c.summary);
    return out;
  });
  m.def("run", &run_command, py::arg("command"), py::arg("args"),
        "runs one nnspice subcommand in this process (same options and files as the CLI); returns its exit code");

  m.def("format_layers", [](const model::Layers& l) { return model::format_layers(model::check_layers({l.begin(), l.end()}, "layers")); },
        py::arg("layers"));

  // ---- process ----
  m.def("process_info", [](const std::string& path) {
    const netlist::Process p = netlist::load_process_or_default(path);
    py::dict d;
    d["name"] = p.name;
    d["source"] = p.source;
    d["model_card"] = p.model_card;
    d["nmos_model"] = p.nmos_model;
    d["pmos_model"] = p.pmos_model;
    d["vdd_V"] = p.vdd_V;
    d["temp_C"] = p.temp_C;
    py::dict sizes;
    for (std::size_t r = 0; r < netlist::kDeviceRoles; ++r)
      sizes[netlist::role_name(static_cast<netlist::DeviceRole>(r))] = py::make_tuple(p.sizes[r].w_m, p.sizes[r].l_m);
    d["sizes_m"] = sizes;
    return d;
  }, py::arg("path") = "");

  // ---- chip ----
  py::class_<mismatch::Chip>(m, "Chip")
      .def_property_readonly("layers", [](const mismatch::Chip& c) { return c.spec.str(); })
      .def_readonly("seed", &mismatch::Chip::seed)
      .def_readonly("process_name", &mismatch::Chip::process_name)
      .def_readonly("convention", &mismatch::Chip::convention)
      .def_readonly("names", &mismatch::Chip::names)
      .def_property("delvto_V", [](const mismatch::Chip& c) { return to_numpy(c.delvto_V); },
                    [](mismatch::Chip& c, const F64Array& a) {
                      auto v = from_numpy(a, c.names.size(), "Chip.delvto_V");
                      for (std::size_t i = 0; i < v.size(); ++i)
                        if (!std::isfinite(v[i]) || std::fabs(v[i]) > netlist::ProcessBounds::max_delvto_V)
                          throw InputError(fmt::format("Chip.delvto_V[{}] = {} ({}): |dVT| must be finite and <= {} V", i, v[i],
                                                       c.names[i], netlist::ProcessBounds::max_delvto_V));
                      c.delvto_V = std::move(v);
                    })
      .def("save", [](const mismatch::Chip& c, const std::string& path) { mismatch::save_chip(c, path); }, py::arg("path"))
      .def("__len__", [](const mismatch::Chip& c) { return c.names.size(); })
      .def("__repr__", [](const mismatch::Chip& c) {
        return fmt::format("<nnspice.Chip {} seed {} {} ({} transistors)>", c.spec.str(), c.seed, c.process_name, c.names.size());
      });
  m.def("draw_chip", [](const std::string& layers, std::uint64_t seed, const std::string& process) {
    const netlist::Process pr = netlist::load_process_or_default(process);
    return mismatch::draw_chip(netlist::NetworkSpec::parse(layers, "layers").for_process(pr), pr, seed);
  }, py::arg("layers"), py::arg("seed"), py::arg("process") = "");
  m.def("ideal_chip", [](const std::string& layers) { return mismatch::ideal_chip(netlist::NetworkSpec::parse(layers, "layers")); },
        py::arg("layers"));
  m.def("load_chip", [](const std::string& path, const std::string& layers) {
    if (layers.empty()) return mismatch::load_chip(path);
    const auto spec = netlist::NetworkSpec::parse(layers, "layers");
    return mismatch::load_chip(path, &spec);
  }, py::arg("path"), py::arg("layers") = "");

  // ---- calibration ----
  py::class_<train::Calibration>(m, "Calibration")
      .def_property_readonly("layers", [](const train::Calibration& c) { return model::format_layers(c.layers); })
      .def_property_readonly("slopes", [](const train::Calibration& c) {
        py::list out;
        for (const auto& s : c.slopes) out.append(to_numpy(s));
        return out;
      })
      .def_property_readonly("negative_gain", [](const train::Calibration& c) {
        py::list out;
        for (const auto& s : c.negative_gain) out.append(to_numpy(s));
        return out;
      })
      .def_property_readonly("synapse_gain_pos", [](const train::Calibration& c) {
        py::list out;
        for (std::size_t l = 0; l < c.synapse_gain_pos.size(); ++l)
          out.append(to_numpy_matrix(c.synapse_gain_pos[l], static_cast<std::size_t>(c.layers[l + 1]), static_cast<std::size_t>(c.layers[l])));
        return out;
      })
      .def_property_readonly("synapse_gain_neg", [](const train::Calibration& c) {
        py::list out;
        for (std::size_t l = 0; l < c.synapse_gain_neg.size(); ++l)
          out.append(to_numpy_matrix(c.synapse_gain_neg[l], static_cast<std::size_t>(c.layers[l + 1]), static_cast<std::size_t>(c.layers[l])));
        return out;
      })
      .def_property_readonly("has_synapse_gains", &train::Calibration::has_synapse_gains)
      .def_property_readonly("has_code_gains", &train::Calibration::has_code_gains)
      .def_property_readonly("homogeneous", &train::Calibration::homogeneous)
      .def_readonly("weight_bits", &train::Calibration::weight_bits)
      .def_property_readonly("max_code", &train::Calibration::max_code)
      .def_readonly("chip", &train::Calibration::chip)
      .def_readonly("seed", &train::Calibration::seed)
      .def_readonly("source", &train::Calibration::source)
      .def("without_synapse_gains", [](const train::Calibration& c) {
        train::Calibration r = c;
        r.drop_synapse_gains();
        return r;
      })
      .def("save", [](const train::Calibration& c, const std::string& path) { train::write_calibration(path, c); }, py::arg("path"))
      .def("__repr__", [](const train::Calibration& c) {
        return fmt::format("<nnspice.Calibration {}{}{}>", model::format_layers(c.layers), c.homogeneous() ? " homogeneous" : "",
                           c.has_synapse_gains() ? " with per-synapse gains" : "");
      });
  m.def("read_calibration", &train::read_calibration, py::arg("path"), py::arg("synapse_gains") = true);
  m.def("homogeneous_calibration", [](const std::string& layers, double negative_gain, int weight_bits) {
    if (weight_bits < model::kMinWeightBits || weight_bits > model::kMaxWeightBits)
      throw InputError(fmt::format("homogeneous_calibration: weight_bits = {}: must be in {}..{} (magnitude bits + sign)", weight_bits,
                                   model::kMinWeightBits, model::kMaxWeightBits));
    train::Calibration c = train::homogeneous_calibration(model::parse_layers(layers, "layers"), negative_gain);
    c.weight_bits = weight_bits;
    return c;
  }, py::arg("layers"), py::arg("negative_gain") = 1.0, py::arg("weight_bits") = model::kDefaultWeightBits);
  m.def("make_calibration", [](const std::string& layers, const std::vector<F64Array>& slopes, const std::vector<F64Array>& negative_gain) {
    // A per-neuron calibration from arrays (e.g. slopes measured elsewhere), checked like a calibration.json.
    train::Calibration c;
    c.layers = model::parse_layers(layers, "layers");
    const std::size_t L = c.layers.size() - 1;
    if (slopes.size() != L || negative_gain.size() != L)
      throw InputError(fmt::format("calibration of {}: {} slope vector(s) and {} negative-gain vector(s); expected {} of each (one per layer "
                                   "with outgoing synapses)", layers, slopes.size(), negative_gain.size(), L));
    for (std::size_t l = 0; l < L; ++l) {
      const auto n = static_cast<std::size_t>(c.layers[l]);
      c.slopes.push_back(from_numpy(slopes[l], n, fmt::format("slopes[{}]", l)));
      c.negative_gain.push_back(from_numpy(negative_gain[l], n, fmt::format("negative_gain[{}]", l)));
      for (std::size_t i = 0; i < n; ++i) {
        if (!(c.slopes[l][i] > 0) || !std::isfinite(c.slopes[l][i]))
          throw InputError(fmt::format("slopes[{}][{}] = {}: must be finite and > 0", l, i, c.slopes[l][i]));
        if (!(c.negative_gain[l][i] > 0) || !std::isfinite(c.negative_gain[l][i]))
          throw InputError(fmt::format("negative_gain[{}][{}] = {}: must be finite and > 0", l, i, c.negative_gain[l][i]));
      }
    }
    return c;
  }, py::arg("layers"), py::arg("slopes"), py::arg("negative_gain"));

  // ---- weight codes ----
  m.def("read_weights", [](const std::vector<std::string>& paths, const std::string& layers) {
    return codes_to_numpy(model::read_weight_codes(paths, layers.empty() ? model::Layers{} : model::parse_layers(layers, "layers"), model::kMaxCodeAnyBits));
  }, py::arg("paths"), py::arg("layers") = "");
  m.def("write_weights", [](const std::string& dir, const py::list& weights) {
    return model::write_weight_codes(dir, codes_from_numpy(weights, "weights"));
  }, py::arg("dir"), py::arg("weights"));
  m.def("check_weights", [](const py::list& weights) { return model::format_layers(model::layers_of(codes_from_numpy(weights, "weights"))); },
        py::arg("weights"));

  // ---- data + behavioural model ----
  m.def("load_dataset", &load_dataset, py::arg("name"), py::arg("mnist") = "", py::arg("fsdd") = "", py::arg("iris") = "",
        py::arg("pixels") = "checkerboard", py::arg("input_mean") = -1.0, py::arg("validation_fraction") = 0.0,
        py::arg("train_limit") = 0, py::arg("test_limit") = 0, py::arg("seed") = 1);
  m.def("infer", &infer, py::arg("weights"), py::arg("calibration"), py::arg("x"), py::arg("synapse_gains") = true);
}
