// nnspice device-tables: builds (or loads from the cache) the native engine's device tables of a process —
// once per card, temperature and supply — and prints their cost; every later chip of the card reuses them.
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "cli_util.hpp"
#include "commands.hpp"
#include "nnspice/common/error.hpp"
#include "nnspice/engine/device_tables.hpp"
#include "nnspice/netlist/process.hpp"

namespace nnspice::tools {

int cmd_device_tables(int argc, char** argv) {
  po::options_description o("nnspice device-tables options");
  o.add_options()
    ("process,p", po::value<std::string>()->default_value(""), "process YAML (default: the shipped tsmc180.yaml)")
    ("cache", po::value<std::string>()->default_value(""), "cache folder (default: $NNSPICE_CACHE_DIR, else ~/.cache/nnspice)")
    ("workers,j", jobs_value()->default_value(default_jobs()), "ngspice worker processes for the sweeps")
    ("json", po::bool_switch(), "print the result as JSON");
  add_corner_options(o);
  po::variables_map vm;
  if (!parse_options(argc, argv, o, vm, "nnspice device-tables [--process P.yaml]",
                     "Builds the native engine's device tables of a process (one ngspice sweep set per transistor class,\n"
                     "card, temperature and supply; ~100 s on 2 cores) into the cache, or loads them when already there\n"
                     "(a damaged or foreign cache file is rebuilt). characterize/evaluate/dynamics do the same on first need;\n"
                     "this command does it ahead of time and reports the cost (docs/dc_engine.md)."))
    return 0;
  const netlist::Process process = resolve_process(vm);
  engine::DeviceTableOptions opt;
  opt.cache_dir = vm["cache"].as<std::string>().empty() ? engine::default_cache_dir() : vm["cache"].as<std::string>();
  opt.parallel.workers = vm["workers"].as<int>();
  opt.grid = engine::grid_for(process, opt.grid);
  opt.progress = !vm["json"].as<bool>();
  engine::DeviceTableStats st;
  const auto t = engine::DeviceTables::get(process, engine::synapse_classes(process), opt, &st);
  nlohmann::json classes = nlohmann::json::array();
  for (const auto& c : t->classes()) classes.push_back(c.str());
  const nlohmann::json j = {{"process", process.name}, {"model_card", process.model_card}, {"temp_C", process.temp_C}, {"vdd_V", process.vdd_V},
                            {"classes", classes},     {"built", st.built},               {"seconds", st.build_s},   {"sweep_points", st.sweep_points},
                            {"bytes", st.bytes},      {"cache_file", st.cache_file},     {"cache_note", st.cache_note}};
  if (vm["json"].as<bool>()) {
    fmt::print("{}\n", j.dump(2));
  } else {
    fmt::print("device tables of {} ({} C, VDD {} V): {} classes, {} in {:.1f} s ({} ngspice points, {:.0f} MB) -> {}\n", process.name, process.temp_C,
               process.vdd_V, t->classes().size(), st.built ? "built" : "loaded from the cache", st.build_s, st.sweep_points,
               static_cast<double>(st.bytes) / 1e6, st.cache_file.empty() ? "(no cache)" : st.cache_file);
  }
  return 0;
}

}  // namespace nnspice::tools
