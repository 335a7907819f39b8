// MNIST and any data set in its layout: IDX files (big-endian; magic = 0x00 0x00 type ndims; type
// 0x08 = unsigned byte) — images (n, rows, cols), labels (n). Input pixel selection as in Binas et al.:
// the authors' checkerboard rule ((x + y) even and training-set mean > 0.027, pixels in [0, 1]: 196 of
// the 28×28 MNIST pixels) or the paper's literal "N most active pixels".
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace nnspice::train {

struct IdxArray {
  std::vector<std::uint32_t> dims;
  std::vector<std::uint8_t> data;
};

/// Reads an unsigned-byte IDX file with `expected_dims` dimensions (1 = labels, 3 = images), plain or
/// gzip-compressed (found by the gzip magic 1f 8b, whatever the name). Wrong magic, wrong type, truncated
/// or oversized files and corrupt or truncated gzip data → InputError naming the file.
IdxArray read_idx(const std::string& path, std::size_t expected_dims);

struct ImageSet {
  std::size_t n = 0, rows = 0, cols = 0;
  std::vector<std::uint8_t> pixels;  ///< n·rows·cols, row-major per image
  std::vector<int> labels;
};

/// Reads an image file and its label file; a count mismatch is an InputError naming both files, a label
/// outside 0..n_classes-1 (MNIST-family sets have 10 classes) one naming the label file and the sample.
ImageSet read_image_set(const std::string& images_path, const std::string& labels_path, int n_classes = 10);
/// DIR/NAME, else DIR/NAME.gz; InputError naming both paths looked for when neither exists.
std::string find_idx_file(const std::string& dir, const std::string& name);
/// The training (train-*) or test (t10k-*) images and labels of an MNIST-layout directory.
ImageSet read_idx_split(const std::string& dir, bool test);

/// Mean of each pixel over the set, pixel values scaled to [0, 1].
std::vector<double> pixel_means(const ImageSet& set);
/// Pixels (row-major index y·cols + x) with (x + y) even and mean > threshold.
std::vector<std::size_t> select_checkerboard(const std::vector<double>& means, std::size_t rows, std::size_t cols,
                                             double threshold);
/// The `count` pixels with the highest mean (ties: lower index first), in ascending index order.
std::vector<std::size_t> select_most_active(const std::vector<double>& means, std::size_t count);

}  // namespace nnspice::train
