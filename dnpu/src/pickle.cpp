#include "nnspice/dnpu/pickle.hpp"

#include <fmt/format.h>

#include <bit>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <limits>
#include <unordered_map>

#include "nnspice/common/error.hpp"

namespace nnspice::dnpu {

std::size_t scalar_size(ScalarType t) {
  switch (t) {
    case ScalarType::float16: case ScalarType::bfloat16: case ScalarType::int16: return 2;
    case ScalarType::float32: case ScalarType::int32: return 4;
    case ScalarType::float64: case ScalarType::int64: return 8;
    case ScalarType::int8: case ScalarType::uint8: case ScalarType::boolean: return 1;
  }
  return 1;
}

const char* scalar_name(ScalarType t) {
  switch (t) {
    case ScalarType::float16: return "float16";
    case ScalarType::bfloat16: return "bfloat16";
    case ScalarType::float32: return "float32";
    case ScalarType::float64: return "float64";
    case ScalarType::int8: return "int8";
    case ScalarType::uint8: return "uint8";
    case ScalarType::int16: return "int16";
    case ScalarType::int32: return "int32";
    case ScalarType::int64: return "int64";
    case ScalarType::boolean: return "bool";
  }
  return "?";
}

namespace {

double half_to_double(std::uint16_t h) {
  const int sign = (h >> 15) & 1, exp = (h >> 10) & 0x1f, man = h & 0x3ff;
  double v;
  if (exp == 0) v = std::ldexp(man, -24);
  else if (exp == 31) v = man ? std::numeric_limits<double>::quiet_NaN() : std::numeric_limits<double>::infinity();
  else v = std::ldexp(man + 1024, exp - 25);
  return sign ? -v : v;
}

template <typename T>
T load_le(const char* p, bool big_endian) {
  unsigned char b[sizeof(T)];
  std::memcpy(b, p, sizeof(T));
  const bool swap = big_endian == (std::endian::native == std::endian::little);
  if (swap)
    for (std::size_t k = 0; k < sizeof(T) / 2; ++k) std::swap(b[k], b[sizeof(T) - 1 - k]);
  T v;
  std::memcpy(&v, b, sizeof(T));
  return v;
}

}  // namespace

void decode_scalars(const char* p, std::size_t count, ScalarType t, bool big_endian, double* out) {
  const std::size_t sz = scalar_size(t);
  for (std::size_t k = 0; k < count; ++k, p += sz) {
    switch (t) {
      case ScalarType::float16: out[k] = half_to_double(load_le<std::uint16_t>(p, big_endian)); break;
      case ScalarType::bfloat16: {
        const std::uint32_t bits = static_cast<std::uint32_t>(load_le<std::uint16_t>(p, big_endian)) << 16;
        out[k] = std::bit_cast<float>(bits);
        break;
      }
      case ScalarType::float32: out[k] = load_le<float>(p, big_endian); break;
      case ScalarType::float64: out[k] = load_le<double>(p, big_endian); break;
      case ScalarType::int8: out[k] = static_cast<std::int8_t>(*p); break;
      case ScalarType::uint8: out[k] = static_cast<unsigned char>(*p); break;
      case ScalarType::boolean: out[k] = *p ? 1.0 : 0.0; break;
      case ScalarType::int16: out[k] = load_le<std::int16_t>(p, big_endian); break;
      case ScalarType::int32: out[k] = load_le<std::int32_t>(p, big_endian); break;
      case ScalarType::int64: out[k] = static_cast<double>(load_le<std::int64_t>(p, big_endian)); break;
    }
  }
}

PyPtr PyValue::get(std::string_view key) const {
  if (type != Type::dict) return nullptr;
  for (const auto& [k, v] : entries)
    if (k && k->type == Type::string && k->s == key) return v;
  return nullptr;
}

std::string PyValue::describe() const {
  switch (type) {
    case Type::none: return "None";
    case Type::boolean: return b ? "True" : "False";
    case Type::integer: return big ? "a big integer" : fmt::format("integer {}", i);
    case Type::floating: return fmt::format("float {}", f);
    case Type::string: return fmt::format("string '{}'", s.size() > 40 ? s.substr(0, 40) + "..." : s);
    case Type::bytes: return fmt::format("bytes of length {}", s.size());
    case Type::tuple: return fmt::format("tuple of {}", items.size());
    case Type::list: return fmt::format("list of {}", items.size());
    case Type::set: return fmt::format("set of {}", items.size());
    case Type::dict: return fmt::format("dict with {} keys", entries.size());
    case Type::global: return fmt::format("global {}", s);
    case Type::object: return fmt::format("object of {}", callable && callable->type == Type::global ? callable->s : "?");
    case Type::storage: return "storage";
    case Type::tensor: {
      std::string shp;
      for (auto d : tensor->size) shp += (shp.empty() ? "" : ", ") + std::to_string(d);
      return fmt::format("tensor {} [{}]", scalar_name(tensor->storage->dtype), shp);
    }
    case Type::ndarray: return "numpy array";
    case Type::dtype: return fmt::format("numpy dtype {}", scalar_name(dtype));
    case Type::mark: return "mark";
  }
  return "?";
}

std::vector<double> ndarray_values(const NdArray& a, const std::string& name) {
  if (!a.filled) throw InputError(fmt::format("{}: a numpy array has no (or non-numeric) data", name));
  std::size_t n = 1;
  for (auto d : a.shape) n *= d;
  std::vector<double> out(n);
  if (n) decode_scalars(a.raw.data(), n, a.dtype, a.big_endian, out.data());
  if (a.fortran_order && a.shape.size() == 2) {
    std::vector<double> c(n);
    const std::size_t r = a.shape[0], cc = a.shape[1];
    for (std::size_t i = 0; i < r; ++i)
      for (std::size_t j = 0; j < cc; ++j) c[i * cc + j] = out[j * r + i];
    return c;
  }
  if (a.fortran_order && a.shape.size() > 2)
    throw InputError(fmt::format("{}: Fortran-order numpy arrays of rank > 2 are not supported", name));
  return out;
}

Unpickler::Unpickler(std::string_view bytes, std::string name) : bytes_(bytes), name_(std::move(name)) {}

namespace {

using T = PyValue::Type;

// Every value the running Vm creates, so that reference cycles (a list appended to itself through the memo,
// which shared_ptr would leak) can be found and broken whatever way the load ends. One Vm per thread at a time.
thread_local std::vector<PyPtr>* g_created = nullptr;

PyPtr make(T t) {
  auto v = std::make_shared<PyValue>();
  v->type = t;
  if (g_created) g_created->push_back(v);
  return v;
}

// Drops the links of a value to others (breaks any cycle through it).
void unlink(PyValue& v) {
  v.items.clear();
  v.entries.clear();
  v.callable.reset();
  v.state.reset();
}

// The values linked from v (items, dict keys and values, constructor, state).
template <typename F>
void for_each_child(const PyValue& v, F&& f) {
  for (const auto& x : v.items) f(x.get());
  for (const auto& [k, x] : v.entries) {
    f(k.get());
    f(x.get());
  }
  f(v.callable.get());
  f(v.state.get());
}

// True when a value reachable from `root` links back to one of its ancestors. Iterative (a deeply nested
// pickle must not exhaust the stack); records every reachable value in `state`.
bool has_cycle(const PyValue* root, std::unordered_map<const PyValue*, int>& state) {
  enum { in_progress = 1, finished = 2 };
  struct Frame {
    const PyValue* v;
    std::vector<const PyValue*> children;
    std::size_t next = 0;
  };
  std::vector<Frame> stack;
  auto enter = [&](const PyValue* v) {
    state[v] = in_progress;
    Frame f{v, {}, 0};
    for_each_child(*v, [&](const PyValue* c) {
      if (c) f.children.push_back(c);
    });
    stack.push_back(std::move(f));
  };
  enter(root);
  while (!stack.empty()) {
    Frame& f = stack.back();
    if (f.next == f.children.size()) {
      state[f.v] = finished;
      stack.pop_back();
      continue;
    }
    const PyValue* c = f.children[f.next++];
    const auto it = state.find(c);
    if (it == state.end()) enter(c);
    else if (it->second == in_progress) return true;
  }
  return false;
}
PyPtr make_int(std::int64_t i) {
  auto v = make(T::integer);
  v->i = i;
  return v;
}
PyPtr make_str(std::string s, T t = T::string) {
  auto v = make(t);
  v->s = std::move(s);
  return v;
}

bool storage_type_of(const std::string& global, ScalarType& t) {
  static const std::pair<const char*, ScalarType> table[] = {
      {"torch.FloatStorage", ScalarType::float32},   {"torch.DoubleStorage", ScalarType::float64},
      {"torch.HalfStorage", ScalarType::float16},    {"torch.BFloat16Storage", ScalarType::bfloat16},
      {"torch.LongStorage", ScalarType::int64},      {"torch.IntStorage", ScalarType::int32},
      {"torch.ShortStorage", ScalarType::int16},     {"torch.CharStorage", ScalarType::int8},
      {"torch.ByteStorage", ScalarType::uint8},      {"torch.BoolStorage", ScalarType::boolean},
      {"torch.UntypedStorage", ScalarType::uint8},   {"torch.cuda.FloatStorage", ScalarType::float32},
      {"torch.cuda.DoubleStorage", ScalarType::float64}, {"torch.cuda.LongStorage", ScalarType::int64},
  };
  for (const auto& [n, st] : table)
    if (global == n) { t = st; return true; }
  return false;
}

bool numpy_dtype_of(std::string code, ScalarType& t, bool& big) {
  big = false;
  if (!code.empty() && (code[0] == '<' || code[0] == '>' || code[0] == '|' || code[0] == '=')) {
    big = code[0] == '>';
    code = code.substr(1);
  }
  static const std::pair<const char*, ScalarType> table[] = {
      {"f2", ScalarType::float16}, {"f4", ScalarType::float32}, {"f8", ScalarType::float64},
      {"i1", ScalarType::int8},    {"u1", ScalarType::uint8},   {"i2", ScalarType::int16},
      {"i4", ScalarType::int32},   {"i8", ScalarType::int64},   {"b1", ScalarType::boolean},
      {"?", ScalarType::boolean},  {"float64", ScalarType::float64}, {"float32", ScalarType::float32},
      {"int64", ScalarType::int64}, {"int32", ScalarType::int32}, {"bool", ScalarType::boolean},
  };
  for (const auto& [n, st] : table)
    if (code == n) { t = st; return true; }
  return false;
}

/// UTF-8 -> code points; false when invalid.
bool utf8_to_latin1(const std::string& s, std::string& out) {
  out.clear();
  for (std::size_t k = 0; k < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[k]);
    std::uint32_t cp;
    std::size_t len;
    if (c < 0x80) { cp = c; len = 1; }
    else if ((c & 0xe0) == 0xc0) { cp = c & 0x1f; len = 2; }
    else if ((c & 0xf0) == 0xe0) { cp = c & 0x0f; len = 3; }
    else if ((c & 0xf8) == 0xf0) { cp = c & 0x07; len = 4; }
    else return false;
    if (k + len > s.size()) return false;
    for (std::size_t j = 1; j < len; ++j) {
      const unsigned char cc = static_cast<unsigned char>(s[k + j]);
      if ((cc & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    if (cp > 0xff) return false;
    out.push_back(static_cast<char>(cp));
    k += len;
  }
  return true;
}

std::string latin1_to_utf8(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (c < 0x80) out.push_back(static_cast<char>(c));
    else {
      out.push_back(static_cast<char>(0xc0 | (c >> 6)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3f)));
    }
  }
  return out;
}

class Vm {
 public:
  Vm(std::string_view bytes, const std::string& name, std::size_t pos, std::map<std::string, std::shared_ptr<StorageRef>>& storages)
      : b_(bytes), name_(name), pos_(pos), storages_(storages) {}

  PyPtr run(std::size_t& end_pos) {
    const std::size_t start = pos_;
    if (pos_ >= b_.size()) fail(start, "expected a pickle but the data ends here (truncated file?)");
    for (;;) {
      if (pos_ >= b_.size()) fail(pos_, "the pickle ends without a STOP opcode (truncated file?)");
      op_pos_ = pos_;
      const unsigned char op = static_cast<unsigned char>(b_[pos_++]);
      switch (op) {
        case 0x80: { const unsigned proto = u8(); if (proto > 5) fail(op_pos_, fmt::format("unsupported pickle protocol {}", proto)); break; }
        case 0x95: take(8); break;  // FRAME: length is informational
        case '.': {
          if (stack_.size() != 1 || !marks_.empty()) fail(op_pos_, fmt::format("STOP with {} values on the stack (corrupt pickle)", stack_.size()));
          end_pos = pos_;
          return stack_.back();
        }
        case '(': marks_.push_back(stack_.size()); break;
        case '0': pop(); break;
        case '1': pop_mark(); break;
        case '2': push(top()); break;
        case 'N': push(make(T::none)); break;
        case 0x88: { auto v = make(T::boolean); v->b = true; push(v); break; }
        case 0x89: { auto v = make(T::boolean); v->b = false; push(v); break; }
        case 'J': { const char* p = take(4); push(make_int(load_le<std::int32_t>(p, false))); break; }
        case 'K': push(make_int(u8())); break;
        case 'M': { const char* p = take(2); push(make_int(load_le<std::uint16_t>(p, false))); break; }
        case 0x8a: { const std::size_t n = u8(); push(long_bytes(take(n), n)); break; }
        case 0x8b: { const char* p = take(4); const std::int32_t n = load_le<std::int32_t>(p, false); if (n < 0) fail(op_pos_, "negative LONG4 length"); push(long_bytes(take(static_cast<std::size_t>(n)), static_cast<std::size_t>(n))); break; }
        case 'I': push(text_int(line())); break;
        case 'L': { std::string l = line(); if (!l.empty() && l.back() == 'L') l.pop_back(); push(text_int(l)); break; }
        case 'G': {
          const char* p = take(8);
          auto v = make(T::floating);
          v->f = load_le<double>(p, true);
          push(v);
          break;
        }
        case 'F': {
          const std::string l = line();
          auto v = make(T::floating);
          char* endp = nullptr;
          v->f = std::strtod(l.c_str(), &endp);
          if (l.empty() || *endp) fail(op_pos_, fmt::format("bad FLOAT literal '{}'", l));
          push(v);
          break;
        }
        case 'X': { const char* p = take(4); const std::uint32_t n = load_le<std::uint32_t>(p, false); push(make_str(std::string(take(n), n))); break; }
        case 0x8c: { const std::size_t n = u8(); push(make_str(std::string(take(n), n))); break; }
        case 0x8d: { const std::size_t n = len8(); push(make_str(std::string(take(n), n))); break; }
        case 'V': push(make_str(line())); break;  // raw-unicode-escape; ASCII content is all we expect
        case 'T': { const char* p = take(4); const std::int32_t n = load_le<std::int32_t>(p, false); if (n < 0) fail(op_pos_, "negative BINSTRING length"); push(make_str(latin1_to_utf8(std::string(take(static_cast<std::size_t>(n)), static_cast<std::size_t>(n))))); break; }
        case 'U': { const std::size_t n = u8(); push(make_str(latin1_to_utf8(std::string(take(n), n)))); break; }
        case 'S': {
          std::string l = line();
          if (l.size() >= 2 && (l.front() == '\'' || l.front() == '"') && l.back() == l.front()) l = l.substr(1, l.size() - 2);
          push(make_str(l));
          break;
        }
        case 'B': { const char* p = take(4); const std::uint32_t n = load_le<std::uint32_t>(p, false); push(make_str(std::string(take(n), n), T::bytes)); break; }
        case 'C': { const std::size_t n = u8(); push(make_str(std::string(take(n), n), T::bytes)); break; }
        case 0x8e: case 0x96: { const std::size_t n = len8(); push(make_str(std::string(take(n), n), T::bytes)); break; }
        case 0x98: break;  // READONLY_BUFFER: no-op for us
        case 0x97: fail(op_pos_, "out-of-band buffers (NEXT_BUFFER) are not supported");
        case '}': push(make(T::dict)); break;
        case ']': push(make(T::list)); break;
        case ')': push(make(T::tuple)); break;
        case 0x8f: push(make(T::set)); break;
        case 'd': { auto items = pop_mark(); auto d = make(T::dict); pairs_into(d, items); push(d); break; }
        case 'l': { auto items = pop_mark(); auto l = make(T::list); l->items = std::move(items); push(l); break; }
        case 't': { auto items = pop_mark(); auto t = make(T::tuple); t->items = std::move(items); push(t); break; }
        case 0x91: { auto items = pop_mark(); auto t = make(T::set); t->items = std::move(items); push(t); break; }
        case 0x85: case 0x86: case 0x87: {
          const std::size_t n = op - 0x84u;
          if (stack_.size() < n + mark_floor()) fail(op_pos_, "stack underflow in TUPLE");
          auto t = make(T::tuple);
          t->items.assign(stack_.end() - static_cast<std::ptrdiff_t>(n), stack_.end());
          stack_.resize(stack_.size() - n);
          push(t);
          break;
        }
        case 'a': { auto v = pop(); auto l = top(); append(l, {v}); break; }
        case 'e': { auto items = pop_mark(); append(top(), items); break; }
        case 0x90: { auto items = pop_mark(); auto s = top(); if (s->type != T::set) fail(op_pos_, "ADDITEMS on a non-set"); for (auto& x : items) s->items.push_back(x); break; }
        case 's': { auto v = pop(); auto k = pop(); auto d = top(); pairs_into(d, {k, v}); break; }
        case 'u': { auto items = pop_mark(); pairs_into(top(), items); break; }
        case 'q': put(u8()); break;
        case 'r': { const char* p = take(4); put(load_le<std::uint32_t>(p, false)); break; }
        case 0x94: put(memo_.size()); break;
        case 'p': put(parse_index(line())); break;
        case 'h': get(u8()); break;
        case 'j': { const char* p = take(4); get(load_le<std::uint32_t>(p, false)); break; }
        case 'g': get(parse_index(line())); break;
        case 'c': {
          std::string mod = line();
          std::string nm = line();
          push(make_str(mod + "." + nm, T::global));
          break;
        }
        case 0x93: {
          auto nm = pop();
          auto mod = pop();
          if (mod->type != T::string || nm->type != T::string) fail(op_pos_, "STACK_GLOBAL needs two strings");
          push(make_str(mod->s + "." + nm->s, T::global));
          break;
        }
        case 'R': { auto args = pop(); auto fn = pop(); push(reduce(fn, args)); break; }
        case 0x81: {
          auto args = pop();
          auto cls = pop();
          auto o = make(T::object);
          o->callable = cls;
          if (args->type == T::tuple) o->items = args->items;
          push(o);
          break;
        }
        case 0x92: {
          pop();  // kwargs
          auto args = pop();
          auto cls = pop();
          auto o = make(T::object);
          o->callable = cls;
          if (args->type == T::tuple) o->items = args->items;
          push(o);
          break;
        }
        case 'b': { auto st = pop(); build(top(), st); break; }
        case 'Q': { auto pid = pop(); push(persistent(pid)); break; }
        case 'P': push(persistent(make_str(line()))); break;
        case 'i': case 'o': fail(op_pos_, fmt::format("old-style class instances (opcode '{}') are not supported", static_cast<char>(op)));
        case 0x82: case 0x83: case 0x84: fail(op_pos_, "extension registry opcodes (EXT1/2/4) are not supported");
        default: fail(op_pos_, fmt::format("unknown pickle opcode 0x{:02x} (corrupt file or not a pickle)", op));
      }
    }
  }

 private:
  [[noreturn]] void fail(std::size_t at, const std::string& what) const {
    throw InputError(fmt::format("{}: pickle byte {}: {}", name_, at, what));
  }
  const char* take(std::size_t n) {
    if (n > b_.size() - pos_) fail(op_pos_, fmt::format("needs {} more bytes but only {} remain (truncated file?)", n, b_.size() - pos_));
    const char* p = b_.data() + pos_;
    pos_ += n;
    return p;
  }
  unsigned u8() { return static_cast<unsigned char>(*take(1)); }
  std::size_t len8() {
    const std::uint64_t n = load_le<std::uint64_t>(take(8), false);
    if (n > b_.size()) fail(op_pos_, fmt::format("length {} exceeds the data", n));
    return static_cast<std::size_t>(n);
  }
  std::string line() {
    const std::size_t nl = b_.find('\n', pos_);
    if (nl == std::string_view::npos) fail(op_pos_, "unterminated text line (truncated file?)");
    std::string l(b_.substr(pos_, nl - pos_));
    pos_ = nl + 1;
    if (!l.empty() && l.back() == '\r') l.pop_back();
    return l;
  }
  std::size_t parse_index(const std::string& l) {
    if (l.empty() || l.size() > 12 || l.find_first_not_of("0123456789") != std::string::npos) fail(op_pos_, fmt::format("bad memo index '{}'", l));
    return std::stoull(l);
  }
  PyPtr text_int(const std::string& l) {
    if (l == "00") { auto v = make(T::boolean); return v; }
    if (l == "01") { auto v = make(T::boolean); v->b = true; return v; }
    errno = 0;
    char* endp = nullptr;
    const long long x = std::strtoll(l.c_str(), &endp, 10);
    if (l.empty() || *endp || errno) fail(op_pos_, fmt::format("bad integer literal '{}'", l));
    return make_int(x);
  }
  PyPtr long_bytes(const char* p, std::size_t n) {
    if (n <= 8) {
      std::uint64_t u = 0;
      for (std::size_t k = 0; k < n; ++k) u |= static_cast<std::uint64_t>(static_cast<unsigned char>(p[k])) << (8 * k);
      if (n > 0 && n < 8 && (static_cast<unsigned char>(p[n - 1]) & 0x80)) u |= ~std::uint64_t{0} << (8 * n);  // sign-extend
      return make_int(static_cast<std::int64_t>(u));
    }
    auto v = make(T::integer);
    v->big = true;
    v->s.assign(p, n);
    return v;
  }
  std::size_t mark_floor() const { return marks_.empty() ? 0 : marks_.back(); }
  void push(PyPtr v) { stack_.push_back(std::move(v)); }
  PyPtr pop() {
    if (stack_.size() <= mark_floor()) fail(op_pos_, "stack underflow (corrupt pickle)");
    PyPtr v = std::move(stack_.back());
    stack_.pop_back();
    return v;
  }
  PyPtr top() {
    if (stack_.size() <= mark_floor()) fail(op_pos_, "stack underflow (corrupt pickle)");
    return stack_.back();
  }
  std::vector<PyPtr> pop_mark() {
    if (marks_.empty()) fail(op_pos_, "no MARK on the stack (corrupt pickle)");
    const std::size_t m = marks_.back();
    marks_.pop_back();
    std::vector<PyPtr> items(stack_.begin() + static_cast<std::ptrdiff_t>(m), stack_.end());
    stack_.resize(m);
    return items;
  }
  void put(std::size_t idx) { memo_[idx] = top(); }
  void get(std::size_t idx) {
    auto it = memo_.find(idx);
    if (it == memo_.end()) fail(op_pos_, fmt::format("memo index {} was never stored (corrupt pickle)", idx));
    push(it->second);
  }
  void append(const PyPtr& l, const std::vector<PyPtr>& items) {
    if (l->type == T::list || l->type == T::set) {
      for (auto& x : items) l->items.push_back(x);
    } else if (l->type == T::object) {
      for (auto& x : items) l->items.push_back(x);  // list subclass: keep the items
    } else {
      fail(op_pos_, fmt::format("APPEND to a {}", l->describe()));
    }
  }
  void pairs_into(const PyPtr& d, const std::vector<PyPtr>& items) {
    if (items.size() % 2) fail(op_pos_, "odd number of items for a dict");
    if (d->type != T::dict && d->type != T::object) fail(op_pos_, fmt::format("SETITEM on a {}", d->describe()));
    for (std::size_t k = 0; k < items.size(); k += 2) {
      bool replaced = false;
      if (items[k]->type == T::string)
        for (auto& e : d->entries)
          if (e.first->type == T::string && e.first->s == items[k]->s) { e.second = items[k + 1]; replaced = true; break; }
      if (!replaced) d->entries.emplace_back(items[k], items[k + 1]);
    }
  }

  static std::int64_t as_int(const PyPtr& v, bool& ok) {
    ok = v && v->type == T::integer && !v->big;
    return ok ? v->i : 0;
  }

  PyPtr persistent(const PyPtr& pid) {
    if (pid->type != T::tuple || pid->items.size() < 5 || pid->items[0]->type != T::string || pid->items[0]->s != "storage")
      fail(op_pos_, fmt::format("persistent id is {} (expected ('storage', type, key, location, numel))", pid->describe()));
    const auto& it = pid->items;
    if (it[1]->type != T::global) fail(op_pos_, fmt::format("storage type is {} (expected a torch *Storage class)", it[1]->describe()));
    ScalarType st;
    if (!storage_type_of(it[1]->s, st)) fail(op_pos_, fmt::format("unsupported storage type {}", it[1]->s));
    std::string key;
    if (it[2]->type == T::string) key = it[2]->s;
    else if (it[2]->type == T::integer && !it[2]->big) key = std::to_string(it[2]->i);
    else fail(op_pos_, fmt::format("storage key is {}", it[2]->describe()));
    if (key.empty() || key.size() > 200) fail(op_pos_, "storage key is empty or too long");
    bool ok;
    const std::int64_t numel = as_int(it[4], ok);
    if (!ok || numel < 0 || numel > (std::int64_t{1} << 40)) fail(op_pos_, fmt::format("storage '{}': bad element count ({})", key, it[4]->describe()));
    auto ref = std::make_shared<StorageRef>();
    ref->key = key;
    ref->dtype = st;
    ref->numel = static_cast<std::uint64_t>(numel);
    ref->location = it[3]->type == T::string ? it[3]->s : "";
    if (it.size() >= 6 && it[5]->type == T::tuple) {  // legacy view: (view_key, offset, view_size)
      const auto& vm = it[5]->items;
      bool ok1, ok2;
      if (vm.size() != 3 || vm[0]->type != T::string) fail(op_pos_, fmt::format("storage '{}': bad view metadata", key));
      const std::int64_t off = as_int(vm[1], ok1), sz = as_int(vm[2], ok2);
      if (!ok1 || !ok2 || off < 0 || sz < 0 || off + sz > numel) fail(op_pos_, fmt::format("storage '{}': view [{}, +{}] outside {} elements", key, off, sz, numel));
      ref->view_of = vm[0]->s;  // data live under the root key; the view is [off, off + sz)
      ref->view_offset = static_cast<std::uint64_t>(off);
      ref->numel = static_cast<std::uint64_t>(sz);
      register_storage(key, st, static_cast<std::uint64_t>(numel), ref->location);
    } else {
      register_storage(key, st, ref->numel, ref->location);
    }
    auto v = make(T::storage);
    v->storage = ref;
    return v;
  }

  void register_storage(const std::string& key, ScalarType st, std::uint64_t numel, const std::string& loc) {
    auto& slot = storages_[key];
    if (!slot) {
      slot = std::make_shared<StorageRef>();
      slot->key = key;
      slot->dtype = st;
      slot->numel = numel;
      slot->location = loc;
    } else if (slot->dtype != st || slot->numel != numel) {
      fail(op_pos_, fmt::format("storage '{}' is referenced as {} x {} and as {} x {}", key, scalar_name(slot->dtype), slot->numel, scalar_name(st), numel));
    }
  }

  std::vector<std::int64_t> int_tuple(const PyPtr& v, const char* what) {
    if (v->type != T::tuple && v->type != T::list) fail(op_pos_, fmt::format("tensor {} is {} (expected a tuple of ints)", what, v->describe()));
    std::vector<std::int64_t> out;
    for (const auto& x : v->items) {
      bool ok;
      const std::int64_t i = as_int(x, ok);
      if (!ok || i < 0 || i > (std::int64_t{1} << 40)) fail(op_pos_, fmt::format("tensor {} holds {} (expected a non-negative int)", what, x->describe()));
      out.push_back(i);
    }
    return out;
  }

  PyPtr rebuild_tensor(const PyPtr& args) {
    if (args->type != T::tuple || args->items.size() < 4) fail(op_pos_, "_rebuild_tensor needs (storage, offset, size, stride, ...)");
    const auto& a = args->items;
    if (a[0]->type != T::storage) fail(op_pos_, fmt::format("_rebuild_tensor storage argument is {}", a[0]->describe()));
    bool ok;
    const std::int64_t off = as_int(a[1], ok);
    if (!ok || off < 0) fail(op_pos_, fmt::format("tensor storage offset is {}", a[1]->describe()));
    auto t = std::make_shared<TensorRef>();
    t->storage = a[0]->storage;
    t->offset = static_cast<std::uint64_t>(off);
    t->size = int_tuple(a[2], "size");
    t->stride = int_tuple(a[3], "stride");
    if (t->size.size() != t->stride.size()) fail(op_pos_, fmt::format("tensor size has {} dims but stride {}", t->size.size(), t->stride.size()));
    // Bounds: the largest element index must lie inside the storage.
    std::uint64_t count = 1, max_index = t->offset;
    const std::uint64_t numel = t->storage->numel;
    for (std::size_t k = 0; k < t->size.size(); ++k) {
      const auto sz = static_cast<std::uint64_t>(t->size[k]);
      const auto st = static_cast<std::uint64_t>(t->stride[k]);
      if (sz == 0) { count = 0; break; }
      if (count > (std::uint64_t{1} << 34) / sz) fail(op_pos_, "tensor has too many elements");
      count *= sz;
      if (st && (sz - 1) > (numel + 1) / st) fail(op_pos_, fmt::format("tensor of size {} with stride {} reaches outside its storage of {} elements", sz, st, numel));
      max_index += (sz - 1) * st;
    }
    if (count > 0 && max_index >= numel)
      fail(op_pos_, fmt::format("tensor reaches element {} of storage '{}' that has only {} elements", max_index, t->storage->key, numel));
    auto v = make(T::tensor);
    v->tensor = t;
    return v;
  }

  PyPtr reduce(const PyPtr& fn, const PyPtr& args) {
    if (args->type != T::tuple) fail(op_pos_, fmt::format("REDUCE arguments are {} (expected a tuple)", args->describe()));
    const std::string g = fn->type == T::global ? fn->s : "";
    const auto& a = args->items;
    if (g == "collections.OrderedDict" || g == "builtins.dict" || g == "__builtin__.dict") {
      auto d = make(T::dict);
      if (!a.empty() && (a[0]->type == T::list || a[0]->type == T::tuple))
        for (const auto& kv : a[0]->items)
          if (kv->type == T::tuple && kv->items.size() == 2) d->entries.emplace_back(kv->items[0], kv->items[1]);
      return d;
    }
    if (g == "torch._utils._rebuild_tensor_v2" || g == "torch._utils._rebuild_tensor") return rebuild_tensor(args);
    if (g == "torch._utils._rebuild_parameter" || g == "torch._utils._rebuild_parameter_with_state") {
      if (a.empty()) fail(op_pos_, "_rebuild_parameter without arguments");
      return a[0];
    }
    if (g == "numpy.core.multiarray._reconstruct" || g == "numpy._core.multiarray._reconstruct") {
      auto v = make(T::ndarray);
      v->array = std::make_shared<NdArray>();
      return v;
    }
    if (g == "numpy.dtype") {
      if (a.empty() || a[0]->type != T::string) fail(op_pos_, "numpy.dtype needs a type code string");
      auto v = make(T::dtype);
      bool big;
      if (!numpy_dtype_of(a[0]->s, v->dtype, big)) {
        auto o = make(T::object);  // unsupported dtype: keep it opaque (only numeric arrays are decoded)
        o->callable = fn;
        o->items = a;
        return o;
      }
      v->dtype_big_endian = big;
      return v;
    }
    if (g == "_codecs.encode") {
      if (a.empty() || a[0]->type != T::string) fail(op_pos_, "_codecs.encode needs a string");
      std::string out;
      if (!utf8_to_latin1(a[0]->s, out)) fail(op_pos_, "_codecs.encode: the string is not latin-1 encodable UTF-8");
      return make_str(out, T::bytes);
    }
    if (g == "numpy.core.multiarray.scalar" || g == "numpy._core.multiarray.scalar") {
      if (a.size() == 2 && a[0]->type == T::dtype && (a[1]->type == T::bytes)) {
        const std::size_t sz = scalar_size(a[0]->dtype);
        if (a[1]->s.size() != sz) fail(op_pos_, fmt::format("numpy scalar has {} bytes, dtype needs {}", a[1]->s.size(), sz));
        double x;
        decode_scalars(a[1]->s.data(), 1, a[0]->dtype, a[0]->dtype_big_endian, &x);
        auto v = make(T::floating);
        v->f = x;
        return v;
      }
    }
    auto o = make(T::object);
    o->callable = fn;
    o->items = a;
    return o;
  }

  void build(const PyPtr& target, const PyPtr& st) {
    if (target->type == T::ndarray) {
      // state = (version, shape, dtype, is_fortran, rawdata)
      if (st->type != T::tuple || st->items.size() < 5) fail(op_pos_, "numpy array state is not (version, shape, dtype, fortran, data)");
      const auto& s = st->items;
      auto& arr = *target->array;
      if (s[1]->type != T::tuple) fail(op_pos_, "numpy array shape is not a tuple");
      std::uint64_t n = 1;
      arr.shape.clear();
      for (const auto& d : s[1]->items) {
        bool ok;
        const std::int64_t x = as_int(d, ok);
        if (!ok || x < 0 || x > (std::int64_t{1} << 32)) fail(op_pos_, "bad numpy array dimension");
        arr.shape.push_back(static_cast<std::size_t>(x));
        n *= static_cast<std::uint64_t>(x);
        if (n > (std::uint64_t{1} << 34)) fail(op_pos_, "numpy array too large");
      }
      if (s[2]->type != T::dtype) return;  // object or structured array: left unfilled (opaque)
      arr.dtype = s[2]->dtype;
      arr.big_endian = s[2]->dtype_big_endian;
      arr.fortran_order = s[3]->type == T::boolean && s[3]->b;
      if (s[4]->type == T::bytes || s[4]->type == T::string) {
        std::string raw = s[4]->s;
        if (s[4]->type == T::string && !utf8_to_latin1(s[4]->s, raw)) fail(op_pos_, "numpy array data string is not latin-1");
        if (raw.size() != n * scalar_size(arr.dtype))
          fail(op_pos_, fmt::format("numpy array data has {} bytes, shape and dtype need {}", raw.size(), n * scalar_size(arr.dtype)));
        arr.raw = std::move(raw);
        arr.filled = true;
      }
      return;
    }
    if (target->type == T::dtype) {
      if (st->type == T::tuple && st->items.size() >= 2 && st->items[1]->type == T::string) target->dtype_big_endian = st->items[1]->s == ">";
      return;
    }
    if (target->type == T::object) { target->state = st; return; }
    // dict (OrderedDict attributes such as _metadata) and others: the state carries nothing we need
  }

  std::string_view b_;
  const std::string& name_;
  std::size_t pos_, op_pos_ = 0;
  std::vector<PyPtr> stack_;
  std::vector<std::size_t> marks_;
  std::unordered_map<std::size_t, PyPtr> memo_;
  std::map<std::string, std::shared_ptr<StorageRef>>& storages_;
};

}  // namespace

PyPtr Unpickler::load(std::size_t& pos) {
  std::vector<PyPtr> created;
  std::vector<PyPtr>* const outer = g_created;
  g_created = &created;
  // Whatever happens, values not reachable from the result lose their links, so no cycle among them leaks.
  struct Release {
    std::vector<PyPtr>& created;
    std::vector<PyPtr>* outer;
    std::unordered_map<const PyValue*, int> reachable;
    ~Release() {
      for (const PyPtr& v : created)
        if (!reachable.count(v.get())) unlink(*v);
      g_created = outer;
    }
  } release{created, outer, {}};
  const std::size_t start = pos;
  Vm vm(bytes_, name_, pos, storages_);
  PyPtr root = vm.run(pos);
  if (has_cycle(root.get(), release.reachable)) {
    release.reachable.clear();  // unlink everything
    throw InputError(fmt::format("{}: pickle at byte {}: the object holds a reference to itself (a cycle); torch checkpoints "
                                 "have none, so this file is corrupt or not a checkpoint",
                                 name_, start));
  }
  return root;
}

}  // namespace nnspice::dnpu
