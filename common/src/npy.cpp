#include "nnspice/common/npy.hpp"

#include <fmt/format.h>

#include <bit>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>

#include "nnspice/common/error.hpp"
#include "nnspice/common/fs_util.hpp"

namespace nnspice {
namespace {

constexpr char kMagic[] = "\x93NUMPY";

std::string header_value(const std::string& header, const std::string& key, const std::string& name) {
  const std::string quoted = "'" + key + "'";
  auto pos = header.find(quoted);
  if (pos == std::string::npos) throw InputError(fmt::format("{}: .npy header lacks the key {}", name, quoted));
  pos = header.find(':', pos + quoted.size());
  if (pos == std::string::npos) throw InputError(fmt::format("{}: malformed .npy header near {}", name, quoted));
  ++pos;
  while (pos < header.size() && header[pos] == ' ') ++pos;
  if (pos >= header.size()) throw InputError(fmt::format("{}: malformed .npy header near {}", name, quoted));
  char open = header[pos];
  size_t end;
  if (open == '\'') {
    end = header.find('\'', pos + 1);
    if (end == std::string::npos) throw InputError(fmt::format("{}: malformed .npy header near {}", name, quoted));
    return header.substr(pos + 1, end - pos - 1);
  }
  if (open == '(') {
    end = header.find(')', pos);
    if (end == std::string::npos) throw InputError(fmt::format("{}: malformed .npy header near {}", name, quoted));
    return header.substr(pos, end - pos + 1);
  }
  end = header.find_first_of(",}", pos);
  if (end == std::string::npos) throw InputError(fmt::format("{}: malformed .npy header near {}", name, quoted));
  std::string v = header.substr(pos, end - pos);
  while (!v.empty() && v.back() == ' ') v.pop_back();
  return v;
}

std::vector<size_t> parse_shape(const std::string& text, const std::string& name) {
  std::vector<size_t> shape;
  std::string inner = text.substr(1, text.size() - 2);
  std::stringstream ss(inner);
  std::string item;
  while (std::getline(ss, item, ',')) {
    size_t b = item.find_first_not_of(' ');
    if (b == std::string::npos) continue;
    item = item.substr(b);
    while (!item.empty() && item.back() == ' ') item.pop_back();
    if (item.empty()) continue;
    if (item.find_first_not_of("0123456789") != std::string::npos || item.size() > 15)
      throw InputError(fmt::format("{}: bad dimension '{}' in .npy shape {}", name, item, text));
    shape.push_back(std::stoull(item));
  }
  return shape;
}

template <typename T>
T load_scalar(const char* p, bool swap) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  if (swap) {
    char b[sizeof(T)];
    std::memcpy(b, &v, sizeof(T));
    for (size_t i = 0; i < sizeof(T) / 2; ++i) std::swap(b[i], b[sizeof(T) - 1 - i]);
    std::memcpy(&v, b, sizeof(T));
  }
  return v;
}

std::string make_header(const std::string& descr, const std::vector<size_t>& shape) {
  std::string shp = "(";
  for (size_t i = 0; i < shape.size(); ++i) shp += fmt::format("{}{}", shape[i], (shape.size() == 1 || i + 1 < shape.size()) ? "," : "");
  shp += ")";
  // numpy writes "(n,)" for 1-D and "(a, b)" for more; both parse. Keep numpy's spacing.
  if (shape.size() > 1) {
    shp = "(";
    for (size_t i = 0; i < shape.size(); ++i) shp += fmt::format("{}{}", shape[i], i + 1 < shape.size() ? ", " : "");
    shp += ")";
  }
  std::string dict = fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': {}, }}", descr, shp);
  size_t total = 10 + dict.size() + 1;
  size_t pad = (64 - total % 64) % 64;
  dict += std::string(pad, ' ') + "\n";
  std::string out(kMagic, 6);
  out += '\x01';
  out += '\x00';
  uint16_t len = static_cast<uint16_t>(dict.size());
  out += static_cast<char>(len & 0xff);
  out += static_cast<char>(len >> 8);
  return out + dict;
}

template <typename T>
void write_typed(const std::string& path, const std::vector<T>& data, const std::vector<size_t>& shape, const std::string& descr) {
  size_t n = 1;
  for (auto d : shape) n *= d;
  if (n != data.size())
    throw std::logic_error(fmt::format("write_npy({}): {} values for a shape of {} elements", path, data.size(), n));
  std::string bytes = make_header(descr, shape);
  bytes.append(reinterpret_cast<const char*>(data.data()), data.size() * sizeof(T));
  write_file_atomic(path, bytes);
}

}  // namespace

NpyArray parse_npy(const std::string& bytes, const std::string& name) {
  if (bytes.size() < 10 || bytes.compare(0, 6, std::string(kMagic, 6)) != 0)
    throw InputError(fmt::format("{}: not a .npy file (bad magic number)", name));
  const int major = static_cast<unsigned char>(bytes[6]);
  size_t header_len, offset;
  if (major == 1) {
    header_len = static_cast<unsigned char>(bytes[8]) | (static_cast<size_t>(static_cast<unsigned char>(bytes[9])) << 8);
    offset = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) throw InputError(fmt::format("{}: truncated .npy header", name));
    header_len = 0;
    for (int i = 0; i < 4; ++i) header_len |= static_cast<size_t>(static_cast<unsigned char>(bytes[8 + i])) << (8 * i);
    offset = 12;
  } else {
    throw InputError(fmt::format("{}: unsupported .npy format version {}", name, major));
  }
  if (bytes.size() < offset + header_len) throw InputError(fmt::format("{}: truncated .npy header", name));
  const std::string header = bytes.substr(offset, header_len);
  NpyArray a;
  a.descr = header_value(header, "descr", name);
  const std::string fo = header_value(header, "fortran_order", name);
  if (fo != "True" && fo != "False") throw InputError(fmt::format("{}: bad fortran_order '{}'", name, fo));
  const bool fortran = fo == "True";
  const std::string shape_text = header_value(header, "shape", name);
  if (shape_text.size() < 2 || shape_text.front() != '(') throw InputError(fmt::format("{}: bad .npy shape '{}'", name, shape_text));
  a.shape = parse_shape(shape_text, name);
  size_t n = 1;
  for (auto d : a.shape) {
    if (d != 0 && n > std::numeric_limits<size_t>::max() / 16 / d) throw InputError(fmt::format("{}: .npy shape {} is too large", name, shape_text));
    n *= d;
  }
  if (a.descr.size() < 3) throw InputError(fmt::format("{}: unsupported dtype '{}'", name, a.descr));
  const char order = a.descr[0];
  const char kind = a.descr[1];
  int width = 0;
  try {
    width = std::stoi(a.descr.substr(2));
  } catch (...) {
    throw InputError(fmt::format("{}: unsupported dtype '{}'", name, a.descr));
  }
  const bool little_host = std::endian::native == std::endian::little;
  bool swap = false;
  if (order == '<') swap = !little_host;
  else if (order == '>') swap = little_host;
  else if (order != '|' && order != '=') throw InputError(fmt::format("{}: unsupported byte order in dtype '{}'", name, a.descr));
  const bool ok = (kind == 'f' && (width == 4 || width == 8)) || ((kind == 'i' || kind == 'u') && (width == 1 || width == 2 || width == 4 || width == 8)) ||
                  (kind == 'b' && width == 1);
  if (!ok) throw InputError(fmt::format("{}: unsupported dtype '{}' (use float32/64, integers or bool)", name, a.descr));
  a.integer_dtype = kind != 'f';
  const size_t data_off = offset + header_len;
  if (bytes.size() - data_off < n * static_cast<size_t>(width))
    throw InputError(fmt::format("{}: truncated .npy data: {} bytes for {} values of {} bytes", name, bytes.size() - data_off, n, width));
  std::vector<double> vals(n);
  const char* p = bytes.data() + data_off;
  for (size_t i = 0; i < n; ++i, p += width) {
    double v = 0;
    switch (kind) {
      case 'f': v = width == 4 ? load_scalar<float>(p, swap) : load_scalar<double>(p, swap); break;
      case 'b': v = *p ? 1.0 : 0.0; break;
      case 'i':
        v = width == 1 ? load_scalar<int8_t>(p, swap) : width == 2 ? load_scalar<int16_t>(p, swap)
          : width == 4 ? load_scalar<int32_t>(p, swap) : static_cast<double>(load_scalar<int64_t>(p, swap));
        break;
      default:
        v = width == 1 ? load_scalar<uint8_t>(p, swap) : width == 2 ? load_scalar<uint16_t>(p, swap)
          : width == 4 ? load_scalar<uint32_t>(p, swap) : static_cast<double>(load_scalar<uint64_t>(p, swap));
    }
    vals[i] = v;
  }
  if (fortran && a.shape.size() > 1) {
    // Convert column-major to row-major.
    a.data.resize(n);
    const size_t nd = a.shape.size();
    std::vector<size_t> idx(nd, 0);
    for (size_t f = 0; f < n; ++f) {
      size_t c = 0;
      for (size_t d = 0; d < nd; ++d) c = c * a.shape[d] + idx[d];
      a.data[c] = vals[f];
      for (size_t d = 0; d < nd; ++d) {
        if (++idx[d] < a.shape[d]) break;
        idx[d] = 0;
      }
    }
  } else {
    a.data = std::move(vals);
  }
  return a;
}

NpyArray read_npy(const std::string& path) { return parse_npy(read_file(path), path); }

void write_npy(const std::string& path, const std::vector<double>& d, const std::vector<size_t>& s) { write_typed(path, d, s, "<f8"); }
void write_npy(const std::string& path, const std::vector<float>& d, const std::vector<size_t>& s) { write_typed(path, d, s, "<f4"); }
void write_npy(const std::string& path, const std::vector<int32_t>& d, const std::vector<size_t>& s) { write_typed(path, d, s, "<i4"); }
void write_npy(const std::string& path, const std::vector<int64_t>& d, const std::vector<size_t>& s) { write_typed(path, d, s, "<i8"); }

std::string npy_bytes(const std::vector<double>& data, const std::vector<size_t>& shape) {
  std::string bytes = make_header("<f8", shape);
  bytes.append(reinterpret_cast<const char*>(data.data()), data.size() * sizeof(double));
  return bytes;
}

}  // namespace nnspice
