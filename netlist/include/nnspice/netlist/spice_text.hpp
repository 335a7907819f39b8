// Netlist text safety: the token grammar every name and value must satisfy before it reaches SPICE text
// (netlists, subcircuits, simulator commands). A string from a config can then never start a new line, a
// comment or a `.control` block (whose `shell` runs programs under `ngspice -b`): the only way for user text
// to enter a netlist unchecked is a model card `.include`d on purpose.
// Each why_not_* returns "" when the value is acceptable, else the violated constraint; require() throws
// InputError "FIELD = "VALUE": CONSTRAINT" with the value quoted and its control characters escaped.
#pragma once

#include <string>
#include <string_view>

namespace nnspice::netlist::spice_text {

/// Element, node, model and subcircuit names: 1..256 characters of [A-Za-z0-9_] and `# : - + [ ] < > . / !`,
/// starting with a letter, digit or `_` (so never `.`, `*`, `+`, `;` or `$`).
std::string why_not_name(std::string_view s);
/// `.options`/`option` keys: an identifier [A-Za-z][A-Za-z0-9_]*.
std::string why_not_option_key(std::string_view s);
/// `.options` values: a number (optionally with a SPICE scale suffix, e.g. 1e-14, 10u) or a known keyword
/// (gear, trap, trapezoidal, true, false, yes, no, on, off).
std::string why_not_option_value(std::string_view s);
/// One line of free text after `*` or as the title: printable characters and tabs only (no newline, CR or
/// other control characters) and at most 4096 of them.
std::string why_not_line_text(std::string_view s);
/// A file name in `.include "..."`: a line of text without `"`.
std::string why_not_path(std::string_view s);
/// An expression or source specification on an element line (e.g. `PWL(0 0 1e-9 1)`): a line of text (any length) whose
/// characters cannot start a comment (`;`, `$`) or a card (a leading `.`, `*` or `+`).
std::string why_not_expression(std::string_view s);
/// An analysis or output card written before `.end`: `.op`, `.tran`, `.dc`, `.save`, `.ic`, `.nodeset`,
/// `.print`, `.probe` or `.meas`/`.measure` followed by expression-safe text. Never `.control`,
/// `.endc`, `.include`, `.lib`, `.options` (written from checked key/value pairs) or a non-card line (`shell ...`).
std::string why_not_card(std::string_view s);

/// The value in double quotes with `\n`, `\r`, `\t`, `\"`, `\\` and other control bytes escaped (\xNN),
/// cut after 60 characters with "…".
std::string quote(std::string_view s);

/// Throws InputError("FIELD = QUOTED: WHY") when `why` is non-empty.
void require(std::string_view field, std::string_view value, const std::string& why);

inline void require_name(std::string_view field, std::string_view v) { require(field, v, why_not_name(v)); }
inline void require_line_text(std::string_view field, std::string_view v) { require(field, v, why_not_line_text(v)); }
inline void require_option(std::string_view field, std::string_view key, std::string_view value) {
  require(field, key, why_not_option_key(key));
  require(std::string(field) + "." + std::string(key), value, why_not_option_value(value));
}

}  // namespace nnspice::netlist::spice_text
