// Data loaders: IDX errors (truncated, wrong magic, count mismatch), pixel rules, WAV errors, MFCC,
// Iris CSV, stratified splits; calibration files' corrupt numbers (fuzz findings).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <numbers>
#include <zlib.h>

#include "test_util.hpp"
#include "nnspice/common/error.hpp"
#include "nnspice/train/audio.hpp"
#include "nnspice/train/calibration.hpp"
#include "nnspice/train/dataset.hpp"
#include "nnspice/train/mnist.hpp"

using namespace nnspice::train;
namespace fs = std::filesystem;

namespace {

using nnspice::train::test::error_of;

std::string scratch(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / ("nnspice_test_train_" + std::to_string(::getpid()));
  fs::create_directories(d);
  return (d / name).string();
}

void write_bytes(const std::string& path, const std::string& b) { std::ofstream(path, std::ios::binary) << b; }

std::string be32(std::uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8), static_cast<char>(v)};
}

std::string idx_images(std::uint32_t n, std::uint32_t r, std::uint32_t c, std::size_t payload) {
  return std::string("\0\0\x08\x03", 4) + be32(n) + be32(r) + be32(c) + std::string(payload, '\x10');
}
std::string idx_labels(std::uint32_t n, std::size_t payload) {
  return std::string("\0\0\x08\x01", 4) + be32(n) + std::string(payload, '\x01');
}

}  // namespace

TEST(Idx, ReadsAValidFile) {
  const std::string p = scratch("ok-images");
  write_bytes(p, idx_images(3, 2, 4, 24));
  const IdxArray a = read_idx(p, 3);
  EXPECT_EQ(a.dims, (std::vector<std::uint32_t>{3, 2, 4}));
  EXPECT_EQ(a.data.size(), 24u);
}

TEST(Idx, TruncatedFileNamesFileAndSizes) {
  const std::string p = scratch("trunc-images");
  write_bytes(p, idx_images(3, 2, 4, 20));
  const std::string m = error_of([&] { read_idx(p, 3); });
  EXPECT_NE(m.find(p), std::string::npos) << m;
  EXPECT_NE(m.find("truncated"), std::string::npos) << m;
  EXPECT_NE(m.find("24"), std::string::npos) << m;
  write_bytes(p, std::string("\0\0\x08\x03\0\0", 6));
  EXPECT_NE(error_of([&] { read_idx(p, 3); }).find("truncated IDX header"), std::string::npos);
}

TEST(Idx, WrongMagicNumber) {
  const std::string p = scratch("magic");
  write_bytes(p, idx_labels(5, 5));
  const std::string m = error_of([&] { read_idx(p, 3); });  // a label file where images are expected
  EXPECT_NE(m.find("wrong IDX magic number 0x00000801"), std::string::npos) << m;
  EXPECT_NE(m.find("0x00000803"), std::string::npos) << m;
  write_bytes(p, std::string("\x1f\x8b\x08\x00", 4) + std::string(20, '\0'));
  EXPECT_NE(error_of([&] { read_idx(p, 1); }).find("gzip"), std::string::npos);
  write_bytes(p, std::string("\0\0\x0d\x01", 4) + be32(1) + std::string(4, '\0'));  // float type
  EXPECT_NE(error_of([&] { read_idx(p, 1); }).find("magic"), std::string::npos);
}

TEST(Idx, LabelImageCountMismatch) {
  const std::string pi = scratch("cnt-images"), pl = scratch("cnt-labels");
  write_bytes(pi, idx_images(3, 2, 2, 12));
  write_bytes(pl, idx_labels(4, 4));
  const std::string m = error_of([&] { read_image_set(pi, pl); });
  EXPECT_NE(m.find(pi), std::string::npos) << m;
  EXPECT_NE(m.find(pl), std::string::npos) << m;
  EXPECT_NE(m.find("3 images"), std::string::npos) << m;
  EXPECT_NE(m.find("4 labels"), std::string::npos) << m;
}

TEST(Idx, DimensionsWhoseProductWrapsAroundAreAnError) {
  // Found in review for the fuzz work (docs/reliability.md): 2^20 x 2^20 x 2^24 = 2^64 wrapped to 0, so a
  // header-only file was accepted as 2^20 images of 2^20 x 2^24 pixels with no data.
  const std::string p = scratch("wrap.idx");
  write_bytes(p, std::string("\0\0\x08\x03", 4) + be32(1u << 20) + be32(1u << 20) + be32(1u << 24));
  EXPECT_NE(error_of([&] { read_idx(p, 3); }).find("IDX dimensions too large"), std::string::npos) << error_of([&] { read_idx(p, 3); });
}

TEST(Idx, TrailingBytesAreAnError) {
  const std::string p = scratch("long-labels");
  write_bytes(p, idx_labels(4, 6));
  EXPECT_NE(error_of([&] { read_idx(p, 1); }).find("2 unexpected bytes"), std::string::npos);
}

TEST(Pixels, CheckerboardAndMostActive) {
  // 4x4 means: value = index / 100.
  std::vector<double> means(16);
  for (int i = 0; i < 16; ++i) means[i] = i / 100.0;
  const auto cb = select_checkerboard(means, 4, 4, 0.027);
  // (x+y) even: indices 0,2,5,7,8,10,13,15; mean > 0.027 drops 0 and 2.
  EXPECT_EQ(cb, (std::vector<std::size_t>{5, 7, 8, 10, 13, 15}));
  EXPECT_EQ(select_most_active(means, 3), (std::vector<std::size_t>{13, 14, 15}));
}

TEST(Wav, ParsesPcm16MonoAndRejectsBadFiles) {
  auto le16 = [](int v) { return std::string{static_cast<char>(v & 0xff), static_cast<char>((v >> 8) & 0xff)}; };
  auto le32 = [](std::uint32_t v) {
    return std::string{static_cast<char>(v), static_cast<char>(v >> 8), static_cast<char>(v >> 16), static_cast<char>(v >> 24)};
  };
  auto wav = [&](int fmt, int ch, int bits, std::uint32_t data_bytes, std::size_t actual) {
    std::string f = "fmt " + le32(16) + le16(fmt) + le16(ch) + le32(8000) + le32(16000) + le16(2) + le16(bits);
    std::string d = "data" + le32(data_bytes) + std::string(actual, '\0');
    return "RIFF" + le32(static_cast<std::uint32_t>(4 + f.size() + d.size())) + "WAVE" + f + d;
  };
  std::string ok = wav(1, 1, 16, 4, 4);
  ok[ok.size() - 4] = '\x00';
  ok[ok.size() - 3] = '\x40';  // 16384 -> 0.5
  const Wav w = parse_wav(ok, "ok.wav");
  EXPECT_EQ(w.sample_rate_Hz, 8000);
  ASSERT_EQ(w.samples.size(), 2u);
  EXPECT_DOUBLE_EQ(w.samples[0], 0.5);
  EXPECT_NE(error_of([&] { parse_wav(wav(1, 1, 16, 100, 10), "t.wav"); }).find("t.wav: truncated"), std::string::npos);
  EXPECT_NE(error_of([&] { parse_wav(wav(1, 2, 16, 4, 4), "s.wav"); }).find("mono"), std::string::npos);
  EXPECT_NE(error_of([&] { parse_wav(wav(3, 1, 32, 4, 4), "f.wav"); }).find("16-bit PCM"), std::string::npos);
  EXPECT_NE(error_of([&] { parse_wav("RIFX1234", "x.wav"); }).find("not a WAV"), std::string::npos);
  EXPECT_NE(error_of([&] { parse_wav(wav(1, 1, 16, 4, 4).substr(0, 30), "c.wav"); }).find("c.wav"), std::string::npos);
}

TEST(Wav, AbsurdSampleRateIsAnInputError) {
  // Fuzz finding (docs/reliability.md): a corrupt rate of 8.4 MHz made the MFCC of a 2 KB file take
  // FFTs of 2^20 points per slice (a hang). Rates outside 1 ... 192 kHz are rejected by the reader.
  auto le32 = [](std::uint32_t v) {
    return std::string{static_cast<char>(v), static_cast<char>(v >> 8), static_cast<char>(v >> 16), static_cast<char>(v >> 24)};
  };
  auto wav_at = [&](std::uint32_t rate) {
    const std::string f = "fmt " + le32(16) + std::string("\x01\x00\x01\x00", 4) + le32(rate) + le32(2 * rate) + std::string("\x02\x00\x10\x00", 4);
    const std::string d = "data" + le32(4) + std::string(4, '\0');
    return "RIFF" + le32(static_cast<std::uint32_t>(4 + f.size() + d.size())) + "WAVE" + f + d;
  };
  EXPECT_EQ(parse_wav(wav_at(8000), "ok.wav").sample_rate_Hz, 8000);
  EXPECT_EQ(parse_wav(wav_at(192000), "hi.wav").sample_rate_Hz, 192000);
  EXPECT_NE(error_of([&] { parse_wav(wav_at(0x00801f40), "r.wav"); }).find("r.wav: sample rate 8396608 Hz outside 1000"), std::string::npos)
      << error_of([&] { parse_wav(wav_at(0x00801f40), "r.wav"); });
  EXPECT_NE(error_of([&] { parse_wav(wav_at(999), "low.wav"); }).find("sample rate 999 Hz"), std::string::npos);
  EXPECT_NE(error_of([&] { parse_wav(wav_at(0x80000000u), "neg.wav"); }).find("neg.wav: sample rate"), std::string::npos);
}

TEST(CalibrationFile, CorruptNumbersAndSizesAreInputErrors) {
  // Fuzz findings (docs/reliability.md): a number too large for a double escaped as nlohmann's out_of_range
  // (not an InputError); a layer size beyond int allocated gains of that size.
  const std::string path = scratch("calibration.json");
  auto message = [&](const std::string& text) {
    write_bytes(path, text);
    return error_of([&] { read_calibration(path); });
  };
  const std::string huge = message(R"({"format": "nnspice-calibration/1", "layers": [2, 1], "slopes": [[1e99999, 1]]})");
  EXPECT_NE(huge.find(path + ": not valid JSON"), std::string::npos) << huge;
  EXPECT_NE(huge.find("1e99999"), std::string::npos) << huge;
  const std::string big = message(R"({"format": "nnspice-calibration/1", "layers": [3000000000, 1], "slopes": [[1]]})");
  EXPECT_NE(big.find("layers[0] = 3000000000: invalid layer size: outside 1..100000"), std::string::npos) << big;
  EXPECT_NE(message(R"({"format": "nnspice-calibration/1", "layers": [2, 0], "slopes": [[1, 1]]})").find("layers[1] = 0"), std::string::npos);
  write_bytes(path, R"({"format": "nnspice-calibration/1", "layers": [2, 1], "slopes": [[0.5, 1.5]], "negative_gain": 1.25})");
  const Calibration c = read_calibration(path);
  EXPECT_EQ(c.layers, (Layers{2, 1}));
  EXPECT_EQ(c.negative_gain, (std::vector<std::vector<double>>{{1.25, 1.25}}));
}

TEST(Mfcc, ShapeAndToneSensitivity) {
  const int fs = 8000;
  std::vector<double> low(6000), high(6000);
  for (std::size_t i = 0; i < low.size(); ++i) {
    low[i] = 0.5 * std::sin(2 * std::numbers::pi * 300.0 * static_cast<double>(i) / fs);
    high[i] = 0.5 * std::sin(2 * std::numbers::pi * 2500.0 * static_cast<double>(i) / fs);
  }
  MfccOptions o;
  const auto a = mfcc(low, fs, o), b = mfcc(high, fs, o), a2 = mfcc(low, fs, o);
  ASSERT_EQ(a.size(), 132u);
  EXPECT_EQ(a, a2);
  // c1 (spectral tilt) is positive for a low tone and negative for a high one.
  EXPECT_GT(a[1], 0.0);
  EXPECT_LT(b[1], 0.0);
  // Past the end of the signal (6000 samples; slice 10 starts at 6140) the frames are silent padding.
  EXPECT_LT(a[10 * 12 + 0], a[0] - 20.0);
}

TEST(Iris, ShippedCsvHas150RowsAndTheKnownMeans) {
  const Dataset d = read_iris_csv(default_iris_csv());
  ASSERT_EQ(d.size(), 150u);
  int count[3] = {0, 0, 0};
  for (int y : d.y) ++count[y];
  EXPECT_EQ(count[0], 50);
  EXPECT_EQ(count[1], 50);
  EXPECT_EQ(count[2], 50);
  const Eigen::VectorXd mean = d.x.cast<double>().rowwise().mean();
  EXPECT_NEAR(mean[0], 5.843, 5e-4);
  EXPECT_NEAR(mean[1], 3.057, 5e-4);
  EXPECT_NEAR(mean[2], 3.758, 5e-4);
  EXPECT_NEAR(mean[3], 1.199, 5e-4);
}

TEST(Iris, SeededStratifiedSplit120To30) {
  DatasetOptions o;
  o.name = "iris";
  o.seed = 5;
  const DataSplits s = load_dataset(o);
  EXPECT_EQ(s.train.size(), 120u);
  EXPECT_EQ(s.test.size(), 30u);
  int count[3] = {0, 0, 0};
  for (int y : s.test.y) ++count[y];
  EXPECT_EQ(count[0], 10);
  EXPECT_EQ(count[1], 10);
  EXPECT_EQ(count[2], 10);
  EXPECT_GE(s.train.x.minCoeff(), 0.0f);
  EXPECT_FLOAT_EQ(s.train.x.maxCoeff(), 1.0f);
  const DataSplits again = load_dataset(o);
  EXPECT_EQ(again.test.x, s.test.x);
  o.seed = 6;
  EXPECT_NE(load_dataset(o).test.x, s.test.x);
}

TEST(Fsdd, ReadsTheSharedCopyWithTheOfficialSplit) {
  const std::string dir = std::string(NNSPICE_SHARED_DIR) + "/datasets/fsdd";
  if (!fs::exists(dir)) GTEST_SKIP() << "no " << dir;
  const auto items = list_fsdd(dir);
  EXPECT_EQ(items.size(), 3000u);
  int test = 0;
  for (const auto& it : items) test += it.index <= 4;
  EXPECT_EQ(test, 300);
  const Wav w = read_wav(items.front().path);
  EXPECT_EQ(w.sample_rate_Hz, 8000);
  EXPECT_NE(error_of([] { list_fsdd("/nonexistent/fsdd"); }).find("/nonexistent/fsdd"), std::string::npos);
}

// ---- issue 17 class 9: gzip-compressed IDX files are read directly; labels outside the class range ----
namespace {

std::string gzip(const std::string& raw) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&z, raw.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(raw.data()));
  z.avail_in = static_cast<uInt>(raw.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

}  // namespace

TEST(Idx, GzipCompressedFileIsReadDirectly) {
  std::string raw = idx_images(3, 2, 4, 24);
  for (std::size_t i = 16; i < raw.size(); ++i) raw[i] = static_cast<char>(i * 7);
  const std::string p = scratch("gz-images.gz"), q = scratch("gz-images-no-suffix");
  write_bytes(p, gzip(raw));
  write_bytes(q, gzip(raw));  // found by the magic 1f 8b, not the name
  for (const auto& f : {p, q}) {
    const IdxArray a = read_idx(f, 3);
    EXPECT_EQ(a.dims, (std::vector<std::uint32_t>{3, 2, 4}));
    EXPECT_EQ(std::string(a.data.begin(), a.data.end()), raw.substr(16));
  }
}

TEST(Idx, CorruptOrTruncatedGzipIsAnInputErrorNamingTheFile) {
  std::string raw = idx_images(50, 8, 8, 50 * 64);
  for (std::size_t i = 16; i < raw.size(); ++i) raw[i] = static_cast<char>((i * 131) ^ (i >> 3));
  const std::string gz = gzip(raw);
  const std::string p = scratch("bad.gz");
  write_bytes(p, gz.substr(0, gz.size() / 2));
  std::string m = error_of([&] { read_idx(p, 3); });
  EXPECT_NE(m.find(p), std::string::npos) << m;
  EXPECT_NE(m.find("truncated gzip"), std::string::npos) << m;
  std::string bad = gz;
  for (std::size_t i = 20; i < 40; ++i) bad[i] = static_cast<char>(~bad[i]);
  write_bytes(p, bad);
  m = error_of([&] { read_idx(p, 3); });
  EXPECT_NE(m.find(p), std::string::npos) << m;
  EXPECT_NE(m.find("gzip"), std::string::npos) << m;
  write_bytes(p, gz + "junk");
  EXPECT_NE(error_of([&] { read_idx(p, 3); }).find("4 unexpected bytes after the gzip stream"), std::string::npos);
}

TEST(Idx, LabelOutsideTheClassRangeNamesFileAndSample) {
  const std::string pi = scratch("lab-images"), pl = scratch("lab-labels");
  write_bytes(pi, idx_images(4, 2, 2, 16));
  write_bytes(pl, std::string("\0\0\x08\x01", 4) + be32(4) + std::string("\x03\x09\xc8\x01", 4));  // 200 at sample 2
  const std::string m = error_of([&] { read_image_set(pi, pl); });
  EXPECT_NE(m.find(pl), std::string::npos) << m;
  EXPECT_NE(m.find("sample 2 = 200"), std::string::npos) << m;
  EXPECT_NE(m.find("0..9"), std::string::npos) << m;
  write_bytes(pl, std::string("\0\0\x08\x01", 4) + be32(4) + std::string("\x03\x09\x00\x01", 4));
  EXPECT_EQ(read_image_set(pi, pl).labels, (std::vector<int>{3, 9, 0, 1}));
}

TEST(Idx, MissingFileNamesWhatWasLookedFor) {
  const std::string d = scratch("no-mnist");
  fs::create_directories(d);
  const std::string m = error_of([&] { read_idx_split(d, false); });
  EXPECT_NE(m.find(d + "/train-images-idx3-ubyte and " + d + "/train-images-idx3-ubyte.gz"), std::string::npos) << m;
}

// A gzipped copy of the first MNIST images (Debian's dataset-fashion-mnist ships *.gz only) reads the
// same pixels and labels as the plain files, and load_dataset trains from such a directory.
TEST(Idx, GzippedCopyOfMnistImagesReadsLikeThePlainFiles) {
  const std::string src = resolve_mnist_dir("");
  if (!fs::exists(src + "/t10k-images-idx3-ubyte")) GTEST_SKIP() << "MNIST not installed in " << src;
  const std::string d = scratch("mnist-gz");
  fs::create_directories(d);
  const std::size_t n = 20;
  for (const std::string split : {"train", "t10k"}) {
    const std::string img = read_bytes(src + "/" + split + "-images-idx3-ubyte"), lab = read_bytes(src + "/" + split + "-labels-idx1-ubyte");
    write_bytes(d + "/" + split + "-images-idx3-ubyte.gz", gzip(img.substr(0, 4) + be32(n) + img.substr(8, 8) + img.substr(16, n * 784)));
    write_bytes(d + "/" + split + "-labels-idx1-ubyte.gz", gzip(lab.substr(0, 4) + be32(n) + lab.substr(8, n)));
  }
  const ImageSet full = read_idx_split(src, true), few = read_idx_split(d, true);
  ASSERT_EQ(few.n, n);
  EXPECT_EQ(few.rows, 28u);
  EXPECT_TRUE(std::equal(few.pixels.begin(), few.pixels.end(), full.pixels.begin()));
  EXPECT_TRUE(std::equal(few.labels.begin(), few.labels.end(), full.labels.begin()));
  DatasetOptions o;
  o.name = "mnist";
  o.mnist_dir = d;
  const DataSplits s = load_dataset(o);
  EXPECT_EQ(s.train.size(), n);
  EXPECT_EQ(s.test.size(), n);
}
