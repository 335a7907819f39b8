#include "nnspice/netlist/builder.hpp"

#include <fmt/format.h>

#include <cmath>
#include <string>
#include <vector>

#include "nnspice/common/error.hpp"

namespace nnspice::netlist {

Circuit circuit_for_process(const Process& pr, const std::string& title) {
  Circuit c;
  c.title = title;
  c.includes.push_back(pr.model_card);
  c.temp_C = pr.temp_C;
  c.options = pr.ngspice_options;
  c.control.clear();
  return c;
}

void add_soma(Circuit& c, const Process& pr, std::size_t l, std::size_t i, bool axon, const std::string& g, const std::string& p,
              const std::string& n, const double* dv) {
  const std::string vdd = names::kVdd, gnd = "0";
  const auto& sz = pr.size(DeviceRole::soma);
  auto fet = [&](int k, const std::string& d, const std::string& gate, const std::string& s, Polarity pol) {
    c.add_mosfet(names::soma_fet(l, i, k), d, gate, s, pol == Polarity::n ? gnd : vdd, pr.model(pol), sz.w_m, sz.l_m, dv ? dv[k] : 0.0);
  };
  fet(0, g, g, gnd, Polarity::n);  // input diode: its gate voltage is the activation
  if (!axon) return;
  fet(1, p, g, gnd, Polarity::n);  // mirrors the input current into M2
  fet(2, p, p, vdd, Polarity::p);  // pFET diode: Vp
  fet(3, n, p, vdd, Polarity::p);  // copies into M4
  fet(4, n, n, gnd, Polarity::n);  // nFET diode: Vn
}

void add_synapse(Circuit& c, const Process& pr, std::size_t l, std::size_t j, std::size_t i, int code, const std::string& pre_n,
                 const std::string& pre_p, const std::string& out, const std::string& base, bool bit_caps, const double* dv) {
  // B magnitude bits: M10.. nFET mirrors of bits 0..B-1, then pFET mirrors, the sign switches, the bit switches.
  const int B = pr.weight_bits;
  const std::string vdd = names::kVdd, gnd = "0";
  const int mag = code < 0 ? -code : code;
  const std::string sign_gate = code < 0 ? vdd : gnd;  // VDD powers the negative (nFET) branch
  const std::string sn = base + "sn", sp = base + "sp";
  std::vector<std::string> b(static_cast<std::size_t>(B));
  for (int m = 0; m < B; ++m) b[static_cast<std::size_t>(m)] = base + "b" + std::to_string(m);
  auto fet = [&](int k, const std::string& d, const std::string& g, const std::string& s, Polarity pol, const DeviceSize& sz) {
    c.add_mosfet(names::synapse_fet(l, j, i, k), d, g, s, pol == Polarity::n ? gnd : vdd, pr.model(pol), sz.w_m, sz.l_m, dv ? dv[k - 10] : 0.0);
  };
  const DeviceSize& sw = pr.size(DeviceRole::sw);
  for (int m = 0; m < B; ++m) fet(10 + m, b[static_cast<std::size_t>(m)], pre_n, sn, Polarity::n, pr.mirror_size(m));
  for (int m = 0; m < B; ++m) fet(10 + B + m, b[static_cast<std::size_t>(m)], pre_p, sp, Polarity::p, pr.mirror_size(m));
  fet(10 + 2 * B, sn, sign_gate, gnd, Polarity::n, sw);
  fet(11 + 2 * B, sp, sign_gate, vdd, Polarity::p, sw);
  for (int m = 0; m < B; ++m) fet(12 + 2 * B + m, b[static_cast<std::size_t>(m)], (mag >> m) & 1 ? vdd : gnd, out, Polarity::n, sw);
  if (bit_caps)
    for (int m = 0; m < B; ++m)
      if (pr.c_bit(m) > 0) c.add_capacitor(fmt::format("CB{}_{}_{}_{}", l, j, i, m), b[static_cast<std::size_t>(m)], gnd, pr.c_bit(m));
}

Circuit build_network(const NetworkSpec& spec, const WeightCodes& weights, const Process& pr, const std::vector<double>* delvto,
                      const BuildOptions& opt) {
  check_network_size(spec);
  if (spec.weight_bits != pr.weight_bits)
    throw InputError(fmt::format("network {} has {}-bit synapses, process {} {} (weight_bits)", spec.str(), spec.weight_bits, pr.name, pr.weight_bits));
  validate_weights(weights, spec, "weights");
  const size_t n_fets = count_transistors(spec);
  if (delvto && delvto->size() != n_fets)
    throw InputError(fmt::format("chip holds {} transistor threshold shifts, network {} has {} transistors", delvto->size(), spec.str(), n_fets));
  const size_t N0 = spec.layers[0];
  if (!opt.input_A.empty() && opt.input_A.size() != N0)
    throw InputError(fmt::format("{} input currents given for an input layer of {} neurons", opt.input_A.size(), N0));
  for (size_t i = 0; i < opt.input_A.size(); ++i)
    if (!std::isfinite(opt.input_A[i]) || opt.input_A[i] < 0 || opt.input_A[i] > 1e-3)
      throw InputError(fmt::format("input current {} = {} A is outside 0..1e-3 A (inputs are rectified currents)", i, opt.input_A[i]));

  Circuit c;
  c.title = opt.title.empty() ? fmt::format("nnspice {}", spec.str()) : opt.title;
  c.comments = opt.comments;
  c.includes.push_back(pr.model_card);
  c.temp_C = pr.temp_C;
  c.options = pr.ngspice_options;
  c.control = opt.control;
  c.elements.reserve(n_fets + 4 * spec.n_synapses() + 4 * (spec.layers.size() * 100));

  const std::string vdd = names::kVdd, gnd = "0";
  const double* dv = delvto ? delvto->data() : nullptr;
  auto at = [&](std::size_t idx) { return dv ? dv + idx : nullptr; };

  c.add_vsource(names::kSupply, vdd, gnd, pr.vdd_V);
  for (size_t i = 0; i < N0; ++i) c.add_isource(names::input_source(i), gnd, names::neuron_sum_node(0, i), opt.input_A.empty() ? 0.0 : opt.input_A[i]);

  // Somas, in canonical order (layer, neuron, M0..M4), each behind its 0 V probe.
  const size_t L = spec.layers.size();
  for (size_t l = 0; l < L; ++l)
    for (size_t i = 0; i < static_cast<size_t>(spec.layers[l]); ++i) {
      const std::string x = names::neuron_sum_node(l, i), g = names::neuron_in_node(l, i);
      c.add_vsource(names::probe(l, i), x, g, 0.0);
      add_soma(c, pr, l, i, l + 1 < L, g, names::neuron_vp_node(l, i), names::neuron_vn_node(l, i), at(soma_fet_index(spec, l, i, 0)));
    }

  // Synapses: layer, post j, pre i, M10.. (11 transistors with 3 bits).
  for (size_t l = 0; l + 1 < L; ++l) {
    const CodeMatrix& w = weights[l];
    for (size_t j = 0; j < w.rows; ++j)
      for (size_t i = 0; i < w.cols; ++i)
        add_synapse(c, pr, l, j, i, w.at(j, i), names::neuron_vn_node(l, i), names::neuron_vp_node(l, i), names::neuron_sum_node(l + 1, j),
                    fmt::format("w{}_{}_{}", l, j, i), opt.parasitics, at(synapse_fet_index(spec, l, j, i, 10)));
  }

  // Output readout sinks.
  const size_t NL = spec.layers.back();
  for (size_t j = 0; j < NL; ++j) {
    const std::string o = fmt::format("o{}", j);
    if (opt.readout) {
      c.add_vsource(names::readout_probe(j), vdd, o, 0.0);
      const auto& sz = pr.size(DeviceRole::sink);
      c.add_mosfet(names::sink_fet(j), o, names::neuron_in_node(L - 1, j), gnd, gnd, pr.nmos_model, sz.w_m, sz.l_m,
                   dv ? dv[sink_fet_index(spec, j)] : 0.0);
    }
  }

  // Parasitics, lumped per neuron node: fan-out x (Vn, Vp) and fan-in x (output) per-synapse values.
  if (opt.parasitics) {
    for (size_t l = 0; l + 1 < L; ++l) {
      const double fan_out = spec.layers[l + 1], fan_in = spec.layers[l];
      for (size_t i = 0; i < static_cast<size_t>(spec.layers[l]); ++i) {
        if (pr.c_vn_F > 0) c.add_capacitor(fmt::format("CN{}_{}", l, i), names::neuron_vn_node(l, i), gnd, fan_out * pr.c_vn_F);
        if (pr.c_vp_F > 0) c.add_capacitor(fmt::format("CP{}_{}", l, i), names::neuron_vp_node(l, i), vdd, fan_out * pr.c_vp_F);
      }
      for (size_t j = 0; j < static_cast<size_t>(spec.layers[l + 1]); ++j)
        if (pr.c_out_F > 0) c.add_capacitor(fmt::format("CX{}_{}", l + 1, j), names::neuron_sum_node(l + 1, j), gnd, fan_in * pr.c_out_F);
    }
  }
  return c;
}

}  // namespace nnspice::netlist
