// libFuzzer target: WAV files (train/audio.cpp: RIFF/WAVE, 16-bit PCM mono) and the MFCC features the
// FSDD loader computes from what the reader accepted.
#include "fuzz_util.hpp"
#include "nnspice/train/audio.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace nnspice;
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  fuzz::expect_input_errors([&] {
    const train::Wav w = train::parse_wav(bytes, "fuzz.wav");
    train::mfcc(w.samples, w.sample_rate_Hz, train::MfccOptions{});
  });
  return 0;
}
