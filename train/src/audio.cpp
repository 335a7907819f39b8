#include "nnspice/train/audio.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <complex>
#include <filesystem>
#include <numbers>

#include "nnspice/common/error.hpp"
#include "nnspice/common/fs_util.hpp"

namespace nnspice::train {

namespace {

std::uint32_t le32(const std::string& b, std::size_t o) {
  return std::uint32_t(std::uint8_t(b[o])) | (std::uint32_t(std::uint8_t(b[o + 1])) << 8) |
         (std::uint32_t(std::uint8_t(b[o + 2])) << 16) | (std::uint32_t(std::uint8_t(b[o + 3])) << 24);
}
std::uint16_t le16(const std::string& b, std::size_t o) {
  return static_cast<std::uint16_t>(std::uint8_t(b[o]) | (std::uint8_t(b[o + 1]) << 8));
}

// In-place iterative radix-2 FFT (n a power of two).
void fft(std::vector<std::complex<double>>& a) {
  const std::size_t n = a.size();
  for (std::size_t i = 1, j = 0; i < n; ++i) {
    std::size_t bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) std::swap(a[i], a[j]);
  }
  for (std::size_t len = 2; len <= n; len <<= 1) {
    const double ang = -2 * std::numbers::pi / static_cast<double>(len);
    const std::complex<double> wl(std::cos(ang), std::sin(ang));
    for (std::size_t i = 0; i < n; i += len) {
      std::complex<double> w(1);
      for (std::size_t k = 0; k < len / 2; ++k) {
        const auto u = a[i + k], v = a[i + k + len / 2] * w;
        a[i + k] = u + v;
        a[i + k + len / 2] = u - v;
        w *= wl;
      }
    }
  }
}

double hz_to_mel(double f) { return 2595.0 * std::log10(1.0 + f / 700.0); }
double mel_to_hz(double m) { return 700.0 * (std::pow(10.0, m / 2595.0) - 1.0); }

}  // namespace

constexpr int kMinRate_Hz = 1000, kMaxRate_Hz = 192000;

Wav parse_wav(const std::string& b, const std::string& name) {
  if (b.size() < 12 || b.compare(0, 4, "RIFF") != 0 || b.compare(8, 4, "WAVE") != 0)
    throw InputError(fmt::format("{}: not a WAV file (no RIFF/WAVE header)", name));
  std::size_t pos = 12;
  bool have_fmt = false;
  int channels = 0, bits = 0, rate = 0, format = 0;
  while (pos + 8 <= b.size()) {
    const std::string id = b.substr(pos, 4);
    const std::uint32_t size = le32(b, pos + 4);
    const std::size_t body = pos + 8;
    if (id == "fmt ") {
      if (size < 16 || body + 16 > b.size())
        throw InputError(fmt::format("{}: truncated 'fmt ' chunk", name));
      format = le16(b, body);
      channels = le16(b, body + 2);
      rate = static_cast<int>(le32(b, body + 4));
      bits = le16(b, body + 14);
      if (format == 0xFFFE && size >= 26 && body + 26 <= b.size()) format = le16(b, body + 24);  // extensible
      have_fmt = true;
    } else if (id == "data") {
      if (!have_fmt) throw InputError(fmt::format("{}: 'data' chunk before the 'fmt ' chunk", name));
      if (format != 1 || bits != 16)
        throw InputError(fmt::format("{}: unsupported WAV encoding (format {}, {} bits); expected 16-bit PCM", name,
                                     format, bits));
      if (channels != 1)
        throw InputError(fmt::format("{}: {} channels; expected mono", name, channels));
      // MFCC frames are a fixed duration: an absurd rate (a corrupt header) would mean FFTs of millions of points.
      if (rate < kMinRate_Hz || rate > kMaxRate_Hz)
        throw InputError(fmt::format("{}: sample rate {} Hz outside {} … {} Hz", name, rate, kMinRate_Hz, kMaxRate_Hz));
      if (body + size > b.size())
        throw InputError(fmt::format("{}: truncated: the data chunk announces {} bytes, the file has {}", name, size,
                                     b.size() - body));
      if (size % 2 != 0) throw InputError(fmt::format("{}: odd data size {} for 16-bit samples", name, size));
      Wav w;
      w.sample_rate_Hz = rate;
      w.samples.resize(size / 2);
      for (std::size_t i = 0; i < w.samples.size(); ++i)
        w.samples[i] = static_cast<std::int16_t>(le16(b, body + 2 * i)) / 32768.0;
      return w;
    }
    pos = body + size + (size & 1u);
  }
  throw InputError(fmt::format("{}: no '{}' chunk (truncated WAV file?)", name, have_fmt ? "data" : "fmt "));
}

Wav read_wav(const std::string& path) { return parse_wav(read_file(path), path); }

std::vector<double> mfcc(const std::vector<double>& signal, int fs, const MfccOptions& o) {
  const int frame = std::max(16, static_cast<int>(std::lround(o.frame_s * fs)));
  const int hop = std::max(1, static_cast<int>(std::lround(o.hop_s * o.hop_scale * fs)));
  int nfft = 1;
  while (nfft < frame) nfft <<= 1;
  const double f_max = o.f_max_Hz > 0 ? std::min(o.f_max_Hz, fs / 2.0) : fs / 2.0;
  const int nbins = nfft / 2 + 1;
  // Triangular mel filters, equally spaced on the mel scale between f_min and f_max.
  std::vector<std::vector<double>> filt(o.mel_filters, std::vector<double>(nbins, 0.0));
  const double m0 = hz_to_mel(o.f_min_Hz), m1 = hz_to_mel(f_max);
  std::vector<double> edge(o.mel_filters + 2);
  for (int i = 0; i < o.mel_filters + 2; ++i) edge[i] = mel_to_hz(m0 + (m1 - m0) * i / (o.mel_filters + 1));
  for (int m = 0; m < o.mel_filters; ++m)
    for (int k = 0; k < nbins; ++k) {
      const double f = static_cast<double>(k) * fs / nfft;
      double v = 0;
      if (f > edge[m] && f <= edge[m + 1]) v = (f - edge[m]) / (edge[m + 1] - edge[m]);
      else if (f > edge[m + 1] && f < edge[m + 2]) v = (edge[m + 2] - f) / (edge[m + 2] - edge[m + 1]);
      filt[m][k] = v;
    }
  std::vector<double> window(frame);
  for (int i = 0; i < frame; ++i) window[i] = 0.54 - 0.46 * std::cos(2 * std::numbers::pi * i / (frame - 1));
  std::vector<double> out(static_cast<std::size_t>(o.slices) * o.coefficients);
  std::vector<std::complex<double>> buf(nfft);
  std::vector<double> logmel(o.mel_filters);
  for (int s = 0; s < o.slices; ++s) {
    const std::size_t start = static_cast<std::size_t>(s) * hop;
    std::fill(buf.begin(), buf.end(), std::complex<double>(0));
    for (int i = 0; i < frame; ++i) {
      const std::size_t t = start + i;
      buf[i] = t < signal.size() ? signal[t] * window[i] : 0.0;  // zero padding past the end
    }
    fft(buf);
    for (int m = 0; m < o.mel_filters; ++m) {
      double e = 0;
      for (int k = 0; k < nbins; ++k) e += filt[m][k] * std::norm(buf[k]);
      logmel[m] = std::log(e + 1e-10);
    }
    for (int c = 0; c < o.coefficients; ++c) {  // DCT-II, orthonormal
      double v = 0;
      for (int m = 0; m < o.mel_filters; ++m)
        v += logmel[m] * std::cos(std::numbers::pi * c * (m + 0.5) / o.mel_filters);
      v *= std::sqrt((c == 0 ? 1.0 : 2.0) / o.mel_filters);
      out[static_cast<std::size_t>(s) * o.coefficients + c] = v;
    }
  }
  return out;
}

std::vector<FsddItem> list_fsdd(const std::string& dir) {
  namespace fs = std::filesystem;
  fs::path root(dir);
  std::error_code ec;
  if (!fs::is_directory(root, ec)) throw InputError(fmt::format("FSDD directory '{}' does not exist", dir));
  if (fs::is_directory(root / "recordings", ec)) root /= "recordings";
  std::vector<FsddItem> items;
  for (const auto& e : fs::directory_iterator(root, ec)) {
    if (!e.is_regular_file()) continue;
    const std::string name = e.path().filename().string();
    if (name.size() < 5 || name.substr(name.size() - 4) != ".wav") continue;
    const std::string stem = name.substr(0, name.size() - 4);
    const auto a = stem.find('_'), b = stem.rfind('_');
    if (a == std::string::npos || b == a) continue;
    const std::string d = stem.substr(0, a), spk = stem.substr(a + 1, b - a - 1), idx = stem.substr(b + 1);
    if (d.size() != 1 || d[0] < '0' || d[0] > '9' || idx.empty() ||
        !std::all_of(idx.begin(), idx.end(), [](char c) { return c >= '0' && c <= '9'; }))
      continue;
    items.push_back({e.path().string(), d[0] - '0', spk, std::stoi(idx)});
  }
  std::sort(items.begin(), items.end(), [](const FsddItem& x, const FsddItem& y) { return x.path < y.path; });
  if (items.empty())
    throw InputError(fmt::format("{}: no FSDD recordings ({{digit}}_{{speaker}}_{{index}}.wav) found", root.string()));
  return items;
}

}  // namespace nnspice::train
