// ngspice dialect writer and the matching reader for our own output (round-trip tests).
// Numbers are written in shortest round-trip exponent form ("2.7e-06"): never SPICE scale suffixes,
// so M (milli) vs MEG can never bite, and reading back gives the identical double.
#pragma once

#include <string>
#include <vector>

#include "nnspice/netlist/circuit.hpp"

namespace nnspice::netlist {

/// Checks every name and value of `circuit` against the SPICE token grammar (spice_text.hpp): title and
/// comments one line each, include paths without quotes, options key=number|keyword, element/node/model
/// names single tokens starting with the element's letter, waveforms expression-safe, control entries analysis
/// cards only. Throws InputError naming the field and the value. Both writers call it first.
void check_text_safety(const Circuit& circuit);

/// The netlist as text (one element per line, ends with ".end\n"). Deterministic: same circuit -> same bytes.
/// Throws InputError (check_text_safety) before writing anything unsafe.
std::string write_ngspice(const Circuit& circuit);
/// The same netlist as lines (for libngspice's ngSpice_Circ), without trailing newlines.
std::vector<std::string> ngspice_lines(const Circuit& circuit);

/// Reads a netlist written by write_ngspice back (title, comments, .include, .temp, .options, elements,
/// control cards). Throws InputError (file:line) on anything it does not understand.
Circuit read_ngspice(const std::string& text, const std::string& name);

}  // namespace nnspice::netlist
