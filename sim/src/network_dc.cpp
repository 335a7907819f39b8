#include "nnspice/sim/network_dc.hpp"

#include <fmt/format.h>

#include "nnspice/netlist/builder.hpp"
#include "nnspice/netlist/writer.hpp"

namespace nnspice::sim {
namespace {

class FullNetlistSolver final : public NetworkDcSolver {
 public:
  FullNetlistSolver(const NetworkChip& chip, const ParallelOptions& options) : chip_(chip), options_(options) {}
  std::string method() const override { return "full-netlist"; }

  std::vector<DcOutcome> solve(const netlist::WeightCodes& weights, const std::vector<std::vector<double>>& inputs) override {
    netlist::BuildOptions bo;
    bo.readout = true;
    const auto lines = netlist::ngspice_lines(netlist::build_network(chip_.spec, weights, chip_.process, &chip_.chip.delvto_V, bo));
    const auto& layers = chip_.spec.layers;
    for (const auto& in : inputs)
      if (in.size() != static_cast<size_t>(layers[0]))
        throw InputError(fmt::format("{} input currents for an input layer of {} neurons", in.size(), layers[0]));
    auto job = [&](Session& s, std::size_t k) -> JobData {
      s.load(lines);
      for (size_t i = 0; i < inputs[k].size(); ++i) s.alter(netlist::names::input_source(i), inputs[k][i]);
      const auto r = s.op();
      JobData d;
      for (size_t l = 0; l < layers.size(); ++l) {
        auto& v = d[fmt::format("layer{}", l)];
        for (int i = 0; i < layers[l]; ++i) v.push_back(r.vectors.current(netlist::names::probe(l, i))[0]);
      }
      d["iters"] = {static_cast<double>(r.stats.newton_iterations)};
      return d;
    };
    const auto res = run_parallel(inputs.size(), job, options_);
    std::vector<DcOutcome> out(res.size());
    for (size_t k = 0; k < res.size(); ++k) {
      out[k].ok = res[k].ok;
      out[k].error = res[k].error;
      if (!res[k].ok) continue;
      for (size_t l = 0; l < layers.size(); ++l) out[k].currents.push_back(res[k].data.at(fmt::format("layer{}", l)));
      out[k].newton_iterations = static_cast<long>(res[k].data.at("iters")[0]);
    }
    return out;
  }

 private:
  NetworkChip chip_;
  ParallelOptions options_;
};

}  // namespace

std::unique_ptr<NetworkDcSolver> make_full_netlist_solver(const NetworkChip& chip, const ParallelOptions& options) {
  return std::make_unique<FullNetlistSolver>(chip, options);
}

}  // namespace nnspice::sim
