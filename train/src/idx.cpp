#include <fmt/format.h>

#include <fmt/ranges.h>

#include <algorithm>

#include "nnspice/common/error.hpp"
#include "nnspice/common/fs_util.hpp"
#include "nnspice/train/mnist.hpp"

namespace nnspice::train {

IdxArray read_idx(const std::string& path, std::size_t expected_dims) {
  const std::string bytes = read_file(path);
  auto u8 = [&](std::size_t i) { return static_cast<std::uint8_t>(bytes[i]); };
  if (bytes.size() < 4)
    throw InputError(fmt::format("{}: not an IDX file: {} bytes, shorter than the 4-byte magic number", path,
                                 bytes.size()));
  const std::uint32_t magic = (std::uint32_t(u8(0)) << 24) | (std::uint32_t(u8(1)) << 16) |
                              (std::uint32_t(u8(2)) << 8) | u8(3);
  if (u8(0) == 0x1f && u8(1) == 0x8b)
    throw InputError(fmt::format("{}: gzip-compressed; unpack it first (gunzip)", path));
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

ImageSet read_image_set(const std::string& images_path, const std::string& labels_path) {
  IdxArray img = read_idx(images_path, 3);
  IdxArray lab = read_idx(labels_path, 1);
  if (img.dims[0] != lab.dims[0])
    throw InputError(fmt::format("{} holds {} images but {} holds {} labels: the counts must match", images_path,
                                 img.dims[0], labels_path, lab.dims[0]));
  ImageSet s;
  s.n = img.dims[0];
  s.rows = img.dims[1];
  s.cols = img.dims[2];
  s.pixels = std::move(img.data);
  s.labels.assign(lab.data.begin(), lab.data.end());
  return s;
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
