// A typed in-memory circuit (elements, nodes, parameters) that dialect writers turn into netlists.
// Values in SI units (V, A, F, ohm, m); SPICE scale suffixes appear only in writers.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace nnspice::netlist {

enum class ElementKind : std::uint8_t { mosfet, vsource, isource, capacitor, resistor };

struct Element {
  ElementKind kind = ElementKind::resistor;
  std::string name;                 ///< SPICE instance name, first letter = kind (M, V, I, C, R)
  std::array<std::string, 4> nodes; ///< MOSFET: d g s b; two-terminal elements use nodes[0..1] (+, -)
  std::string model;                ///< MOSFET model name
  double value = 0;                 ///< V/I: DC value (V, A); C: farads; R: ohms
  double w_m = 0, l_m = 0;          ///< MOSFET geometry
  double delvto_V = 0;              ///< MOSFET threshold shift (written only when non-zero)
  std::string waveform;             ///< V/I: optional transient spec, e.g. "PWL(0 1e-9 1e-6 2e-9)"
};

/// A flat circuit. Node "0" is ground.
struct Circuit {
  std::string title;
  std::vector<std::string> comments;  ///< written as "* ..." lines after the title
  std::vector<std::string> includes;  ///< absolute paths of model cards
  double temp_C = 27;
  std::vector<std::pair<std::string, std::string>> options;  ///< ".options key=value"
  std::vector<Element> elements;
  std::vector<std::string> control;   ///< analysis cards, e.g. ".op" (written before ".end")

  void add_mosfet(std::string name, std::string d, std::string g, std::string s, std::string b, std::string model,
                  double w_m, double l_m, double delvto_V);
  void add_vsource(std::string name, std::string p, std::string n, double dc_V);
  void add_isource(std::string name, std::string p, std::string n, double dc_A);
  void add_capacitor(std::string name, std::string p, std::string n, double c_F);
  void add_resistor(std::string name, std::string p, std::string n, double r_ohm);
  std::size_t count(ElementKind kind) const;
};

}  // namespace nnspice::netlist
