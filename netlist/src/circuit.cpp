#include "nnspice/netlist/circuit.hpp"

#include <algorithm>

namespace nnspice::netlist {

void Circuit::add_mosfet(std::string name, std::string d, std::string g, std::string s, std::string b, std::string model,
                         double w_m, double l_m, double delvto_V) {
  Element e;
  e.kind = ElementKind::mosfet;
  e.name = std::move(name);
  e.nodes = {std::move(d), std::move(g), std::move(s), std::move(b)};
  e.model = std::move(model);
  e.w_m = w_m;
  e.l_m = l_m;
  e.delvto_V = delvto_V;
  elements.push_back(std::move(e));
}

static Element two_terminal(ElementKind k, std::string name, std::string p, std::string n, double v) {
  Element e;
  e.kind = k;
  e.name = std::move(name);
  e.nodes[0] = std::move(p);
  e.nodes[1] = std::move(n);
  e.value = v;
  return e;
}

void Circuit::add_vsource(std::string name, std::string p, std::string n, double v) {
  elements.push_back(two_terminal(ElementKind::vsource, std::move(name), std::move(p), std::move(n), v));
}
void Circuit::add_isource(std::string name, std::string p, std::string n, double v) {
  elements.push_back(two_terminal(ElementKind::isource, std::move(name), std::move(p), std::move(n), v));
}
void Circuit::add_capacitor(std::string name, std::string p, std::string n, double v) {
  elements.push_back(two_terminal(ElementKind::capacitor, std::move(name), std::move(p), std::move(n), v));
}
void Circuit::add_resistor(std::string name, std::string p, std::string n, double v) {
  elements.push_back(two_terminal(ElementKind::resistor, std::move(name), std::move(p), std::move(n), v));
}

std::size_t Circuit::count(ElementKind kind) const {
  return static_cast<std::size_t>(std::count_if(elements.begin(), elements.end(), [&](const Element& e) { return e.kind == kind; }));
}

}  // namespace nnspice::netlist
