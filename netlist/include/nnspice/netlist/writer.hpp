// ngspice dialect writer and the matching reader for our own output (round-trip tests).
// Numbers are written in shortest round-trip exponent form ("2.7e-06"): never SPICE scale suffixes,
// so M (milli) vs MEG can never bite, and reading back gives the identical double.
#pragma once

#include <string>
#include <vector>

#include "nnspice/netlist/circuit.hpp"

namespace nnspice::netlist {

/// The netlist as text (one element per line, ends with ".end\n"). Deterministic: same circuit -> same bytes.
std::string write_ngspice(const Circuit& circuit);
/// The same netlist as lines (for libngspice's ngSpice_Circ), without trailing newlines.
std::vector<std::string> ngspice_lines(const Circuit& circuit);

/// Reads a netlist written by write_ngspice back (title, comments, .include, .temp, .options, elements,
/// control cards). Throws InputError (file:line) on anything it does not understand.
Circuit read_ngspice(const std::string& text, const std::string& name);

}  // namespace nnspice::netlist
