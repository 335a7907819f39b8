// A bounds-checked Python pickle VM subset (protocols 0-5) for the objects that PyTorch checkpoints
// hold: dicts/OrderedDicts, lists, tuples, scalars, strings, torch tensors (torch._utils._rebuild_tensor_v2
// over persistent-id storages), torch parameters and numpy arrays/scalars. Anything else becomes an
// opaque object (so unrelated content such as optimizer states never blocks loading). Every malformed or
// truncated stream throws InputError naming the file, the byte offset and what is wrong.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace nnspice::dnpu {

/// Element type of a torch storage or numpy array.
enum class ScalarType { float16, bfloat16, float32, float64, int8, uint8, int16, int32, int64, boolean };
std::size_t scalar_size(ScalarType t);
const char* scalar_name(ScalarType t);

/// A torch storage referenced by a persistent id ('storage', <Type>Storage, key, location, numel[, view]).
struct StorageRef {
  std::string key;          ///< name of the raw data (zip: data/<key>; legacy: key in the trailing list)
  ScalarType dtype = ScalarType::float32;
  std::uint64_t numel = 0;  ///< elements of this storage (of the view, when view_of is set)
  std::string location;     ///< "cpu", "cuda:0", ...
  std::string view_of;      ///< legacy views: the view's own key ("" = none); data live under `key`
  std::uint64_t view_offset = 0;
};

struct TensorRef {
  std::shared_ptr<StorageRef> storage;
  std::uint64_t offset = 0;        ///< in elements
  std::vector<std::int64_t> size;  ///< shape
  std::vector<std::int64_t> stride;
};

struct NdArray {
  std::vector<std::size_t> shape;
  ScalarType dtype = ScalarType::float64;
  bool big_endian = false;
  bool fortran_order = false;
  std::string raw;  ///< raw element bytes
  bool filled = false;
};

struct PyValue;
using PyPtr = std::shared_ptr<PyValue>;

struct PyValue {
  enum class Type { none, boolean, integer, floating, string, bytes, tuple, list, dict, set, global, object, storage, tensor, ndarray, dtype, mark };
  Type type = Type::none;
  bool b = false;
  std::int64_t i = 0;   ///< integer value (when big is false)
  bool big = false;     ///< integer does not fit in int64; raw little-endian two's complement bytes in s
  double f = 0;
  std::string s;        ///< string / bytes / global "module.name" / big-int bytes
  std::vector<PyPtr> items;                         ///< tuple, list, set, object args
  std::vector<std::pair<PyPtr, PyPtr>> entries;     ///< dict, insertion order
  PyPtr callable, state;                            ///< object: its constructor and BUILD state
  std::shared_ptr<StorageRef> storage;
  std::shared_ptr<TensorRef> tensor;
  std::shared_ptr<NdArray> array;
  ScalarType dtype = ScalarType::float64;           ///< numpy dtype objects
  bool dtype_big_endian = false;

  /// Value for a string key of a dict, or nullptr.
  PyPtr get(std::string_view key) const;
  bool is_number() const { return type == Type::integer || type == Type::floating || type == Type::boolean; }
  double number() const { return type == Type::floating ? f : type == Type::boolean ? (b ? 1.0 : 0.0) : static_cast<double>(i); }
  /// Short human description ("dict with 3 keys", "tensor float32 [90, 7]") for messages.
  std::string describe() const;
};

/// Unpickles one pickle starting at `pos` of `bytes`; advances `pos` past its STOP opcode.
/// `name` (the file, maybe with a member) is used in messages. Storages with the same key must agree.
class Unpickler {
 public:
  Unpickler(std::string_view bytes, std::string name);
  PyPtr load(std::size_t& pos);
  /// Every storage seen by persistent id, by key.
  const std::map<std::string, std::shared_ptr<StorageRef>>& storages() const { return storages_; }

 private:
  std::string_view bytes_;
  std::string name_;
  std::map<std::string, std::shared_ptr<StorageRef>> storages_;
};

/// Decodes the elements of a numpy array (filled by BUILD) as doubles in C order.
std::vector<double> ndarray_values(const NdArray& a, const std::string& name);
/// Decodes `count` elements of type `t` (little endian) from raw bytes as doubles.
void decode_scalars(const char* p, std::size_t count, ScalarType t, bool big_endian, double* out);

}  // namespace nnspice::dnpu
