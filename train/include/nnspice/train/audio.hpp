// Spoken digits: a PCM16 WAV reader and MFCC features (our own implementation, documented in
// docs/training.md): Hamming window, |FFT|², mel filterbank 0 … fs/2, log, DCT-II, coefficients
// c0 … c11. Frame length and hop are TIDIGITS' 2048 / 1536 samples at 20 kHz scaled to the file's rate
// (819 / 614 at 8 kHz), FFT size the next power of two; a fixed number of time slices (zero padding
// of the signal at the end, truncation beyond). FSDD: files {digit}_{speaker}_{index}.wav.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace nnspice::train {

struct Wav {
  int sample_rate_Hz = 0;
  std::vector<double> samples;  ///< mono, scaled to [-1, 1)
};

/// Reads a RIFF/WAVE file with 16-bit PCM mono data at 1 … 192 kHz. Anything else (truncated, other
/// encodings, stereo, another rate) → InputError naming the file and what is wrong.
Wav read_wav(const std::string& path);
Wav parse_wav(const std::string& bytes, const std::string& name);

struct MfccOptions {
  int coefficients = 12;
  int slices = 11;
  int mel_filters = 26;
  double frame_s = 2048.0 / 20000.0;  ///< TIDIGITS 2048 samples at 20 kHz
  double hop_s = 1536.0 / 20000.0;    ///< TIDIGITS 1536 samples at 20 kHz
  double hop_scale = 1.0;             ///< augmentation: the hop stretched by this factor
  double f_min_Hz = 0.0;
  double f_max_Hz = -1;               ///< < 0: fs/2
};

/// MFCCs of a signal: `slices × coefficients` values, slice-major (slice 0's coefficients first).
std::vector<double> mfcc(const std::vector<double>& signal, int sample_rate_Hz, const MfccOptions& options);

struct FsddItem {
  std::string path;
  int digit = 0;
  std::string speaker;
  int index = 0;
};

/// The recordings of an FSDD folder (the repository root with recordings/, or recordings itself),
/// sorted by file name. Files not named {digit}_{speaker}_{index}.wav are ignored; none found → InputError.
std::vector<FsddItem> list_fsdd(const std::string& dir);

}  // namespace nnspice::train
