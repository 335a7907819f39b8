#include <fmt/format.h>
#include <fmt/ranges.h>
#include <zlib.h>

#include <algorithm>
#include <climits>

#include "nnspice/common/error.hpp"
#include "nnspice/common/fs_util.hpp"
#include "nnspice/train/mnist.hpp"

namespace nnspice::train {
namespace {

/// The largest unpacked IDX file: MNIST-family training images are 47 MB, EMNIST's largest 0.6 GB.
constexpr std::size_t kMaxIdxBytes = std::size_t(2) << 30;

bool is_gzip(const std::string& b) { return b.size() >= 2 && static_cast<unsigned char>(b[0]) == 0x1f && static_cast<unsigned char>(b[1]) == 0x8b; }

/// Unpacks a gzip member (the form in which MNIST-family sets ship, e.g. Debian's dataset-fashion-mnist).
/// A corrupt or truncated stream, or one that unpacks to more than kMaxIdxBytes, is an InputError.
std::string gunzip(const std::string& in, const std::string& path) {
  z_stream z{};
  if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) throw std::runtime_error(fmt::format("{}: zlib inflateInit2 failed", path));
  struct End {
    z_stream* z;
    ~End() { inflateEnd(z); }
  } end{&z};
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(std::min<std::size_t>(in.size(), UINT_MAX));
  std::string out(std::min(std::max<std::size_t>(in.size() * 4, 1 << 16), kMaxIdxBytes), '\0');
  std::size_t fed = z.avail_in;
  while (true) {
    if (z.total_out == out.size()) {
      if (out.size() >= kMaxIdxBytes)
        throw InputError(fmt::format("{}: gzip data unpacks to more than {} bytes, the limit for an IDX file", path, kMaxIdxBytes));
      out.resize(std::min(out.size() * 2, kMaxIdxBytes));
    }
    z.next_out = reinterpret_cast<Bytef*>(out.data() + z.total_out);
    z.avail_out = static_cast<uInt>(std::min<std::size_t>(out.size() - z.total_out, UINT_MAX));
    if (z.avail_in == 0 && fed < in.size()) {
      z.avail_in = static_cast<uInt>(std::min<std::size_t>(in.size() - fed, UINT_MAX));
      fed += z.avail_in;
    }
    const int rc = inflate(&z, Z_NO_FLUSH);
    if (rc == Z_STREAM_END) break;
    if (rc == Z_BUF_ERROR && z.avail_in == 0 && fed == in.size())
      throw InputError(fmt::format("{}: truncated gzip data ({} compressed bytes end before the stream does)", path, in.size()));
    if (rc != Z_OK && rc != Z_BUF_ERROR)
      throw InputError(fmt::format("{}: corrupt gzip data: {}", path, z.msg ? z.msg : zError(rc)));
  }
  if (z.avail_in != 0 || fed != in.size())
    throw InputError(fmt::format("{}: {} unexpected bytes after the gzip stream", path, in.size() - fed + z.avail_in));
  out.resize(z.total_out);
  return out;
}

}  // namespace

IdxArray read_idx(const std::string& path, std::size_t expected_dims) {
  std::string bytes = read_file(path);
  if (is_gzip(bytes)) bytes = gunzip(bytes, path);
  auto u8 = [&](std::size_t i) { return static_cast<std::uint8_t>(bytes[i]); };
  if (bytes.size() < 4)
    throw InputError(fmt::format("{}: not an IDX file: {} bytes, shorter than the 4-byte magic number", path,
                                 bytes.size()));
  const std::uint32_t magic = (std::uint32_t(u8(0)) << 24) | (std::uint32_t(u8(1)) << 16) |
                              (std::uint32_t(u8(2)) << 8) | u8(3);
  const std::uint32_t want = 0x00000800u | static_cast<std::uint32_t>(expected_dims);
  if (u8(0) != 0 || u8(1) != 0 || u8(2) != 0x08 || u8(3) != expected_dims)
    throw InputError(fmt::format(
        "{}: wrong IDX magic number 0x{:08x}, expected 0x{:08x} (unsigned bytes, {} dimension{}: {})", path, magic,
        want, expected_dims, expected_dims == 1 ? "" : "s", expected_dims == 1 ? "a label file" : "an image file"));
  const std::size_t header = 4 + 4 * expected_dims;
  if (bytes.size() < header)
    throw InputError(fmt::format("{}: truncated IDX header: {} bytes, need {}", path, bytes.size(), header));
  IdxArray out;
  std::size_t count = 1;
  for (std::size_t d = 0; d < expected_dims; ++d) {
    const std::size_t o = 4 + 4 * d;
    const std::uint32_t v = (std::uint32_t(u8(o)) << 24) | (std::uint32_t(u8(o + 1)) << 16) |
                            (std::uint32_t(u8(o + 2)) << 8) | u8(o + 3);
    if (v == 0) throw InputError(fmt::format("{}: IDX dimension {} is 0", path, d));
    out.dims.push_back(v);
    // Checked before multiplying: 2^40 * a 32-bit dimension would wrap around 64 bits.
    if (count > (std::size_t(1) << 40) / v) throw InputError(fmt::format("{}: IDX dimensions too large", path));
    count *= v;
  }
  const std::size_t payload = bytes.size() - header;
  if (payload < count)
    throw InputError(fmt::format("{}: truncated: the header announces {} bytes of data ({}), the file has {}", path,
                                 count, fmt::format("dims {}", fmt::join(out.dims, "x")), payload));
  if (payload > count)
    throw InputError(fmt::format("{}: {} unexpected bytes after the {} bytes of data the header announces", path,
                                 payload - count, count));
  out.data.assign(reinterpret_cast<const std::uint8_t*>(bytes.data()) + header,
                  reinterpret_cast<const std::uint8_t*>(bytes.data()) + header + count);
  return out;
}

ImageSet read_image_set(const std::string& images_path, const std::string& labels_path, int n_classes) {
  IdxArray img = read_idx(images_path, 3);
  IdxArray lab = read_idx(labels_path, 1);
  if (img.dims[0] != lab.dims[0])
    throw InputError(fmt::format("{} holds {} images but {} holds {} labels: the counts must match", images_path,
                                 img.dims[0], labels_path, lab.dims[0]));
  for (std::size_t i = 0; i < lab.data.size(); ++i)
    if (lab.data[i] >= n_classes)
      throw InputError(fmt::format("{}: label of sample {} = {}: outside the class range 0..{} of the data set", labels_path, i,
                                   lab.data[i], n_classes - 1));
  ImageSet s;
  s.n = img.dims[0];
  s.rows = img.dims[1];
  s.cols = img.dims[2];
  s.pixels = std::move(img.data);
  s.labels.assign(lab.data.begin(), lab.data.end());
  return s;
}

std::string find_idx_file(const std::string& dir, const std::string& name) {
  const std::string plain = dir + "/" + name, gz = plain + ".gz";
  if (file_exists(plain)) return plain;
  if (file_exists(gz)) return gz;
  throw InputError(fmt::format("MNIST file not found: looked for {} and {} (give --mnist DIR or set NNSPICE_MNIST_DIR; "
                               "scripts/fetch_mnist.sh installs MNIST into /usr/local/share/nnspice/mnist)", plain, gz));
}

ImageSet read_idx_split(const std::string& dir, bool test) {
  const std::string p = test ? "t10k" : "train";
  const std::string images = find_idx_file(dir, p + "-images-idx3-ubyte");  // images first: the message names them
  return read_image_set(images, find_idx_file(dir, p + "-labels-idx1-ubyte"));
}

std::vector<double> pixel_means(const ImageSet& set) {
  const std::size_t d = set.rows * set.cols;
  std::vector<double> sum(d, 0.0);
  for (std::size_t n = 0; n < set.n; ++n)
    for (std::size_t p = 0; p < d; ++p) sum[p] += set.pixels[n * d + p];
  for (double& v : sum) v /= 255.0 * static_cast<double>(std::max<std::size_t>(set.n, 1));
  return sum;
}

std::vector<std::size_t> select_checkerboard(const std::vector<double>& means, std::size_t rows, std::size_t cols,
                                             double threshold) {
  std::vector<std::size_t> out;
  for (std::size_t y = 0; y < rows; ++y)
    for (std::size_t x = 0; x < cols; ++x)
      if ((x + y) % 2 == 0 && means[y * cols + x] > threshold) out.push_back(y * cols + x);
  return out;
}

std::vector<std::size_t> select_most_active(const std::vector<double>& means, std::size_t count) {
  std::vector<std::size_t> idx(means.size());
  for (std::size_t i = 0; i < idx.size(); ++i) idx[i] = i;
  std::stable_sort(idx.begin(), idx.end(), [&](std::size_t a, std::size_t b) { return means[a] > means[b]; });
  idx.resize(std::min(count, idx.size()));
  std::sort(idx.begin(), idx.end());
  return idx;
}

}  // namespace nnspice::train
