// Writes a surrogate as a torch.save file in brains-py's layout (zip or legacy), so models trained or
// edited here can go back to brains-py, and so tests can exercise both reader paths with known content.
// Pickle protocol 2, no memo; zip members stored and 64-byte aligned like torch's writer.
#include <fmt/format.h>

#include <array>
#include <bit>
#include <cmath>
#include <cstring>

#include "nnspice/common/error.hpp"
#include "nnspice/common/fs_util.hpp"
#include "crc32.hpp"
#include "nnspice/dnpu/surrogate.hpp"

namespace nnspice::dnpu {
namespace {

class PickleWriter {
 public:
  std::string out;
  void proto() { out += "\x80\x02"; }
  void stop() { out += '.'; }
  void mark() { out += '('; }
  void str(const std::string& s) {
    out += 'X';
    u32(static_cast<std::uint32_t>(s.size()));
    out += s;
  }
  void integer(std::int64_t i) {
    if (i >= 0 && i < 256) { out += 'K'; out += static_cast<char>(i); }
    else if (i >= 0 && i < 65536) { out += 'M'; out += static_cast<char>(i & 0xff); out += static_cast<char>(i >> 8); }
    else if (i >= INT32_MIN && i <= INT32_MAX) { out += 'J'; u32(static_cast<std::uint32_t>(static_cast<std::int32_t>(i))); }
    else { out += "\x8a\x08"; for (int k = 0; k < 8; ++k) out += static_cast<char>((static_cast<std::uint64_t>(i) >> (8 * k)) & 0xff); }
  }
  void real(double x) {
    out += 'G';
    const auto bits = std::bit_cast<std::uint64_t>(x);
    for (int k = 7; k >= 0; --k) out += static_cast<char>((bits >> (8 * k)) & 0xff);
  }
  void none() { out += 'N'; }
  void boolean(bool b) { out += b ? '\x88' : '\x89'; }
  void global(const std::string& mod, const std::string& name) { out += 'c' + mod + '\n' + name + '\n'; }
  void tuple() { out += 't'; }
  void empty_tuple() { out += ')'; }
  void empty_dict() { out += '}'; }
  void empty_list() { out += ']'; }
  void setitems() { out += 'u'; }
  void appends() { out += 'e'; }
  void reduce() { out += 'R'; }
  void persid() { out += 'Q'; }
  void u32(std::uint32_t v) { for (int k = 0; k < 4; ++k) out += static_cast<char>((v >> (8 * k)) & 0xff); }
  void int_tuple(const std::vector<std::int64_t>& v) {
    mark();
    for (auto x : v) integer(x);
    tuple();
  }
  void number_list(const std::vector<double>& v) {
    empty_list();
    mark();
    for (double x : v) real(x);
    appends();
  }
};

struct Blob {
  std::string key;
  std::string bytes;
  std::size_t numel;
};

void write_tensor(PickleWriter& w, std::vector<Blob>& blobs, const std::vector<double>& values, const std::vector<std::int64_t>& shape, ScalarType t, bool legacy) {
  const std::string key = std::to_string(blobs.size());
  Blob b{key, {}, values.size()};
  for (double x : values) {
    if (t == ScalarType::float32) {
      const float f = static_cast<float>(x);
      char c[4];
      std::memcpy(c, &f, 4);
      b.bytes.append(c, 4);
    } else {
      char c[8];
      std::memcpy(c, &x, 8);
      b.bytes.append(c, 8);
    }
  }
  blobs.push_back(b);
  std::vector<std::int64_t> stride(shape.size(), 1);
  for (std::size_t k = shape.size(); k-- > 1;) stride[k - 1] = stride[k] * shape[k];
  w.global("torch._utils", "_rebuild_tensor_v2");
  w.mark();
  w.mark();
  w.str("storage");
  w.global("torch", t == ScalarType::float32 ? "FloatStorage" : "DoubleStorage");
  w.str(key);
  w.str("cpu");
  w.integer(static_cast<std::int64_t>(values.size()));
  if (legacy) w.none();
  w.tuple();
  w.persid();
  w.integer(0);
  w.int_tuple(shape);
  w.int_tuple(stride);
  w.boolean(false);
  w.global("collections", "OrderedDict");
  w.empty_tuple();
  w.reduce();
  w.tuple();
  w.reduce();
}

std::string build_object_pickle(const SurrogateModel& m, ScalarType t, bool legacy, std::vector<Blob>& blobs) {
  PickleWriter w;
  w.proto();
  w.empty_dict();
  w.mark();
  w.str("model_state_dict");
  w.global("collections", "OrderedDict");
  w.empty_tuple();
  w.reduce();
  w.mark();
  for (std::size_t l = 0; l < m.n_layers(); ++l) {
    const auto& W = m.weights[l];
    std::vector<double> wv;
    for (Eigen::Index r = 0; r < W.rows(); ++r)
      for (Eigen::Index c = 0; c < W.cols(); ++c) wv.push_back(W(r, c));
    w.str(fmt::format("raw_model.{}.weight", 2 * l));
    write_tensor(w, blobs, wv, {W.rows(), W.cols()}, t, legacy);
    w.str(fmt::format("raw_model.{}.bias", 2 * l));
    write_tensor(w, blobs, std::vector<double>(m.biases[l].data(), m.biases[l].data() + m.biases[l].size()), {m.biases[l].size()}, t, legacy);
  }
  w.setitems();
  w.str("info");
  w.empty_dict();
  w.mark();
  {
    w.str("model_structure");
    w.empty_dict();
    w.mark();
    w.str("hidden_sizes");
    w.empty_list();
    w.mark();
    for (std::size_t l = 0; l + 1 < m.n_layers(); ++l) w.integer(m.weights[l].rows());
    w.appends();
    w.str("D_in");
    w.integer(static_cast<std::int64_t>(m.n_inputs()));
    w.str("D_out");
    w.integer(1);
    w.str("activation");
    w.str(activation_name(m.activation));
    w.setitems();
    w.str("electrode_info");
    w.empty_dict();
    w.mark();
    w.str("electrode_no");
    w.integer(static_cast<std::int64_t>(m.n_inputs() + 1));
    w.str("activation_electrodes");
    w.empty_dict();
    w.mark();
    w.str("electrode_no");
    w.integer(static_cast<std::int64_t>(m.n_inputs()));
    w.str("voltage_ranges");
    if (m.voltage_ranges_V.empty()) {
      w.none();
    } else {
      w.empty_list();
      w.mark();
      for (const auto& r : m.voltage_ranges_V) w.number_list({r[0], r[1]});
      w.appends();
    }
    w.setitems();
    w.str("output_electrodes");
    w.empty_dict();
    w.mark();
    w.str("electrode_no");
    w.integer(1);
    w.str("amplification");
    w.number_list({m.amplification});
    w.str("clipping_value");
    if (std::isinf(m.clip_min_nA) && std::isinf(m.clip_max_nA)) w.none();
    else w.number_list({m.clip_min_nA, m.clip_max_nA});
    w.setitems();
    w.setitems();
  }
  w.setitems();
  w.setitems();
  w.stop();
  return w.out;
}


void le(std::string& o, std::uint64_t v, int n) {
  for (int k = 0; k < n; ++k) o += static_cast<char>((v >> (8 * k)) & 0xff);
}

std::string stored_zip(const std::vector<std::pair<std::string, std::string>>& members) {
  std::string out, cd;
  for (const auto& [name, data] : members) {
    const std::uint64_t off = out.size();
    const std::uint32_t crc = detail::crc32(data.data(), data.size());
    // pad with an extra field so the data start on a 64-byte boundary (as torch does)
    std::size_t pad = (64 - (off + 30 + name.size() + 4) % 64) % 64;
    std::string lh;
    le(lh, 0x04034b50u, 4); le(lh, 20, 2); le(lh, 0, 2); le(lh, 0, 2); le(lh, 0, 2); le(lh, 0x21, 2);
    le(lh, crc, 4); le(lh, data.size(), 4); le(lh, data.size(), 4); le(lh, name.size(), 2); le(lh, pad + 4, 2);
    lh += name;
    le(lh, 0x4246, 2); le(lh, pad, 2); lh.append(pad, 'Z');
    out += lh;
    out += data;
    le(cd, 0x02014b50u, 4); le(cd, 20, 2); le(cd, 20, 2); le(cd, 0, 2); le(cd, 0, 2); le(cd, 0, 2); le(cd, 0x21, 2);
    le(cd, crc, 4); le(cd, data.size(), 4); le(cd, data.size(), 4); le(cd, name.size(), 2); le(cd, 0, 2); le(cd, 0, 2);
    le(cd, 0, 2); le(cd, 0, 2); le(cd, 0, 4); le(cd, off, 4);
    cd += name;
  }
  const std::uint64_t cd_off = out.size();
  out += cd;
  le(out, 0x06054b50u, 4); le(out, 0, 2); le(out, 0, 2); le(out, members.size(), 2); le(out, members.size(), 2);
  le(out, cd.size(), 4); le(out, cd_off, 4); le(out, 0, 2);
  return out;
}

}  // namespace

void save_surrogate_torch(const SurrogateModel& m, const std::string& path, bool legacy, ScalarType dtype) {
  m.validate("surrogate");
  if (dtype != ScalarType::float32 && dtype != ScalarType::float64) throw InputError("torch output: dtype must be float32 or float64");
  std::vector<Blob> blobs;
  const std::string obj = build_object_pickle(m, dtype, legacy, blobs);
  std::string bytes;
  if (legacy) {
    PickleWriter w;
    w.proto();
    w.out += std::string("\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19", 12);
    w.stop();
    w.proto();
    w.integer(1001);
    w.stop();
    w.proto();
    w.empty_dict();
    w.mark();
    w.str("protocol_version");
    w.integer(1001);
    w.str("little_endian");
    w.boolean(true);
    w.str("type_sizes");
    w.empty_dict();
    w.mark();
    w.str("short"); w.integer(2);
    w.str("int"); w.integer(4);
    w.str("long"); w.integer(4);
    w.setitems();
    w.setitems();
    w.stop();
    w.out += obj;
    w.proto();
    w.empty_list();
    w.mark();
    for (const auto& b : blobs) w.str(b.key);
    w.appends();
    w.stop();
    bytes = w.out;
    for (const auto& b : blobs) {
      le(bytes, b.numel, 8);
      bytes += b.bytes;
    }
  } else {
    std::vector<std::pair<std::string, std::string>> members{{"archive/data.pkl", obj}};
    for (const auto& b : blobs) members.emplace_back("archive/data/" + b.key, b.bytes);
    members.emplace_back("archive/version", "3\n");
    members.emplace_back("archive/byteorder", "little");
    bytes = stored_zip(members);
  }
  write_file_atomic(path, bytes);
}

}  // namespace nnspice::dnpu
