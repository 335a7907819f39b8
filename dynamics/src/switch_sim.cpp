#include "nnspice/dynamics/switch_sim.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>

#include "nnspice/common/error.hpp"
#include "nnspice/dynamics/metrics.hpp"
#include "nnspice/dynamics/tabulated.hpp"
#include "nnspice/netlist/builder.hpp"
#include "nnspice/netlist/writer.hpp"

namespace nnspice::dynamics {

using netlist::names::neuron_in_node;
using netlist::names::neuron_sum_node;
using netlist::names::neuron_vn_node;
using netlist::names::neuron_vp_node;

Method parse_method(const std::string& name) {
  if (name == "full") return Method::full;
  if (name == "layerwise") return Method::layerwise;
  if (name == "tabulated") return Method::tabulated;
  throw InputError(fmt::format("--method '{}': expected full, layerwise or tabulated", name));
}

const char* method_name(Method m) { return m == Method::full ? "full" : m == Method::layerwise ? "layerwise" : "tabulated"; }

void SwitchOptions::validate() const {
  // Named as the user wrote them: the dynamics command's option and the field (run YAML / library).
  auto need = [](bool ok, const char* field, double v, const char* constraint) {
    if (ok) return;
    const std::string f = field;
    const char* option = f == "t_stop_s" ? "--t-stop" : f == "t_max_s" ? "--tmax" : f == "t_step_s" ? "--tstep" : "--ramp";
    throw InputError(fmt::format("{} ({}) = {} s. Violated constraint: {}", option, field, v, constraint));
  };
  need(std::isfinite(t_stop_s) && t_stop_s > 0 && t_stop_s <= 1e-2, "t_stop_s", t_stop_s, "0 < t_stop_s <= 1e-2");
  need(std::isfinite(t_max_s) && t_max_s > 0 && t_max_s <= t_stop_s, "t_max_s", t_max_s, "0 < t_max_s <= t_stop_s");
  need(std::isfinite(t_step_s) && t_step_s > 0 && t_step_s <= t_stop_s, "t_step_s", t_step_s, "0 < t_step_s <= t_stop_s");
  need(std::isfinite(ramp_s) && ramp_s > 0 && ramp_s < t_stop_s, "ramp_s", ramp_s, "0 < ramp_s < t_stop_s");
  need(t_stop_s / t_step_s <= 1e6, "t_step_s", t_step_s, "t_stop_s / t_step_s <= 1e6 (output points)");
  need(t_stop_s / t_max_s <= sim::kMaxAnalysisPoints, "t_max_s", t_max_s, "t_stop_s / t_max_s <= 1e7 (time steps; --t-stop / --tmax)");
}

namespace {

std::string num(double x) { return fmt::format("{}", x); }

std::string pwl_step(double a, double b, double ramp_s) { return fmt::format("PWL(0 {} {} {})", num(a), num(ramp_s), num(b)); }

std::string pwl_wave(const std::vector<double>& t, const std::vector<double>& v) {
  std::string s = "PWL(";
  s.reserve(t.size() * 26 + 8);
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (i) s += ' ';
    s += num(t[i]);
    s += ' ';
    s += num(v[i]);
  }
  s += ')';
  return s;
}

// The current delivered by a voltage source from its + terminal into the circuit (ngspice's branch
// current flows from + through the source to -).
std::vector<double> delivered(const sim::Vectors& v, const std::string& source) {
  std::vector<double> i = v.current(source);
  for (double& x : i) x = -x;
  return i;
}

std::vector<double> input_sum(const std::vector<double>& t, double sum_a, double sum_b, double ramp_s) {
  std::vector<double> out(t.size());
  for (std::size_t k = 0; k < t.size(); ++k) out[k] = sum_a + (sum_b - sum_a) * std::min(1.0, std::max(0.0, t[k] / ramp_s));
  return out;
}

int argmax(const std::vector<double>& v) {
  return static_cast<int>(std::max_element(v.begin(), v.end()) - v.begin());
}

void check_inputs(const sim::NetworkChip& chip, const netlist::WeightCodes& w, const std::vector<double>& a, const std::vector<double>& b) {
  netlist::validate_weights(w, chip.spec, "weights");
  const std::size_t n0 = static_cast<std::size_t>(chip.spec.layers[0]);
  for (const auto* v : {&a, &b}) {
    if (v->size() != n0)
      throw InputError(fmt::format("{} input currents given for an input layer of {} neurons", v->size(), n0));
    for (std::size_t i = 0; i < n0; ++i)
      if (!std::isfinite((*v)[i]) || (*v)[i] < 0 || (*v)[i] > 1e-3)
        throw InputError(fmt::format("input current {} = {} A is outside 0..1e-3 A", i, (*v)[i]));
  }
  if (chip.chip.delvto_V.size() != netlist::count_transistors(chip.spec))
    throw InputError(fmt::format("chip holds {} threshold shifts, network {} has {} transistors", chip.chip.delvto_V.size(),
                                 chip.spec.str(), netlist::count_transistors(chip.spec)));
}

// Union of sorted grids (points closer than 1e-15 s merged).
std::vector<double> union_grid(const std::vector<const std::vector<double>*>& grids) {
  std::vector<double> all;
  for (const auto* g : grids) all.insert(all.end(), g->begin(), g->end());
  std::sort(all.begin(), all.end());
  std::vector<double> out;
  for (double x : all)
    if (out.empty() || x - out.back() > 1e-15) out.push_back(x);
  return out;
}

SwitchTrace run_full(sim::Session& s, const sim::NetworkChip& chip, const netlist::WeightCodes& w, const std::vector<double>& a,
                     const std::vector<double>& b, const SwitchOptions& o) {
  const auto& spec = chip.spec;
  const std::size_t L = spec.layers.size();
  netlist::BuildOptions bo;
  bo.parasitics = true;
  bo.input_A = b;  // DC value = pattern B (the asymptotic operating point); the PWL starts at A
  std::string save = ".save vdd#branch";
  for (std::size_t l = (o.keep_hidden ? 1 : L - 1); l < L; ++l)
    for (int i = 0; i < spec.layers[l]; ++i) save += fmt::format(" vx{}_{}#branch", l, i);
  bo.control = {save};
  bo.title = fmt::format("nnspice dynamics {} full", spec.str());
  netlist::Circuit c = netlist::build_network(spec, w, chip.process, &chip.chip.delvto_V, bo);
  for (auto& e : c.elements) {
    if (e.kind != netlist::ElementKind::isource || e.name.rfind("IIN", 0) != 0) continue;
    const std::size_t i = std::stoul(e.name.substr(3));
    e.waveform = pwl_step(a[i], b[i], o.ramp_s);
  }
  s.load(netlist::ngspice_lines(c));
  SwitchTrace tr;
  const auto r = s.tran(o.t_step_s, o.t_stop_s, o.t_max_s);
  tr.time_s = r.vectors.at("time");
  tr.supply_A = delivered(r.vectors, netlist::names::kSupply);
  double sa = 0, sb = 0;
  for (std::size_t i = 0; i < a.size(); ++i) sa += a[i], sb += b[i];
  tr.input_A = input_sum(tr.time_s, sa, sb, o.ramp_s);
  for (int k = 0; k < spec.layers[L - 1]; ++k) tr.output_A.push_back(r.vectors.current(netlist::names::probe(L - 1, k)));
  if (o.keep_hidden) {
    for (std::size_t l = 1; l < L; ++l) {
      tr.units_A.emplace_back();
      for (int i = 0; i < spec.layers[l]; ++i) tr.units_A.back().push_back(r.vectors.current(netlist::names::probe(l, i)));
    }
  }
  tr.time_points = r.stats.time_points;
  tr.newton_iterations = r.stats.newton_iterations;
  tr.transients = 1;
  if (o.asymptotic_op) {
    const auto op = s.op();
    for (int k = 0; k < spec.layers[L - 1]; ++k) tr.asymptotic_A.push_back(op.vectors.current(netlist::names::probe(L - 1, k))[0]);
    tr.newton_iterations += op.stats.newton_iterations;
  } else {
    for (const auto& y : tr.output_A) tr.asymptotic_A.push_back(y.back());
  }
  tr.asymptotic_class = argmax(tr.asymptotic_A);
  return tr;
}

struct Wave {
  std::vector<double> t, v;
  double v_b = 0;  // value at pattern B's operating point
};

struct ChunkResult {
  std::vector<double> time, supply;
  std::vector<std::vector<double>> post_A;  // probe currents of the chunk's post-neurons [j][t]
  std::vector<double> post_b_A;             // at pattern B's operating point
};

// One stage: weight layer l, post-neurons [j0, j1). Pre-neurons: the input somas themselves (l = 0) or
// voltage sources replaying the upstream Vn/Vp waveforms. Post-neurons get their Vn/Vp parasitics plus
// the gate load of all their outgoing synapses (simulated in the next stage).
ChunkResult run_chunk(sim::Session& s, const sim::NetworkChip& chip, const netlist::WeightCodes& w, std::size_t l, std::size_t j0,
                      std::size_t j1, const std::vector<double>& a, const std::vector<double>& b, const std::vector<Wave>& pre_n,
                      const std::vector<Wave>& pre_p, std::vector<Wave>& post_n, std::vector<Wave>& post_p, const SwitchOptions& o,
                      SwitchTrace& tr) {
  const auto& spec = chip.spec;
  const auto& pr = chip.process;
  const std::size_t L = spec.layers.size();
  const std::size_t n_pre = static_cast<std::size_t>(spec.layers[l]);
  const bool post_axon = l + 2 < L;
  const double* dv = chip.chip.delvto_V.data();
  const std::string vdd = netlist::names::kVdd, gnd = "0";
  netlist::Circuit c = netlist::circuit_for_process(pr, fmt::format("nnspice dynamics {} stage {} post {}..{}", spec.str(), l, j0, j1 - 1));
  c.add_vsource(netlist::names::kSupply, vdd, gnd, pr.vdd_V);

  if (l == 0) {
    // Input somas; in chunks after the first they are duplicates, powered from VDDA (not counted).
    const bool dup = j0 > 0;
    const std::string vsup = dup ? "vdda" : vdd;
    if (dup) c.add_vsource("VDDA", vsup, gnd, pr.vdd_V);
    const double fan_out = spec.layers[1];
    for (std::size_t i = 0; i < n_pre; ++i) {
      auto& src = c.elements.emplace_back();
      src.kind = netlist::ElementKind::isource;
      src.name = netlist::names::input_source(i);
      src.nodes = {gnd, neuron_sum_node(0, i), "", ""};
      src.value = b[i];
      src.waveform = pwl_step(a[i], b[i], o.ramp_s);
      c.add_vsource(netlist::names::probe(0, i), neuron_sum_node(0, i), neuron_in_node(0, i), 0.0);
      const std::size_t first = c.elements.size();
      netlist::add_soma(c, pr, 0, i, true, neuron_in_node(0, i), neuron_vp_node(0, i), neuron_vn_node(0, i),
                        dv + netlist::soma_fet_index(spec, 0, i, 0));
      if (dup)
        for (std::size_t e = first; e < c.elements.size(); ++e)
          for (auto& node : c.elements[e].nodes)
            if (node == vdd) node = vsup;
      double cn = fan_out * pr.c_vn_F, cp = fan_out * pr.c_vp_F;
      for (std::size_t j = 0; j < static_cast<std::size_t>(spec.layers[1]); ++j)
        if (j < j0 || j >= j1) {
          cn += o.gate_load.c_n(w[0].at(j, i));
          cp += o.gate_load.c_p(w[0].at(j, i));
        }
      if (cn > 0) c.add_capacitor(fmt::format("CN0_{}", i), neuron_vn_node(0, i), gnd, cn);
      if (cp > 0) c.add_capacitor(fmt::format("CP0_{}", i), neuron_vp_node(0, i), vsup, cp);
    }
  } else {
    for (std::size_t i = 0; i < n_pre; ++i) {
      auto add_driver = [&](const std::string& name, const std::string& node, const Wave& wv) {
        auto& src = c.elements.emplace_back();
        src.kind = netlist::ElementKind::vsource;
        src.name = name;
        src.nodes = {node, gnd, "", ""};
        src.value = wv.v_b;
        src.waveform = pwl_wave(wv.t, wv.v);
      };
      add_driver(fmt::format("VDN{}_{}", l, i), neuron_vn_node(l, i), pre_n[i]);
      add_driver(fmt::format("VDP{}_{}", l, i), neuron_vp_node(l, i), pre_p[i]);
    }
  }

  // The stage's synapses and post-neurons.
  for (std::size_t j = j0; j < j1; ++j) {
    for (std::size_t i = 0; i < n_pre; ++i)
      netlist::add_synapse(c, pr, l, j, i, w[l].at(j, i), neuron_vn_node(l, i), neuron_vp_node(l, i), neuron_sum_node(l + 1, j),
                           fmt::format("w{}_{}_{}", l, j, i), true, dv + netlist::synapse_fet_index(spec, l, j, i, 10));
    if (pr.c_out_F > 0) c.add_capacitor(fmt::format("CX{}_{}", l + 1, j), neuron_sum_node(l + 1, j), gnd, static_cast<double>(n_pre) * pr.c_out_F);
    c.add_vsource(netlist::names::probe(l + 1, j), neuron_sum_node(l + 1, j), neuron_in_node(l + 1, j), 0.0);
    netlist::add_soma(c, pr, l + 1, j, post_axon, neuron_in_node(l + 1, j), neuron_vp_node(l + 1, j), neuron_vn_node(l + 1, j),
                      dv + netlist::soma_fet_index(spec, l + 1, j, 0));
    if (post_axon) {
      double cn = spec.layers[l + 2] * pr.c_vn_F, cp = spec.layers[l + 2] * pr.c_vp_F;
      for (std::size_t k = 0; k < static_cast<std::size_t>(spec.layers[l + 2]); ++k) {
        cn += o.gate_load.c_n(w[l + 1].at(k, j));
        cp += o.gate_load.c_p(w[l + 1].at(k, j));
      }
      if (cn > 0) c.add_capacitor(fmt::format("CN{}_{}", l + 1, j), neuron_vn_node(l + 1, j), gnd, cn);
      if (cp > 0) c.add_capacitor(fmt::format("CP{}_{}", l + 1, j), neuron_vp_node(l + 1, j), vdd, cp);
    } else {
      const std::string out = fmt::format("o{}", j);
      c.add_vsource(netlist::names::readout_probe(j), vdd, out, 0.0);
      const auto& sz = pr.size(netlist::DeviceRole::sink);
      c.add_mosfet(netlist::names::sink_fet(j), out, neuron_in_node(l + 1, j), gnd, gnd, pr.nmos_model, sz.w_m, sz.l_m,
                   dv[netlist::sink_fet_index(spec, j)]);
    }
  }
  std::string save = ".save vdd#branch";
  for (std::size_t j = j0; j < j1; ++j) {
    save += fmt::format(" vx{}_{}#branch", l + 1, j);
    if (post_axon) save += fmt::format(" v({}) v({})", neuron_vn_node(l + 1, j), neuron_vp_node(l + 1, j));
  }
  c.control = {save};
  s.load(netlist::ngspice_lines(c));

  ChunkResult cr;
  const auto t_start = std::chrono::steady_clock::now();
  const auto r = s.tran(o.t_step_s, o.t_stop_s, o.t_max_s);
  cr.time = r.vectors.at("time");
  cr.supply = delivered(r.vectors, netlist::names::kSupply);
  tr.time_points += r.stats.time_points;
  tr.newton_iterations += r.stats.newton_iterations;
  ++tr.transients;
  for (std::size_t j = j0; j < j1; ++j) {
    cr.post_A.push_back(r.vectors.current(netlist::names::probe(l + 1, j)));
    if (post_axon) {
      post_n[j].t = cr.time;
      post_n[j].v = r.vectors.at("v(" + neuron_vn_node(l + 1, j) + ")");
      post_p[j].t = cr.time;
      post_p[j].v = r.vectors.at("v(" + neuron_vp_node(l + 1, j) + ")");
    }
  }
  if (o.asymptotic_op) {
    const auto op = s.op();
    tr.newton_iterations += op.stats.newton_iterations;
    for (std::size_t j = j0; j < j1; ++j) {
      cr.post_b_A.push_back(op.vectors.current(netlist::names::probe(l + 1, j))[0]);
      if (post_axon) {
        post_n[j].v_b = op.vectors.at("v(" + neuron_vn_node(l + 1, j) + ")")[0];
        post_p[j].v_b = op.vectors.at("v(" + neuron_vp_node(l + 1, j) + ")")[0];
      }
    }
  }
  if (o.log_stages)
    fmt::print(stderr, "  stage {} post {}..{}: {} elements, {} time points, {} Newton iterations (transient incl. its initial OP), {:.1f} s with the OP of B\n", l, j0, j1 - 1,
               c.elements.size(), r.stats.time_points, r.stats.newton_iterations,
               std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count());
  if (!o.asymptotic_op) {
    for (std::size_t j = j0; j < j1; ++j) {
      cr.post_b_A.push_back(cr.post_A[j - j0].back());
      if (post_axon) {
        post_n[j].v_b = post_n[j].v.back();
        post_p[j].v_b = post_p[j].v.back();
      }
    }
  }
  return cr;
}

// Replays waveforms on one uniform grid (t_step) so that all driver sources share their breakpoints.
std::vector<Wave> on_grid(const std::vector<Wave>& in, const std::vector<double>& grid) {
  std::vector<Wave> out(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    out[i].t = grid;
    out[i].v = resample(in[i].t, in[i].v, grid);
    out[i].v_b = in[i].v_b;
  }
  return out;
}

SwitchTrace run_layerwise(sim::Session& s, const sim::NetworkChip& chip, const netlist::WeightCodes& w, const std::vector<double>& a,
                          const std::vector<double>& b, const SwitchOptions& o) {
  const auto& spec = chip.spec;
  const std::size_t L = spec.layers.size();
  SwitchTrace tr;
  // Driver grid: uniform t_step plus the end of the input ramp.
  std::vector<double> grid;
  for (double t = 0; t < o.t_stop_s - 1e-3 * o.t_step_s; t += o.t_step_s) grid.push_back(t);
  grid.push_back(o.t_stop_s);
  grid.push_back(o.ramp_s);
  std::sort(grid.begin(), grid.end());
  grid.erase(std::unique(grid.begin(), grid.end(), [](double x, double y) { return std::fabs(x - y) < 1e-15; }), grid.end());

  std::vector<Wave> pre_n, pre_p;
  std::vector<ChunkResult> all_chunks;
  std::vector<std::size_t> chunk_layer;  // post layer of each chunk
  for (std::size_t l = 0; l + 1 < L; ++l) {
    const std::size_t n_post = static_cast<std::size_t>(spec.layers[l + 1]);
    const std::size_t cs = o.chunk == 0 ? n_post : std::min(o.chunk, n_post);
    std::vector<Wave> post_n(n_post), post_p(n_post);
    for (std::size_t j0 = 0; j0 < n_post; j0 += cs) {
      all_chunks.push_back(run_chunk(s, chip, w, l, j0, std::min(n_post, j0 + cs), a, b, pre_n, pre_p, post_n, post_p, o, tr));
      chunk_layer.push_back(l + 1);
    }
    if (l + 2 < L) {
      pre_n = on_grid(post_n, grid);
      pre_p = on_grid(post_p, grid);
    }
  }
  std::vector<const std::vector<double>*> grids;
  for (const auto& c : all_chunks) grids.push_back(&c.time);
  tr.time_s = union_grid(grids);
  tr.supply_A.assign(tr.time_s.size(), 0.0);
  for (const auto& c : all_chunks) {
    const auto sup = resample(c.time, c.supply, tr.time_s);
    for (std::size_t k = 0; k < sup.size(); ++k) tr.supply_A[k] += sup[k];
  }
  double sa = 0, sb = 0;
  for (std::size_t i = 0; i < a.size(); ++i) sa += a[i], sb += b[i];
  tr.input_A = input_sum(tr.time_s, sa, sb, o.ramp_s);
  if (o.keep_hidden) tr.units_A.resize(L - 1);
  for (std::size_t c = 0; c < all_chunks.size(); ++c) {
    const std::size_t layer = chunk_layer[c];
    for (std::size_t j = 0; j < all_chunks[c].post_A.size(); ++j) {
      if (layer == L - 1 || o.keep_hidden) {
        auto y = resample(all_chunks[c].time, all_chunks[c].post_A[j], tr.time_s);
        if (o.keep_hidden) tr.units_A[layer - 1].push_back(y);
        if (layer == L - 1) {
          tr.output_A.push_back(std::move(y));
          tr.asymptotic_A.push_back(all_chunks[c].post_b_A[j]);
        }
      }
    }
  }
  tr.asymptotic_class = argmax(tr.asymptotic_A);
  return tr;
}

}  // namespace

SwitchTrace simulate_switch(sim::Session& s, const sim::NetworkChip& chip, const netlist::WeightCodes& w, const std::vector<double>& a,
                            const std::vector<double>& b, const SwitchOptions& o) {
  o.validate();
  check_inputs(chip, w, a, b);
  const auto t0 = std::chrono::steady_clock::now();
  SwitchTrace tr;
  if (o.method == Method::tabulated) {
    if (!o.tabulated) throw std::logic_error("simulate_switch: method tabulated needs SwitchOptions::tabulated");
    const auto& mc = o.tabulated->solver().chip();
    if (mc.spec.str() != chip.spec.str() || mc.chip.delvto_V != chip.chip.delvto_V || mc.process.model_card != chip.process.model_card)
      throw InputError(fmt::format("the tabulated model was built for another chip ({}, {} threshold shifts) than the one simulated ({})",
                                   mc.spec.str(), mc.chip.delvto_V.size(), chip.spec.str()));
    tr = o.tabulated->simulate(w, a, b, o);
  } else {
    tr = o.method == Method::full ? run_full(s, chip, w, a, b, o) : run_layerwise(s, chip, w, a, b, o);
  }
  tr.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return tr;
}

SwitchMeasures measure_switch(const SwitchTrace& tr, double vdd_V, double window_s) {
  if (!(window_s > 0)) throw InputError(fmt::format("measure_switch: window {} s must be > 0", window_s));
  if (tr.supply_A.size() != tr.time_s.size() || tr.input_A.size() != tr.time_s.size())
    throw InputError("measure_switch: supply/input traces do not match the time vector");
  SwitchMeasures m;
  m.asymptotic_class = tr.asymptotic_class;
  const auto cls = class_trace(tr.output_A);
  m.final_class = cls.empty() ? -1 : cls.back();
  // Only the part of the trace inside the window counts.
  std::vector<double> t;
  std::vector<std::vector<double>> out(tr.output_A.size());
  for (std::size_t i = 0; i < tr.time_s.size() && tr.time_s[i] <= window_s * (1 + 1e-12); ++i) {
    t.push_back(tr.time_s[i]);
    for (std::size_t k = 0; k < out.size(); ++k) out[k].push_back(tr.output_A[k][i]);
  }
  if (t.size() >= 1 && m.asymptotic_class >= 0) m.time_to_output_s = time_to_output(t, out, m.asymptotic_class);
  m.energy_window_J = vdd_V * integrate(tr.time_s, tr.supply_A, window_s);
  m.energy_window_inputs_J = m.energy_window_J + vdd_V * integrate(tr.time_s, tr.input_A, window_s);
  m.power_window_W = m.energy_window_J / std::min(window_s, tr.time_s.back());
  if (m.time_to_output_s > 0) {
    m.energy_tto_J = vdd_V * integrate(tr.time_s, tr.supply_A, m.time_to_output_s);
    m.energy_tto_inputs_J = m.energy_tto_J + vdd_V * integrate(tr.time_s, tr.input_A, m.time_to_output_s);
    m.power_tto_W = m.energy_tto_J / m.time_to_output_s;
  } else if (m.time_to_output_s == 0) {
    m.power_tto_W = m.power_window_W;
  } else {
    m.energy_tto_J = m.energy_tto_inputs_J = m.power_tto_W = std::nan("");
  }
  return m;
}

}  // namespace nnspice::dynamics
