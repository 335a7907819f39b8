// PyTorch checkpoint files (torch.save) read natively, without Python: both layouts —
//   zip (torch >= 1.6): <record>/data.pkl + raw little-endian storages <record>/data/<key>, stored
//                       (uncompressed) members; zip64 accepted; CRC-32 of every member used is checked;
//   legacy (< 1.6):     pickles of magic number, protocol version, sys_info, the object, the storage
//                       key list, then per storage an int64 element count and the raw elements.
// Every malformed or truncated file throws InputError naming the file and what is wrong.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "nnspice/dnpu/pickle.hpp"

namespace nnspice::dnpu {

struct TorchFile {
  std::string name;             ///< file name, for messages
  std::string layout;           ///< "zip" or "legacy"
  PyPtr root;                   ///< the unpickled object
  std::map<std::string, std::string> storage_bytes;  ///< storage key -> raw bytes
  std::map<std::string, std::shared_ptr<StorageRef>> storages;  ///< storage key -> its type/size
  bool big_endian = false;      ///< byte order of the raw storages
};

/// Reads a torch file from disk (InputError when missing or malformed).
TorchFile load_torch_file(const std::string& path);
/// Parses the bytes of a torch file; `name` is used in messages.
TorchFile parse_torch_file(const std::string& bytes, const std::string& name);

/// A tensor's values (C order, converted to double), its shape and element type.
struct TensorData {
  std::vector<std::size_t> shape;
  std::vector<double> values;
  ScalarType dtype = ScalarType::float32;
  std::size_t rows() const { return shape.empty() ? 1 : shape[0]; }
  std::size_t cols() const { return shape.size() < 2 ? 1 : shape[1]; }
};
/// Materialises a tensor of `file` (bounds-checked against its storage). `what` names it in messages.
TensorData tensor_data(const TorchFile& file, const TensorRef& t, const std::string& what);

/// Members of a stored-only zip archive: name -> bytes (CRC checked). Exposed for tests.
std::map<std::string, std::string> read_stored_zip(const std::string& bytes, const std::string& name);

}  // namespace nnspice::dnpu
