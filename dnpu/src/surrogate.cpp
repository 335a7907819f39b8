#include "nnspice/dnpu/surrogate.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <deque>
#include <filesystem>
#include <map>
#include <set>

#include "nnspice/common/error.hpp"
#include "nnspice/common/fs_util.hpp"
#include "nnspice/common/gemm_native.hpp"
#include "nnspice/common/json_util.hpp"
#include "nnspice/common/npy.hpp"
#include "nnspice/common/run_info.hpp"
#include "nnspice/dnpu/torch_file.hpp"

namespace nnspice::dnpu {

using T = PyValue::Type;

const char* activation_name(Activation a) {
  switch (a) {
    case Activation::relu: return "relu";
    case Activation::elu: return "elu";
    case Activation::tanh: return "tanh";
    case Activation::sigmoid: return "sigmoid";
    case Activation::hardtanh: return "hardtanh";
    case Activation::leaky_relu: return "leaky_relu";
  }
  return "?";
}

bool parse_activation(const std::string& name, Activation& out) {
  std::string n;
  for (char c : name) n.push_back(c == '-' ? '_' : static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  static const std::pair<const char*, Activation> table[] = {
      {"relu", Activation::relu}, {"elu", Activation::elu}, {"tanh", Activation::tanh}, {"sigmoid", Activation::sigmoid},
      {"hardtanh", Activation::hardtanh}, {"hard_tanh", Activation::hardtanh}, {"leaky_relu", Activation::leaky_relu},
      {"leakyrelu", Activation::leaky_relu}};
  for (const auto& [k, a] : table)
    if (n == k) { out = a; return true; }
  return false;
}

namespace {

constexpr double kLeakySlope = 0.01;  // torch.nn.LeakyReLU default

/// c = op(a) · b through the host-CPU kernel (nnspice/common/gemm_native.hpp): the surrogate's 90×90 layers
/// dominate every DNPU experiment.
void matmul(Eigen::MatrixXd& c, const Eigen::MatrixXd& a, bool ta, const Eigen::MatrixXd& b) {
  const long m = ta ? a.cols() : a.rows(), k = ta ? a.rows() : a.cols(), n = b.cols();
  if (b.rows() != k) throw InputError(fmt::format("surrogate: a layer takes {} inputs but got {} rows", k, b.rows()));
  c.resize(m, n);
  native::dgemm(ta, false, m, n, k, 1.0, a.data(), a.rows(), b.data(), b.rows(), 0.0, c.data(), m);
}

void apply_activation(Activation a, Eigen::MatrixXd& z) {
  switch (a) {
    case Activation::relu: z = z.cwiseMax(0.0); break;
    case Activation::elu: z = z.unaryExpr([](double x) { return x > 0 ? x : std::expm1(x); }); break;
    case Activation::tanh: z = z.array().tanh().matrix(); break;
    case Activation::sigmoid: z = z.unaryExpr([](double x) { return 1.0 / (1.0 + std::exp(-x)); }); break;
    case Activation::hardtanh: z = z.cwiseMax(-1.0).cwiseMin(1.0); break;
    case Activation::leaky_relu: z = z.unaryExpr([](double x) { return x > 0 ? x : kLeakySlope * x; }); break;
  }
}

Eigen::MatrixXd activation_derivative(Activation a, const Eigen::MatrixXd& z) {
  switch (a) {
    case Activation::relu: return z.unaryExpr([](double x) { return x > 0 ? 1.0 : 0.0; });
    case Activation::elu: return z.unaryExpr([](double x) { return x > 0 ? 1.0 : std::exp(x); });
    case Activation::tanh: return z.unaryExpr([](double x) { const double t = std::tanh(x); return 1 - t * t; });
    case Activation::sigmoid: return z.unaryExpr([](double x) { const double s = 1.0 / (1.0 + std::exp(-x)); return s * (1 - s); });
    case Activation::hardtanh: return z.unaryExpr([](double x) { return (x > -1 && x < 1) ? 1.0 : 0.0; });
    case Activation::leaky_relu: return z.unaryExpr([](double x) { return x > 0 ? 1.0 : kLeakySlope; });
  }
  return z;
}

}  // namespace

void SurrogateModel::validate(const std::string& name) const {
  if (weights.empty()) throw InputError(fmt::format("{}: the surrogate has no layers", name));
  if (weights.size() != biases.size()) throw InputError(fmt::format("{}: {} weight matrices but {} bias vectors", name, weights.size(), biases.size()));
  for (std::size_t l = 0; l < weights.size(); ++l) {
    if (biases[l].size() != weights[l].rows())
      throw InputError(fmt::format("{}: layer {} has {} outputs but a bias of length {}", name, l, weights[l].rows(), biases[l].size()));
    if (l > 0 && weights[l].cols() != weights[l - 1].rows())
      throw InputError(fmt::format("{}: layer {} takes {} inputs but layer {} gives {}", name, l, weights[l].cols(), l - 1, weights[l - 1].rows()));
    if (!weights[l].allFinite() || !biases[l].allFinite()) throw InputError(fmt::format("{}: layer {} holds non-finite weights", name, l));
  }
  if (weights.back().rows() != 1)
    throw InputError(fmt::format("{}: the last layer has {} outputs; a DNPU surrogate has one output current", name, weights.back().rows()));
  if (!voltage_ranges_V.empty()) {
    if (voltage_ranges_V.size() != n_inputs())
      throw InputError(fmt::format("{}: {} voltage ranges for {} electrodes", name, voltage_ranges_V.size(), n_inputs()));
    for (std::size_t e = 0; e < voltage_ranges_V.size(); ++e)
      if (!(voltage_ranges_V[e][0] < voltage_ranges_V[e][1]) || !std::isfinite(voltage_ranges_V[e][0]) || !std::isfinite(voltage_ranges_V[e][1]))
        throw InputError(fmt::format("{}: voltage range of e{} is [{}, {}] (needs finite min < max)", name, e, voltage_ranges_V[e][0], voltage_ranges_V[e][1]));
  }
  if (!std::isfinite(amplification) || amplification == 0) throw InputError(fmt::format("{}: amplification = {} (needs a finite non-zero value)", name, amplification));
  if (!(clip_min_nA < clip_max_nA)) throw InputError(fmt::format("{}: clipping [{}, {}] nA is empty", name, clip_min_nA, clip_max_nA));
  if (!(noise_sd_nA >= 0)) throw InputError(fmt::format("{}: noise_sd_nA = {} (needs >= 0)", name, noise_sd_nA));
}

Eigen::VectorXd SurrogateModel::forward(const Eigen::MatrixXd& v, Tape& tape) const {
  tape.pre.clear();
  Eigen::MatrixXd h = v;
  for (std::size_t l = 0; l + 1 < weights.size(); ++l) {
    Eigen::MatrixXd z;
    matmul(z, weights[l], false, h);
    z.colwise() += biases[l];
    tape.pre.push_back(z);
    apply_activation(activation, z);
    h = std::move(z);
  }
  Eigen::MatrixXd z = weights.back() * h;
  tape.unclipped_nA = ((z.row(0).array() + biases.back()(0)) * amplification).matrix().transpose();
  tape.out_nA = tape.unclipped_nA.cwiseMax(clip_min_nA).cwiseMin(clip_max_nA);
  return tape.out_nA;
}

Eigen::VectorXd SurrogateModel::eval(const Eigen::MatrixXd& v) const {
  Tape tape;
  return forward(v, tape);
}

Eigen::MatrixXd SurrogateModel::backward(const Tape& tape, const Eigen::VectorXd& dl_dout) const {
  Eigen::RowVectorXd g(dl_dout.size());
  for (Eigen::Index k = 0; k < dl_dout.size(); ++k) {
    const double u = tape.unclipped_nA(k);
    g(k) = (u < clip_min_nA || u > clip_max_nA) ? 0.0 : dl_dout(k) * amplification;
  }
  Eigen::MatrixXd G = weights.back().transpose() * g;  // (in_L x batch)
  Eigen::MatrixXd next;
  for (std::size_t l = weights.size() - 1; l-- > 0;) {
    if (activation == Activation::relu) G = (tape.pre[l].array() > 0.0).select(G.array(), 0.0);
    else G.array() *= activation_derivative(activation, tape.pre[l]).array();
    matmul(next, weights[l], true, G);
    G.swap(next);
  }
  return G;
}

Eigen::MatrixXd SurrogateModel::input_gradient(const Eigen::MatrixXd& v) const {
  Tape tape;
  forward(v, tape);
  return backward(tape, Eigen::VectorXd::Ones(v.cols()));
}

std::vector<std::string> SurrogateModel::range_violations(const Eigen::MatrixXd& v, double tol, std::size_t max_report) const {
  std::vector<std::string> out;
  if (voltage_ranges_V.empty()) return out;
  std::size_t count = 0;
  for (Eigen::Index s = 0; s < v.cols(); ++s)
    for (Eigen::Index e = 0; e < v.rows() && e < static_cast<Eigen::Index>(voltage_ranges_V.size()); ++e) {
      const auto& r = voltage_ranges_V[static_cast<std::size_t>(e)];
      const double x = v(e, s);
      if (!(x >= r[0] - tol && x <= r[1] + tol)) {
        if (count < max_report) out.push_back(fmt::format("sample {}, e{} = {} V outside [{}, {}]", s, e, x, r[0], r[1]));
        ++count;
      }
    }
  if (count > max_report) out.push_back(fmt::format("... {} violations in all", count));
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Reading pickled values

nlohmann::json py_to_json(const PyPtr& v, const TorchFile* file, int depth) {
  if (!v) return nullptr;
  if (depth > 48) return "<nested too deep>";
  auto num = [](double x) -> nlohmann::json {
    if (std::isfinite(x)) return x;
    return std::isnan(x) ? "nan" : (x > 0 ? "inf" : "-inf");
  };
  switch (v->type) {
    case T::none: return nullptr;
    case T::boolean: return v->b;
    case T::integer: return v->big ? nlohmann::json("<big integer>") : nlohmann::json(v->i);
    case T::floating: return num(v->f);
    case T::string: return v->s;
    case T::bytes: return fmt::format("<{} bytes>", v->s.size());
    case T::tuple: case T::list: case T::set: {
      nlohmann::json a = nlohmann::json::array();
      for (const auto& x : v->items) a.push_back(py_to_json(x, file, depth + 1));
      return a;
    }
    case T::dict: {
      nlohmann::json o = nlohmann::json::object();
      for (const auto& [k, x] : v->entries) {
        std::string key = k->type == T::string ? k->s : (k->type == T::integer && !k->big ? std::to_string(k->i) : k->describe());
        o[key] = py_to_json(x, file, depth + 1);
      }
      return o;
    }
    case T::ndarray: {
      if (!v->array->filled) return "<numpy array>";
      const auto vals = ndarray_values(*v->array, "array");
      const auto& shp = v->array->shape;
      if (shp.empty()) return vals.empty() ? nlohmann::json(nullptr) : num(vals[0]);
      if (vals.size() > 4096) return fmt::format("<numpy array of {} values>", vals.size());
      // nest by shape
      std::function<nlohmann::json(std::size_t, std::size_t)> nest = [&](std::size_t dim, std::size_t off) -> nlohmann::json {
        nlohmann::json a = nlohmann::json::array();
        std::size_t stride = 1;
        for (std::size_t d = dim + 1; d < shp.size(); ++d) stride *= shp[d];
        for (std::size_t i = 0; i < shp[dim]; ++i) a.push_back(dim + 1 == shp.size() ? num(vals[off + i]) : nest(dim + 1, off + i * stride));
        return a;
      };
      return nest(0, 0);
    }
    case T::tensor: {
      nlohmann::json o;
      o["tensor"] = v->tensor->size;
      o["dtype"] = scalar_name(v->tensor->storage->dtype);
      return o;
    }
    case T::global: return fmt::format("<{}>", v->s);
    case T::object: return fmt::format("<object {}>", v->callable && v->callable->type == T::global ? v->callable->s : "?");
    case T::storage: return "<storage>";
    case T::dtype: return scalar_name(v->dtype);
    case T::mark: return "<mark>";
  }
  return nullptr;
}

namespace {

struct NumericValue {
  std::vector<std::size_t> shape;
  std::vector<double> values;
};

/// Numbers, nested lists/tuples, numpy arrays and tensors as a flat array with a shape; false otherwise.
bool numeric(const PyPtr& v, const TorchFile& f, NumericValue& out, int depth = 0) {
  if (!v || depth > 16) return false;
  if (v->is_number()) { out.shape.clear(); out.values = {v->number()}; return true; }
  if (v->type == T::ndarray) {
    if (!v->array->filled) return false;
    out.shape = v->array->shape;
    out.values = ndarray_values(*v->array, f.name);
    return true;
  }
  if (v->type == T::tensor) {
    auto d = tensor_data(f, *v->tensor, "tensor");
    out.shape = d.shape;
    out.values = std::move(d.values);
    return true;
  }
  if (v->type == T::list || v->type == T::tuple) {
    out.values.clear();
    std::vector<std::size_t> inner;
    bool first = true;
    for (const auto& x : v->items) {
      NumericValue c;
      if (!numeric(x, f, c, depth + 1)) return false;
      if (first) inner = c.shape;
      else if (c.shape != inner) return false;
      first = false;
      out.values.insert(out.values.end(), c.values.begin(), c.values.end());
    }
    out.shape = {v->items.size()};
    out.shape.insert(out.shape.end(), inner.begin(), inner.end());
    return true;
  }
  return false;
}

PyPtr get_path(const PyPtr& root, const std::vector<std::string>& path) {
  PyPtr v = root;
  for (const auto& k : path) {
    if (!v || v->type != T::dict) return nullptr;
    v = v->get(k);
  }
  return v;
}

/// Breadth-first search for the shallowest value under `key` in nested dicts.
PyPtr find_key(const PyPtr& root, const std::string& key) {
  std::deque<std::pair<PyPtr, int>> q{{root, 0}};
  std::set<const PyValue*> seen;
  while (!q.empty()) {
    auto [v, d] = q.front();
    q.pop_front();
    if (!v || d > 32 || !seen.insert(v.get()).second) continue;
    if (v->type == T::dict) {
      if (auto x = v->get(key)) return x;
      for (const auto& [k, x] : v->entries) q.emplace_back(x, d + 1);
    }
  }
  return nullptr;
}

struct Named {
  std::string path;
  PyPtr v;
};

std::string join(const std::string& a, const std::string& b) { return a.empty() ? b : a + "." + b; }

void walk(const PyPtr& v, const std::string& path, int depth, std::vector<Named>& tensors, std::vector<Named>& infos,
          std::set<const PyValue*>& seen) {
  if (!v || depth > 64 || !seen.insert(v.get()).second) return;
  switch (v->type) {
    case T::tensor: tensors.push_back({path, v}); break;
    case T::dict:
      for (const auto& [k, x] : v->entries) {
        std::string key;
        if (k->type == T::string) key = k->s;
        else if (k->type == T::integer && !k->big) key = std::to_string(k->i);
        else continue;
        if (key == "info" && x && x->type == T::dict) infos.push_back({join(path, key), x});
        // torch.save(module): attributes _modules/_parameters/_buffers do not appear in state_dict keys
        const bool transparent = key == "_modules" || key == "_parameters" || key == "_buffers";
        walk(x, transparent ? path : join(path, key), depth + 1, tensors, infos, seen);
      }
      break;
    case T::list: case T::tuple:
      for (std::size_t i = 0; i < v->items.size(); ++i) walk(v->items[i], join(path, std::to_string(i)), depth + 1, tensors, infos, seen);
      break;
    case T::object:
      if (v->state) walk(v->state, path, depth + 1, tensors, infos, seen);
      break;
    default: break;
  }
}

struct LinearLayer {
  long index = 0;
  PyPtr weight, bias;
  std::string weight_key, bias_key;
};

struct Stack {
  std::string prefix;
  std::vector<LinearLayer> layers;  // sorted by index
  std::string problem;              // why it is not a valid 1-output MLP ("" = valid)
};

bool all_digits(const std::string& s) { return !s.empty() && s.size() < 10 && s.find_first_not_of("0123456789") == std::string::npos; }

std::vector<Stack> find_stacks(const std::vector<Named>& tensors) {
  std::map<std::string, std::map<long, LinearLayer>> groups;
  std::map<std::string, PyPtr> by_path;
  for (const auto& t : tensors) by_path[t.path] = t.v;
  for (const auto& t : tensors) {
    const std::string suffix = ".weight";
    std::string stem;
    if (t.path.size() > suffix.size() && t.path.compare(t.path.size() - suffix.size(), suffix.size(), suffix) == 0)
      stem = t.path.substr(0, t.path.size() - suffix.size());
    else continue;
    if (t.v->tensor->size.size() != 2) continue;
    const auto dot = stem.rfind('.');
    const std::string prefix = dot == std::string::npos ? "" : stem.substr(0, dot);
    const std::string idx = dot == std::string::npos ? stem : stem.substr(dot + 1);
    if (!all_digits(idx)) continue;
    LinearLayer L;
    L.index = std::stol(idx);
    L.weight = t.v;
    L.weight_key = t.path;
    if (auto it = by_path.find(stem + ".bias"); it != by_path.end()) { L.bias = it->second; L.bias_key = stem + ".bias"; }
    groups[prefix][L.index] = L;
  }
  std::vector<Stack> out;
  for (auto& [prefix, layers] : groups) {
    Stack s;
    s.prefix = prefix;
    for (auto& [_, L] : layers) s.layers.push_back(L);
    for (std::size_t l = 0; l < s.layers.size() && s.problem.empty(); ++l) {
      const auto& w = s.layers[l].weight->tensor->size;
      if (s.layers[l].bias) {
        const auto& b = s.layers[l].bias->tensor->size;
        if (b.size() != 1 || b[0] != w[0]) s.problem = fmt::format("{} has shape [{}, {}] but its bias is not [{}]", s.layers[l].weight_key, w[0], w[1], w[0]);
      }
      if (l > 0 && w[1] != s.layers[l - 1].weight->tensor->size[0])
        s.problem = fmt::format("{} takes {} inputs but {} gives {}", s.layers[l].weight_key, w[1], s.layers[l - 1].weight_key, s.layers[l - 1].weight->tensor->size[0]);
    }
    if (s.problem.empty() && s.layers.back().weight->tensor->size[0] != 1)
      s.problem = fmt::format("{} has {} outputs (a DNPU surrogate ends in one output)", s.layers.back().weight_key, s.layers.back().weight->tensor->size[0]);
    out.push_back(std::move(s));
  }
  return out;
}

bool prefix_matches(const std::string& stack_prefix, const std::string& want) {
  if (want.empty()) return true;
  std::string w = want;
  while (!w.empty() && w.back() == '.') w.pop_back();
  if (stack_prefix == w) return true;
  const std::string a = "." + stack_prefix + ".", b = "." + w + ".";
  return a.find(b) != std::string::npos;
}

std::size_t common_prefix(const std::string& a, const std::string& b) {
  std::size_t n = 0;
  while (n < a.size() && n < b.size() && a[n] == b[n]) ++n;
  return n;
}

/// The tensor whose path ends with `name` closest (longest shared prefix) to the model's prefix.
PyPtr nearest_tensor(const std::vector<Named>& tensors, const std::string& name, const std::string& model_prefix, std::string* where) {
  PyPtr best;
  std::size_t best_score = 0;
  for (const auto& t : tensors) {
    const bool match = t.path == name || (t.path.size() > name.size() && t.path.compare(t.path.size() - name.size() - 1, name.size() + 1, "." + name) == 0);
    if (!match) continue;
    const std::size_t score = common_prefix(t.path, model_prefix) + 1;
    if (score > best_score) { best = t.v; best_score = score; if (where) *where = t.path; }
  }
  return best;
}

}  // namespace

SurrogateModel surrogate_from_torch(const TorchFile& f, const SurrogateLoadOptions& opts) {
  std::vector<Named> tensors, infos;
  std::set<const PyValue*> seen;
  walk(f.root, "", 0, tensors, infos, seen);
  if (tensors.empty()) throw InputError(fmt::format("{}: the file holds no tensors (top level is {})", f.name, f.root->describe()));
  auto stacks = find_stacks(tensors);
  std::vector<const Stack*> valid, wanted;
  // A prefix that names a stack exactly selects that stack, even when it also occurs inside another one's
  // ('node.model' and 'outer.node.model'): every prefix the messages below list can be chosen.
  std::string exact = opts.key_prefix;
  while (!exact.empty() && exact.back() == '.') exact.pop_back();
  const bool has_exact = !opts.key_prefix.empty() &&
                         std::any_of(stacks.begin(), stacks.end(), [&](const Stack& s) { return s.prefix == exact; });
  for (const auto& s : stacks)
    if (has_exact ? s.prefix == exact : prefix_matches(s.prefix, opts.key_prefix)) {
      wanted.push_back(&s);
      if (s.problem.empty()) valid.push_back(&s);
    }
  auto list_stacks = [&] {
    std::string l;
    for (const auto& s : stacks) l += fmt::format("\n  '{}' ({} layers{})", s.prefix, s.layers.size(), s.problem.empty() ? "" : ": " + s.problem);
    return l;
  };
  if (valid.empty()) {
    if (stacks.empty())
      throw InputError(fmt::format("{}: no Linear layers found (no tensors named <prefix>.<index>.weight of rank 2 among {} tensors, e.g. '{}')", f.name, tensors.size(), tensors.front().path));
    if (!wanted.empty() && !wanted.front()->problem.empty())
      throw InputError(fmt::format("{}: the Linear stack '{}' is not a surrogate MLP: {}", f.name, wanted.front()->prefix, wanted.front()->problem));
    throw InputError(fmt::format("{}: no Linear stack matches the key prefix '{}'; stacks in the file:{}", f.name, opts.key_prefix, list_stacks()));
  }
  if (valid.size() > 1)
    throw InputError(fmt::format("{}: {} Linear stacks could be the surrogate{}; choose one by its full key prefix (--prefix):{}", f.name,
                                 valid.size(), opts.key_prefix.empty() ? "" : fmt::format(" with key prefix '{}'", opts.key_prefix), list_stacks()));
  const Stack& st = *valid.front();

  SurrogateModel m;
  m.source = {{"file", f.name}, {"layout", f.layout}, {"key_prefix", st.prefix}};
  bool any_f64 = false;
  for (const auto& L : st.layers) {
    auto w = tensor_data(f, *L.weight->tensor, L.weight_key);
    if (w.dtype != ScalarType::float32 && w.dtype != ScalarType::float64 && w.dtype != ScalarType::float16 && w.dtype != ScalarType::bfloat16)
      throw InputError(fmt::format("{}: {} is {}; weights must be floating point", f.name, L.weight_key, scalar_name(w.dtype)));
    any_f64 = any_f64 || w.dtype == ScalarType::float64;
    Eigen::MatrixXd W(static_cast<Eigen::Index>(w.rows()), static_cast<Eigen::Index>(w.cols()));
    for (std::size_t r = 0; r < w.rows(); ++r)
      for (std::size_t c = 0; c < w.cols(); ++c) W(static_cast<Eigen::Index>(r), static_cast<Eigen::Index>(c)) = w.values[r * w.cols() + c];
    Eigen::VectorXd b = Eigen::VectorXd::Zero(W.rows());
    if (L.bias) {
      auto bd = tensor_data(f, *L.bias->tensor, L.bias_key);
      for (std::size_t r = 0; r < bd.values.size(); ++r) b(static_cast<Eigen::Index>(r)) = bd.values[r];
    } else {
      m.notes.push_back(fmt::format("{} has no bias: zero bias used", L.weight_key));
    }
    m.weights.push_back(std::move(W));
    m.biases.push_back(std::move(b));
  }
  m.dtype = any_f64 ? ScalarType::float64 : ScalarType::float32;
  const std::size_t n_in = m.n_inputs();

  // info dict: the shallowest one named "info"
  PyPtr info;
  std::string info_path;
  for (const auto& i : infos)
    if (!info || i.path.size() < info_path.size()) { info = i.v; info_path = i.path; }
  if (info) m.info = py_to_json(info, &f);

  // Activation
  m.activation = Activation::relu;
  if (info) {
    PyPtr a = get_path(info, {"model_structure", "activation"});
    if (!a) a = find_key(info, "activation");
    if (a && a->type == T::string) {
      if (!parse_activation(a->s, m.activation))
        throw InputError(fmt::format("{}: unsupported activation '{}' in {}.activation (supported: relu, elu, tanh, sigmoid, hardtanh, leaky_relu)", f.name, a->s, info_path));
      m.notes.push_back(fmt::format("activation '{}' from the info dict", a->s));
    } else {
      m.notes.push_back("no activation in the info dict: relu assumed (brains-py default)");
    }
  } else {
    m.notes.push_back("no info dict: relu assumed (brains-py default)");
  }

  // Voltage ranges
  auto set_ranges = [&](const NumericValue& nv, const std::string& where) {
    if (nv.shape.size() != 2 || nv.shape[0] != n_in || nv.shape[1] != 2)
      throw InputError(fmt::format("{}: {} has shape [{}] but the surrogate has {} electrodes (expected [{}, 2])", f.name, where,
                                   fmt::join(nv.shape, ", "), n_in, n_in));
    m.voltage_ranges_V.clear();
    for (std::size_t e = 0; e < n_in; ++e) m.voltage_ranges_V.push_back({nv.values[2 * e], nv.values[2 * e + 1]});
    m.notes.push_back(fmt::format("voltage ranges from {}", where));
  };
  std::string where;
  NumericValue nv;
  if (PyPtr t = nearest_tensor(tensors, "voltage_ranges", st.prefix, &where); t && numeric(t, f, nv)) {
    set_ranges(nv, where);
  } else if (PyPtr r = info ? get_path(info, {"electrode_info", "activation_electrodes", "voltage_ranges"}) : nullptr; r && numeric(r, f, nv)) {
    set_ranges(nv, info_path + ".electrode_info.activation_electrodes.voltage_ranges");
  } else if (PyPtr r2 = info ? find_key(info, "voltage_ranges") : nullptr; r2 && numeric(r2, f, nv)) {
    set_ranges(nv, info_path + "...voltage_ranges");
  } else {
    PyPtr input_data = info ? get_path(info, {"data_info", "input_data"}) : nullptr;
    if (!input_data && info) {
      // any dict holding numeric 'offset' and 'amplitude' lists of n_in values
      std::deque<PyPtr> q{info};
      std::set<const PyValue*> s2;
      while (!q.empty() && !input_data) {
        auto v = q.front();
        q.pop_front();
        if (!v || v->type != T::dict || !s2.insert(v.get()).second) continue;
        NumericValue a, o;
        if (numeric(v->get("amplitude"), f, a) && numeric(v->get("offset"), f, o) && a.values.size() == n_in && o.values.size() == n_in) input_data = v;
        for (const auto& [k, x] : v->entries) q.push_back(x);
      }
    }
    NumericValue amp, off;
    if (input_data && numeric(input_data->get("amplitude"), f, amp) && numeric(input_data->get("offset"), f, off)) {
      if (amp.values.size() != n_in || off.values.size() != n_in)
        throw InputError(fmt::format("{}: {}.data_info.input_data has {} amplitudes and {} offsets for {} electrodes", f.name, info_path, amp.values.size(), off.values.size(), n_in));
      for (std::size_t e = 0; e < n_in; ++e) m.voltage_ranges_V.push_back({off.values[e] - amp.values[e], off.values[e] + amp.values[e]});
      m.notes.push_back("voltage ranges = offset -/+ amplitude of the info dict's input_data");
    } else {
      m.notes.push_back("no voltage ranges in the file: inputs are not range-checked");
    }
  }

  // Amplification
  auto scalar_of = [&](const PyPtr& v, double& x) {
    NumericValue a;
    if (!numeric(v, f, a) || a.values.empty()) return false;
    for (double y : a.values)
      if (y != a.values[0]) return false;
    x = a.values[0];
    return true;
  };
  double amp_v = 1;
  if (PyPtr t = nearest_tensor(tensors, "amplification", st.prefix, &where); t && scalar_of(t, amp_v)) {
    m.notes.push_back(fmt::format("amplification from {}", where));
  } else if (PyPtr a = info ? get_path(info, {"electrode_info", "output_electrodes", "amplification"}) : nullptr; a && scalar_of(a, amp_v)) {
    m.notes.push_back("amplification from info.electrode_info.output_electrodes.amplification");
  } else if (PyPtr a2 = info ? get_path(info, {"data_info", "processor", "amplification"}) : nullptr; a2 && scalar_of(a2, amp_v)) {
    m.notes.push_back("amplification from info.data_info.processor.amplification");
  } else if (PyPtr a3 = info ? find_key(info, "amplification") : nullptr; a3 && scalar_of(a3, amp_v)) {
    m.notes.push_back("amplification from the info dict (first 'amplification' key)");
  } else {
    amp_v = 1;
    m.notes.push_back("no amplification in the file: 1 assumed (output in raw model units)");
  }
  m.amplification = amp_v;

  // Clipping (of the amplified output, nA)
  PyPtr clip;
  if (info) {
    clip = get_path(info, {"electrode_info", "output_electrodes", "clipping_value"});
    if (!clip) clip = get_path(info, {"data_info", "clipping_value"});
    if (!clip) clip = find_key(info, "clipping_value");
  }
  if (!clip || clip->type == T::none) {
    if (PyPtr t = nearest_tensor(tensors, "clipping_value", st.prefix, &where)) clip = t;
  }
  if (clip && clip->type != T::none) {
    NumericValue c;
    if (!numeric(clip, f, c)) throw InputError(fmt::format("{}: clipping_value is {} (expected None, [min, max] or a number)", f.name, clip->describe()));
    if (c.values.size() == 2) { m.clip_min_nA = c.values[0]; m.clip_max_nA = c.values[1]; }
    else if (c.values.size() == 1) { m.clip_min_nA = -std::abs(c.values[0]); m.clip_max_nA = std::abs(c.values[0]); }
    else throw InputError(fmt::format("{}: clipping_value has {} values (expected 2)", f.name, c.values.size()));
    m.notes.push_back(fmt::format("output clipped to [{}, {}] nA", m.clip_min_nA, m.clip_max_nA));
  }
  m.validate(f.name);
  return m;
}

// ---------------------------------------------------------------------------------------------------
// Plain format

namespace {

double json_number(const nlohmann::json& j, const std::string& file, const std::string& field) {
  if (j.is_number()) return j.get<double>();
  if (j.is_string()) {
    const auto s = j.get<std::string>();
    if (s == "inf") return std::numeric_limits<double>::infinity();
    if (s == "-inf") return -std::numeric_limits<double>::infinity();
  }
  throw InputError(fmt::format("{}: {} = {} (expected a number)", file, field, j.dump()));
}

nlohmann::json number_json(double x) {
  if (std::isfinite(x)) return x;
  return x > 0 ? "inf" : "-inf";
}

}  // namespace

void save_surrogate_plain(const SurrogateModel& m, const std::string& dir) {
  m.validate("surrogate");
  make_dirs(dir);
  nlohmann::json j;
  j["format"] = "nnspice-dnpu-surrogate/1";
  j["electrodes"] = m.n_inputs();
  j["activation"] = activation_name(m.activation);
  j["dtype"] = scalar_name(m.dtype);
  j["output_unit"] = "nA";
  j["amplification"] = m.amplification;
  j["clipping_nA"] = nlohmann::json::array({number_json(m.clip_min_nA), number_json(m.clip_max_nA)});
  j["noise_sd_nA"] = m.noise_sd_nA;
  nlohmann::json ranges = nlohmann::json::array();
  for (const auto& r : m.voltage_ranges_V) ranges.push_back({r[0], r[1]});
  j["voltage_ranges_V"] = m.voltage_ranges_V.empty() ? nlohmann::json(nullptr) : ranges;
  nlohmann::json layers = nlohmann::json::array();
  for (std::size_t l = 0; l < m.weights.size(); ++l) {
    const auto& W = m.weights[l];
    const std::string wn = fmt::format("layer_{}_weight.npy", l), bn = fmt::format("layer_{}_bias.npy", l);
    std::vector<double> w(static_cast<std::size_t>(W.size()));
    for (Eigen::Index r = 0; r < W.rows(); ++r)
      for (Eigen::Index c = 0; c < W.cols(); ++c) w[static_cast<std::size_t>(r * W.cols() + c)] = W(r, c);
    std::vector<double> b(m.biases[l].data(), m.biases[l].data() + m.biases[l].size());
    const std::vector<std::size_t> wshape{static_cast<std::size_t>(W.rows()), static_cast<std::size_t>(W.cols())}, bshape{b.size()};
    if (m.dtype == ScalarType::float32) {
      write_npy(dir + "/" + wn, std::vector<float>(w.begin(), w.end()), wshape);
      write_npy(dir + "/" + bn, std::vector<float>(b.begin(), b.end()), bshape);
    } else {
      write_npy(dir + "/" + wn, w, wshape);
      write_npy(dir + "/" + bn, b, bshape);
    }
    layers.push_back({{"weight", wn}, {"bias", bn}, {"in", W.cols()}, {"out", W.rows()}});
  }
  j["layers"] = layers;
  j["source"] = m.source;
  if (!m.info.is_null()) j["info"] = m.info;
  write_json(dir + "/model.json", j);
}

namespace {

SurrogateModel load_plain(const std::string& json_path) {
  nlohmann::json j = load_json_file(json_path);  // syntax errors and duplicate keys: InputError naming file:line
  const std::string dir = std::filesystem::path(json_path).parent_path().string();
  auto need = [&](const char* key) -> const nlohmann::json& {
    if (!j.is_object() || !j.contains(key)) throw InputError(fmt::format("{}: missing field '{}'", json_path, key));
    return j.at(key);
  };
  if (need("format") != "nnspice-dnpu-surrogate/1")
    throw InputError(fmt::format("{}: format = {} (expected \"nnspice-dnpu-surrogate/1\")", json_path, j["format"].dump()));
  static const std::set<std::string> known = {"format", "electrodes", "activation", "dtype", "output_unit", "amplification", "clipping_nA",
                                              "noise_sd_nA", "voltage_ranges_V", "layers", "source", "info"};
  for (const auto& [k, _] : j.items())
    if (!known.count(k)) throw InputError(fmt::format("{}: unknown field '{}'", json_path, k));
  SurrogateModel m;
  const auto& act = need("activation");
  if (!act.is_string() || !parse_activation(act.get<std::string>(), m.activation))
    throw InputError(fmt::format("{}: activation = {} (supported: relu, elu, tanh, sigmoid, hardtanh, leaky_relu)", json_path, act.dump()));
  m.amplification = json_number(need("amplification"), json_path, "amplification");
  if (j.contains("clipping_nA") && !j["clipping_nA"].is_null()) {
    const auto& c = j["clipping_nA"];
    if (!c.is_array() || c.size() != 2) throw InputError(fmt::format("{}: clipping_nA = {} (expected [min, max])", json_path, c.dump()));
    m.clip_min_nA = json_number(c[0], json_path, "clipping_nA[0]");
    m.clip_max_nA = json_number(c[1], json_path, "clipping_nA[1]");
  }
  if (j.contains("noise_sd_nA")) m.noise_sd_nA = json_number(j["noise_sd_nA"], json_path, "noise_sd_nA");
  const auto& layers = need("layers");
  if (!layers.is_array() || layers.empty()) throw InputError(fmt::format("{}: layers must be a non-empty list", json_path));
  bool f64 = false;
  for (std::size_t l = 0; l < layers.size(); ++l) {
    const auto& L = layers[l];
    if (!L.is_object() || !L.contains("weight") || !L["weight"].is_string())
      throw InputError(fmt::format("{}: layers[{}] needs a 'weight' file name", json_path, l));
    const NpyArray w = read_npy(dir + "/" + L["weight"].get<std::string>());
    if (w.shape.size() != 2) throw InputError(fmt::format("{}: layers[{}].weight has rank {} (expected 2)", json_path, l, w.shape.size()));
    f64 = f64 || w.descr.find("f8") != std::string::npos;
    Eigen::MatrixXd W(static_cast<Eigen::Index>(w.shape[0]), static_cast<Eigen::Index>(w.shape[1]));
    for (std::size_t r = 0; r < w.shape[0]; ++r)
      for (std::size_t c = 0; c < w.shape[1]; ++c) W(static_cast<Eigen::Index>(r), static_cast<Eigen::Index>(c)) = w.data[r * w.shape[1] + c];
    Eigen::VectorXd b = Eigen::VectorXd::Zero(W.rows());
    if (L.contains("bias") && !L["bias"].is_null()) {
      if (!L["bias"].is_string()) throw InputError(fmt::format("{}: layers[{}].bias must be a file name", json_path, l));
      const NpyArray bn = read_npy(dir + "/" + L["bias"].get<std::string>());
      if (bn.size() != static_cast<std::size_t>(W.rows()))
        throw InputError(fmt::format("{}: layers[{}].bias has {} values for {} outputs", json_path, l, bn.size(), W.rows()));
      for (std::size_t r = 0; r < bn.size(); ++r) b(static_cast<Eigen::Index>(r)) = bn.data[r];
    }
    m.weights.push_back(std::move(W));
    m.biases.push_back(std::move(b));
  }
  m.dtype = f64 ? ScalarType::float64 : ScalarType::float32;
  if (j.contains("voltage_ranges_V") && !j["voltage_ranges_V"].is_null()) {
    const auto& r = j["voltage_ranges_V"];
    if (!r.is_array()) throw InputError(fmt::format("{}: voltage_ranges_V must be a list of [min, max]", json_path));
    for (std::size_t e = 0; e < r.size(); ++e) {
      if (!r[e].is_array() || r[e].size() != 2) throw InputError(fmt::format("{}: voltage_ranges_V[{}] = {} (expected [min, max])", json_path, e, r[e].dump()));
      m.voltage_ranges_V.push_back({json_number(r[e][0], json_path, "voltage_ranges_V"), json_number(r[e][1], json_path, "voltage_ranges_V")});
    }
  }
  if (j.contains("electrodes") && j["electrodes"].is_number_integer() && j["electrodes"].get<std::size_t>() != m.n_inputs())
    throw InputError(fmt::format("{}: electrodes = {} but the first layer takes {} inputs", json_path, j["electrodes"].dump(), m.n_inputs()));
  m.source = j.value("source", nlohmann::json::object());
  m.source["plain_file"] = json_path;
  if (j.contains("info")) m.info = j["info"];
  m.validate(json_path);
  return m;
}

}  // namespace

SurrogateModel load_surrogate(const std::string& path_in, const SurrogateLoadOptions& opts) {
  std::string path = path_in;
  if (!std::filesystem::exists(path)) {
    const std::string resolved = resolve_data_path(path);  // shipped models: "dnpu/si-boron-2020"
    if (std::filesystem::exists(resolved)) path = resolved;
    else throw InputError(fmt::format("cannot read model {}: no such file or directory", path_in));
  }
  if (std::filesystem::is_directory(path)) {
    const std::string j = path + "/model.json";
    if (!std::filesystem::exists(j)) throw InputError(fmt::format("{}: a model directory needs a model.json (the plain format)", path));
    return load_plain(j);
  }
  if (path.size() >= 5 && path.compare(path.size() - 5, 5, ".json") == 0) return load_plain(path);
  return surrogate_from_torch(load_torch_file(path), opts);
}

}  // namespace nnspice::dnpu
