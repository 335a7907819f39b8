// Weight codes (docs/conventions.md): integer codes -K..+K (sign + B bits, K = 2^B - 1; -7..+7 by default) of every weight layer, shape
// (N_{l+1} post-neurons, N_l pre-neurons), and their files weights_<l>.npy (int32, written) or
// weights_<l>.csv (no header; read). One reader and one writer for every command.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "nnspice/model/layer_spec.hpp"

namespace nnspice::model {

/// Magnitude bits of a synapse (sign + B bits: codes -(2^B - 1) .. 2^B - 1); the paper's chip has 3.
constexpr int kDefaultWeightBits = 3, kMinWeightBits = 1, kMaxWeightBits = 6;
constexpr int max_code_of_bits(int bits) { return (1 << bits) - 1; }
constexpr int kMaxCode = max_code_of_bits(kDefaultWeightBits);  ///< 7, the default
constexpr int kMaxCodeAnyBits = max_code_of_bits(kMaxWeightBits);  ///< 63: codes fit an int8

/// Integer codes of one weight layer, shape (rows = N_{l+1} post-neurons, cols = N_l pre-neurons).
struct CodeMatrix {
  std::size_t rows = 0, cols = 0;
  std::vector<std::int8_t> codes;  ///< row-major
  int at(std::size_t r, std::size_t c) const { return codes[r * cols + c]; }
  bool operator==(const CodeMatrix&) const = default;
};
using WeightCodes = std::vector<CodeMatrix>;

/// Reads weight codes from one directory holding weights_0.npy ... (or .csv; a layer with both is an
/// error naming both) or from one file per layer (.npy, .csv or .txt). With `layers` given the files must
/// be exactly its weight layers with its shapes; without, a directory is read up to the first missing
/// index and consecutive shapes must chain. Every value must be an integer in -max_code..max_code;
/// errors name the file, the row, the column and the value.
WeightCodes read_weight_codes(const std::vector<std::string>& paths, const Layers& layers = {}, int max_code = kMaxCode);
/// Writes DIR/weights_<l>.npy (int32, C order) for every layer (DIR is created); returns the paths.
std::vector<std::string> write_weight_codes(const std::string& dir, const WeightCodes& codes);
/// Checks shapes against `layers` and codes against -max_code..max_code (`name`: where they came from).
void check_weight_codes(const WeightCodes& codes, const Layers& layers, const std::string& name, int max_code = kMaxCode);
/// Layer sizes implied by matrices of shapes (N_{l+1}, N_l) (which must chain).
Layers layers_of(const WeightCodes& codes);

}  // namespace nnspice::model
