#include "crc32.hpp"
#include "nnspice/dnpu/torch_file.hpp"

#include <fmt/format.h>

#include <array>
#include <cstring>

#include "nnspice/common/error.hpp"
#include "nnspice/common/fs_util.hpp"

namespace nnspice::dnpu {
namespace {

using detail::crc32;

std::uint64_t rd(const std::string& b, std::size_t pos, std::size_t n) {
  std::uint64_t v = 0;
  for (std::size_t k = 0; k < n; ++k) v |= static_cast<std::uint64_t>(static_cast<unsigned char>(b[pos + k])) << (8 * k);
  return v;
}


}  // namespace

std::map<std::string, std::string> read_stored_zip(const std::string& b, const std::string& name) {
  auto fail = [&](const std::string& what) -> void { throw InputError(fmt::format("{}: zip archive: {}", name, what)); };
  if (b.size() < 22) fail("file too short for a zip archive (truncated?)");
  // End of central directory: the last occurrence of its signature within the final 64 KiB + 22 bytes.
  std::size_t eocd = std::string::npos;
  const std::size_t lo = b.size() > 22 + 65535 ? b.size() - 22 - 65535 : 0;
  for (std::size_t p = b.size() - 22 + 1; p-- > lo;)
    if (rd(b, p, 4) == 0x06054b50u) { eocd = p; break; }
  if (eocd == std::string::npos) fail("no end-of-central-directory record (truncated file?)");
  std::uint64_t entries = rd(b, eocd + 10, 2), cd_size = rd(b, eocd + 12, 4), cd_off = rd(b, eocd + 16, 4);
  if (entries == 0xFFFF || cd_size == 0xFFFFFFFFu || cd_off == 0xFFFFFFFFu) {
    if (eocd < 20 || rd(b, eocd - 20, 4) != 0x07064b50u) fail("zip64 sizes announced but no zip64 locator");
    const std::uint64_t z64 = rd(b, eocd - 20 + 8, 8);
    if (z64 > b.size() - 56 || rd(b, z64, 4) != 0x06064b50u) fail("bad zip64 end-of-central-directory record");
    entries = rd(b, z64 + 32, 8);
    cd_size = rd(b, z64 + 40, 8);
    cd_off = rd(b, z64 + 48, 8);
  }
  if (cd_off > b.size() || cd_size > b.size() - cd_off) fail(fmt::format("central directory [{}, +{}] lies outside the {}-byte file (truncated?)", cd_off, cd_size, b.size()));
  if (entries > cd_size / 46 + 1) fail(fmt::format("{} entries cannot fit a {}-byte central directory", entries, cd_size));
  std::map<std::string, std::string> out;
  std::size_t p = static_cast<std::size_t>(cd_off);
  const std::size_t cd_end = static_cast<std::size_t>(cd_off + cd_size);
  for (std::uint64_t e = 0; e < entries; ++e) {
    if (p + 46 > cd_end || rd(b, p, 4) != 0x02014b50u) fail(fmt::format("central directory entry {} is corrupt", e));
    const unsigned flags = static_cast<unsigned>(rd(b, p + 8, 2));
    const unsigned method = static_cast<unsigned>(rd(b, p + 10, 2));
    const std::uint32_t crc = static_cast<std::uint32_t>(rd(b, p + 16, 4));
    std::uint64_t csize = rd(b, p + 20, 4), usize = rd(b, p + 24, 4);
    const std::size_t nlen = rd(b, p + 28, 2), xlen = rd(b, p + 30, 2), clen = rd(b, p + 32, 2);
    std::uint64_t loff = rd(b, p + 42, 4);
    if (p + 46 + nlen + xlen + clen > cd_end) fail(fmt::format("central directory entry {} overruns the directory", e));
    const std::string member = b.substr(p + 46, nlen);
    // zip64 extra field: 8-byte values for the fields that are 0xFFFFFFFF, in order usize, csize, offset.
    for (std::size_t x = p + 46 + nlen; x + 4 <= p + 46 + nlen + xlen;) {
      const unsigned id = static_cast<unsigned>(rd(b, x, 2));
      const std::size_t len = rd(b, x + 2, 2);
      if (x + 4 + len > p + 46 + nlen + xlen) fail(fmt::format("member '{}': extra field overruns its entry", member));
      if (id == 0x0001) {
        std::size_t q = x + 4;
        auto next = [&](std::uint64_t& field) {
          if (field != 0xFFFFFFFFu) return;
          if (q + 8 > x + 4 + len) fail(fmt::format("member '{}': short zip64 extra field", member));
          field = rd(b, q, 8);
          q += 8;
        };
        next(usize);
        next(csize);
        next(loff);
      }
      x += 4 + len;
    }
    p += 46 + nlen + xlen + clen;
    if (flags & 1) fail(fmt::format("member '{}' is encrypted", member));
    if (method != 0)
      fail(fmt::format("member '{}' is compressed (method {}); torch.save writes stored members — re-save the file with torch.save", member, method));
    if (csize != usize) fail(fmt::format("member '{}': stored sizes differ ({} vs {})", member, csize, usize));
    if (loff > b.size() || b.size() - loff < 30 || rd(b, loff, 4) != 0x04034b50u)
      fail(fmt::format("member '{}': local header at byte {} is missing or corrupt (truncated?)", member, loff));
    const std::uint64_t data = loff + 30 + rd(b, loff + 26, 2) + rd(b, loff + 28, 2);
    if (data > b.size() || usize > b.size() - data)
      fail(fmt::format("member '{}': data [{}, +{}] lies outside the {}-byte file (truncated?)", member, data, usize, b.size()));
    std::string bytes = b.substr(static_cast<std::size_t>(data), static_cast<std::size_t>(usize));
    if (crc32(bytes.data(), bytes.size()) != crc) fail(fmt::format("member '{}': CRC-32 mismatch (corrupt file)", member));
    out.emplace(member, std::move(bytes));
  }
  return out;
}

namespace {

TorchFile parse_zip(const std::string& bytes, const std::string& name) {
  TorchFile f;
  f.name = name;
  f.layout = "zip";
  auto members = read_stored_zip(bytes, name);
  std::string prefix;
  bool found = false;
  for (const auto& [m, _] : members) {
    const auto slash = m.find('/');
    if (slash != std::string::npos && m.substr(slash + 1) == "data.pkl") { prefix = m.substr(0, slash + 1); found = true; break; }
    if (m == "data.pkl") { found = true; break; }
  }
  if (!found) throw InputError(fmt::format("{}: zip archive has no <record>/data.pkl: not a torch.save file", name));
  if (auto it = members.find(prefix + "byteorder"); it != members.end()) {
    if (it->second == "big") f.big_endian = true;
    else if (it->second != "little") throw InputError(fmt::format("{}: unknown byteorder '{}'", name, it->second));
  }
  const std::string& pkl = members.at(prefix + "data.pkl");
  Unpickler u(pkl, name + ":" + prefix + "data.pkl");
  std::size_t pos = 0;
  f.root = u.load(pos);
  f.storages = u.storages();
  for (const auto& [key, ref] : f.storages) {
    auto it = members.find(prefix + "data/" + key);
    if (it == members.end()) throw InputError(fmt::format("{}: storage '{}' is referenced but the member {}data/{} is missing", name, key, prefix, key));
    const std::uint64_t need = ref->numel * scalar_size(ref->dtype);
    if (it->second.size() < need)
      throw InputError(fmt::format("{}: storage '{}' holds {} bytes, {} x {} needs {}", name, key, it->second.size(), ref->numel, scalar_name(ref->dtype), need));
    f.storage_bytes[key] = std::move(it->second);
  }
  return f;
}

TorchFile parse_legacy(const std::string& bytes, const std::string& name) {
  TorchFile f;
  f.name = name;
  f.layout = "legacy";
  Unpickler u(bytes, name);
  std::size_t pos = 0;
  const PyPtr magic = u.load(pos);
  static const std::string kMagic("\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19", 10);
  if (!(magic->type == PyValue::Type::integer && magic->big && magic->s == kMagic))
    throw InputError(fmt::format("{}: not a torch file: its first pickle is {}, not the torch magic number", name, magic->describe()));
  const PyPtr proto = u.load(pos);
  if (!(proto->type == PyValue::Type::integer && proto->i == 1001))
    throw InputError(fmt::format("{}: unsupported torch legacy protocol version ({})", name, proto->describe()));
  const PyPtr sys_info = u.load(pos);
  if (sys_info->type != PyValue::Type::dict) throw InputError(fmt::format("{}: legacy sys_info is {}, expected a dict", name, sys_info->describe()));
  if (auto le = sys_info->get("little_endian"); le && le->type == PyValue::Type::boolean) f.big_endian = !le->b;
  f.root = u.load(pos);
  const PyPtr keys = u.load(pos);
  if (keys->type != PyValue::Type::list) throw InputError(fmt::format("{}: the storage key list is {}, expected a list", name, keys->describe()));
  f.storages = u.storages();
  for (const auto& k : keys->items) {
    if (k->type != PyValue::Type::string) throw InputError(fmt::format("{}: storage key is {}", name, k->describe()));
    auto it = f.storages.find(k->s);
    if (it == f.storages.end()) throw InputError(fmt::format("{}: storage '{}' in the key list is not referenced by any tensor", name, k->s));
    if (bytes.size() - pos < 8) throw InputError(fmt::format("{}: file ends before the size of storage '{}' (truncated?)", name, k->s));
    std::uint64_t n = 0;
    for (std::size_t q = 0; q < 8; ++q) {
      const std::size_t byte = f.big_endian ? 7 - q : q;
      n |= static_cast<std::uint64_t>(static_cast<unsigned char>(bytes[pos + byte])) << (8 * q);
    }
    pos += 8;
    if (n != it->second->numel)
      throw InputError(fmt::format("{}: storage '{}' declares {} elements in its header, {} in the pickle", name, k->s, n, it->second->numel));
    const std::uint64_t nbytes = n * scalar_size(it->second->dtype);
    if (nbytes > bytes.size() - pos)
      throw InputError(fmt::format("{}: storage '{}' needs {} bytes but only {} remain (truncated file)", name, k->s, nbytes, bytes.size() - pos));
    f.storage_bytes[k->s] = bytes.substr(pos, static_cast<std::size_t>(nbytes));
    pos += static_cast<std::size_t>(nbytes);
  }
  for (const auto& [key, _] : f.storages)
    if (!f.storage_bytes.count(key)) throw InputError(fmt::format("{}: storage '{}' is used by a tensor but has no data in the file", name, key));
  return f;
}

}  // namespace

TorchFile parse_torch_file(const std::string& bytes, const std::string& name) {
  if (bytes.size() >= 4 && bytes.compare(0, 4, "PK\x03\x04") == 0) return parse_zip(bytes, name);
  if (bytes.size() >= 2 && static_cast<unsigned char>(bytes[0]) == 0x80) return parse_legacy(bytes, name);
  if (bytes.size() > 262 && bytes.compare(257, 5, "ustar") == 0)
    throw InputError(fmt::format("{}: this is the pre-0.4 torch tar layout, which is not supported; re-save it with a newer torch", name));
  if (bytes.empty()) throw InputError(fmt::format("{}: the file is empty", name));
  throw InputError(fmt::format("{}: not a torch file (neither a zip archive nor a pickle stream)", name));
}

TorchFile load_torch_file(const std::string& path) { return parse_torch_file(read_file(path), path); }

TensorData tensor_data(const TorchFile& file, const TensorRef& t, const std::string& what) {
  const StorageRef& ref = *t.storage;
  auto it = file.storage_bytes.find(ref.key);
  if (it == file.storage_bytes.end()) throw InputError(fmt::format("{}: {}: storage '{}' has no data", file.name, what, ref.key));
  auto st = file.storages.find(ref.key);
  if (st == file.storages.end() || st->second->dtype != ref.dtype)
    throw InputError(fmt::format("{}: {}: storage '{}' type mismatch", file.name, what, ref.key));
  const std::size_t esz = scalar_size(ref.dtype);
  const std::uint64_t base = ref.view_offset + t.offset;  // view offset (legacy views) + tensor offset
  TensorData d;
  d.dtype = ref.dtype;
  std::size_t n = 1;
  for (auto s : t.size) { d.shape.push_back(static_cast<std::size_t>(s)); n *= static_cast<std::size_t>(s); }
  d.values.resize(n);
  const std::string& raw = it->second;
  const std::uint64_t avail = raw.size() / esz;
  std::vector<std::size_t> idx(t.size.size(), 0);
  for (std::size_t k = 0; k < n; ++k) {
    std::uint64_t e = base;
    for (std::size_t dim = 0; dim < idx.size(); ++dim) e += idx[dim] * static_cast<std::uint64_t>(t.stride[dim]);
    if (e >= avail) throw InputError(fmt::format("{}: {}: element {} outside storage '{}' ({} elements)", file.name, what, e, ref.key, avail));
    decode_scalars(raw.data() + e * esz, 1, ref.dtype, file.big_endian, &d.values[k]);
    for (std::size_t dim = idx.size(); dim-- > 0;) {
      if (++idx[dim] < static_cast<std::size_t>(t.size[dim])) break;
      idx[dim] = 0;
    }
  }
  return d;
}

}  // namespace nnspice::dnpu
