// NumPy .npy files (format 1.0/2.0/3.0), the array format Python users read with numpy.load.
// Reading accepts little/big-endian f4/f8, i1/i2/i4/i8, u1/u2/u4/u8 and bool, C or Fortran order,
// and always returns C-order doubles. Writing produces version 1.0, C order.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace nnspice {

struct NpyArray {
  std::vector<std::size_t> shape;  ///< empty for a 0-d array
  std::vector<double> data;        ///< C (row-major) order, size = product of shape
  std::string descr;               ///< dtype as stored, e.g. "<f8"
  bool integer_dtype = false;      ///< true when stored as an integer or bool dtype

  std::size_t size() const { return data.size(); }
  std::size_t rows() const { return shape.empty() ? 1 : shape[0]; }
  std::size_t cols() const { return shape.size() < 2 ? 1 : shape[1]; }
};

/// Reads an .npy file. Throws InputError naming the file on any malformation or truncation.
NpyArray read_npy(const std::string& path);
/// Parses .npy bytes (`name` is used in messages).
NpyArray parse_npy(const std::string& bytes, const std::string& name);

void write_npy(const std::string& path, const std::vector<double>& data, const std::vector<std::size_t>& shape);
void write_npy(const std::string& path, const std::vector<float>& data, const std::vector<std::size_t>& shape);
void write_npy(const std::string& path, const std::vector<std::int32_t>& data, const std::vector<std::size_t>& shape);
void write_npy(const std::string& path, const std::vector<std::int64_t>& data, const std::vector<std::size_t>& shape);
/// The bytes of an .npy file for `data` (same as write_npy would write).
std::string npy_bytes(const std::vector<double>& data, const std::vector<std::size_t>& shape);

}  // namespace nnspice
