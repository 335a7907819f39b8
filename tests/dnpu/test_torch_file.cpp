// Loader of brains-py surrogate files: the shipped reference forward passes (acceptance: 1e-4 relative),
// fixtures in both layouts / dtypes written by an independent Python pickler, the plain format and the
// torch writer round trips, and malformed files -> InputError (never a crash).
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "nnspice/common/csv.hpp"
#include "nnspice/common/error.hpp"
#include "nnspice/common/fs_util.hpp"
#include "nnspice/common/rng.hpp"
#include "nnspice/dnpu/surrogate.hpp"
#include "nnspice/dnpu/torch_file.hpp"

using namespace nnspice;
using namespace nnspice::dnpu;

namespace {

const std::string kShared = NNSPICE_SHARED_DIR "/dnpu";
const std::string kData = NNSPICE_TEST_DATA_DIR "/dnpu";

/// Max relative error (floor `abs_floor_nA` on |reference|) of the model on a *-forward.csv.
double max_rel_error(const SurrogateModel& m, const std::string& csv, double abs_floor_nA, std::size_t* rows = nullptr) {
  const CsvTable t = read_csv(csv);
  EXPECT_EQ(t.cols, m.n_inputs() + 1);
  Eigen::MatrixXd v(static_cast<Eigen::Index>(m.n_inputs()), static_cast<Eigen::Index>(t.rows));
  for (std::size_t r = 0; r < t.rows; ++r)
    for (std::size_t k = 0; k < m.n_inputs(); ++k) v(static_cast<Eigen::Index>(k), static_cast<Eigen::Index>(r)) = t.at(r, k);
  const Eigen::VectorXd y = m.eval(v);
  double worst = 0;
  for (std::size_t r = 0; r < t.rows; ++r) {
    const double ref = t.at(r, m.n_inputs());
    worst = std::max(worst, std::abs(y(static_cast<Eigen::Index>(r)) - ref) / std::max(std::abs(ref), abs_floor_nA));
  }
  if (rows) *rows = t.rows;
  return worst;
}

bool have_shared() { return std::filesystem::exists(kShared + "/models/si-boron-2020.pt"); }

}  // namespace

// Acceptance: the same loader (no per-file case) reproduces PyTorch's float64 forward pass to 1e-4 relative.
// Reference values carry 9 significant digits, inputs too; the floor 1e-3 nA guards outputs near zero.
TEST(DnpuLoader, SharedModelsMatchReferenceForward) {
  if (!have_shared()) GTEST_SKIP() << "no " << kShared;
  for (const std::string name : {"si-boron-2020", "room-temp-2023"}) {
    const SurrogateModel m = load_surrogate(kShared + "/models/" + name + ".pt");
    std::size_t rows = 0;
    const double err = max_rel_error(m, kShared + "/reference/" + name + "-forward.csv", 1e-3, &rows);
    EXPECT_EQ(rows, 1000u) << name;
    EXPECT_LT(err, 1e-4) << name;
    EXPECT_EQ(m.n_inputs(), 7u);
    EXPECT_EQ(m.n_layers(), 6u);
  }
}

TEST(DnpuLoader, SiBoronInfo) {
  if (!have_shared()) GTEST_SKIP() << "no " << kShared;
  const SurrogateModel m = load_surrogate(kShared + "/models/si-boron-2020.pt");
  EXPECT_EQ(m.source["layout"], "legacy");
  EXPECT_EQ(m.source["key_prefix"], "model");
  EXPECT_DOUBLE_EQ(m.amplification, 100.0);
  ASSERT_EQ(m.voltage_ranges_V.size(), 7u);
  for (int e = 0; e < 5; ++e) {
    EXPECT_NEAR(m.voltage_ranges_V[e][0], -1.2, 1e-12);
    EXPECT_NEAR(m.voltage_ranges_V[e][1], 0.6, 1e-12);
  }
  EXPECT_NEAR(m.voltage_ranges_V[5][0], -0.7, 1e-12);
  EXPECT_NEAR(m.voltage_ranges_V[6][1], 0.3, 1e-12);
  EXPECT_TRUE(std::isinf(m.clip_min_nA) && std::isinf(m.clip_max_nA));
}

TEST(DnpuLoader, RoomTempInfoFromNumpyArrays) {
  if (!have_shared()) GTEST_SKIP() << "no " << kShared;
  const SurrogateModel m = load_surrogate(kShared + "/models/room-temp-2023.pt");
  EXPECT_EQ(m.source["layout"], "zip");
  EXPECT_EQ(m.source["key_prefix"], "model_state_dict.raw_model");
  EXPECT_DOUBLE_EQ(m.amplification, 28.5);
  ASSERT_EQ(m.voltage_ranges_V.size(), 7u);
  EXPECT_NEAR(m.voltage_ranges_V[3][0], -1.5, 1e-6);  // float32 numpy array 7x2
  EXPECT_NEAR(m.voltage_ranges_V[3][1], 1.4, 1e-6);
}

TEST(DnpuLoader, RingCheckpointWithPrefixedStateDictAndTensorInfo) {
  if (!have_shared()) GTEST_SKIP() << "no " << kShared;
  const SurrogateModel m = load_surrogate(kShared + "/reference/ring-best_training_data.pickle");
  EXPECT_EQ(m.source["key_prefix"], "model_state_dict.processor.processor.model.raw_model");
  EXPECT_NEAR(m.amplification, 39.5, 1e-5);
  ASSERT_EQ(m.voltage_ranges_V.size(), 7u);
  // selecting with a wrong prefix names the stacks that exist
  SurrogateLoadOptions o;
  o.key_prefix = "no_such_model";
  try {
    load_surrogate(kShared + "/reference/ring-best_training_data.pickle", o);
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("raw_model"), std::string::npos) << e.what();
  }
}

// Fixtures: legacy float64 (shared storages with offsets, a column-major weight, views), zip float64 with
// pickle protocol 4 (FRAME/MEMOIZE/STACK_GLOBAL) written by Python's zipfile, legacy float32 with 6 hidden layers;
// clipping and amplification from the info dict. Expected values from a plain-Python float64 MLP.
TEST(DnpuLoader, FixturesBothLayoutsBothDtypes) {
  struct Case { const char* name; const char* layout; ScalarType dtype; std::size_t layers; };
  for (const Case c : {Case{"legacy-f64", "legacy", ScalarType::float64, 4}, Case{"zip-f64-p4", "zip", ScalarType::float64, 3},
                       Case{"legacy-f32", "legacy", ScalarType::float32, 7}}) {
    const SurrogateModel m = load_surrogate(kData + "/" + c.name + ".pt");
    EXPECT_EQ(m.source["layout"], c.layout) << c.name;
    EXPECT_EQ(m.dtype, c.dtype) << c.name;
    EXPECT_EQ(m.n_layers(), c.layers) << c.name;
    EXPECT_DOUBLE_EQ(m.amplification, 37.5);
    EXPECT_DOUBLE_EQ(m.clip_min_nA, -150.0);
    EXPECT_DOUBLE_EQ(m.clip_max_nA, 120.0);
    EXPECT_LT(max_rel_error(m, kData + "/" + c.name + "-forward.csv", 1e-9), 1e-12) << c.name;
  }
}

TEST(DnpuLoader, PlainFormatAndTorchWriterRoundTrip) {
  const SurrogateModel m = load_surrogate(kData + "/legacy-f32.pt");
  const std::string dir = testing::TempDir() + "/dnpu_plain";
  save_surrogate_plain(m, dir);
  const std::string csv = kData + "/legacy-f32-forward.csv";
  const SurrogateModel p = load_surrogate(dir);
  EXPECT_EQ(p.dtype, ScalarType::float32);
  EXPECT_LT(max_rel_error(p, csv, 1e-9), 1e-12);
  EXPECT_EQ(p.voltage_ranges_V, m.voltage_ranges_V);
  for (bool legacy : {false, true})
    for (ScalarType t : {ScalarType::float32, ScalarType::float64}) {
      const std::string pt = testing::TempDir() + "/dnpu_rt.pt";
      save_surrogate_torch(p, pt, legacy, t);
      const SurrogateModel q = load_surrogate(pt);
      EXPECT_EQ(q.source["layout"], legacy ? "legacy" : "zip");
      EXPECT_LT(max_rel_error(q, csv, 1e-9), 1e-12);  // float32 weights are exact in both dtypes
      EXPECT_DOUBLE_EQ(q.clip_max_nA, 120.0);
      EXPECT_EQ(q.voltage_ranges_V, m.voltage_ranges_V);
    }
}

TEST(DnpuSurrogate, InputGradientMatchesFiniteDifferences) {
  const SurrogateModel m = load_surrogate(kData + "/legacy-f64.pt");
  Rng rng(5);
  Eigen::MatrixXd v(7, 20);
  for (Eigen::Index s = 0; s < v.cols(); ++s)
    for (Eigen::Index e = 0; e < 7; ++e) v(e, s) = rng.uniform(-0.8, 0.4);
  const Eigen::MatrixXd g = m.input_gradient(v);
  const double h = 1e-6;
  int checked = 0;
  for (Eigen::Index s = 0; s < v.cols(); ++s)
    for (Eigen::Index e = 0; e < 7; ++e) {
      Eigen::MatrixXd a = v.col(s), b = v.col(s);
      a(e) += h;
      b(e) -= h;
      const double ya = m.eval(a)(0), yb = m.eval(b)(0);
      if (ya >= 120 || yb >= 120 || ya <= -150 || yb <= -150) continue;  // clipped: derivative 0 there
      EXPECT_NEAR(g(e, s), (ya - yb) / (2 * h), 1e-5 * (1 + std::abs(g(e, s))));
      ++checked;
    }
  EXPECT_GT(checked, 100);
}

TEST(DnpuSurrogate, RangeViolationsNameSampleAndElectrode) {
  const SurrogateModel m = load_surrogate(kData + "/legacy-f64.pt");
  Eigen::MatrixXd v = Eigen::MatrixXd::Zero(7, 3);
  v(5, 1) = 0.41;
  const auto bad = m.range_violations(v);
  ASSERT_EQ(bad.size(), 1u);
  EXPECT_NE(bad[0].find("sample 1, e5 = 0.41 V"), std::string::npos) << bad[0];
}

// Robustness: every truncation and many corruptions of the real files give InputError or a valid model,
// never a crash or another exception type (run under ASan in the asan preset).
TEST(DnpuLoader, TruncatedAndCorruptFilesThrowInputError) {
  std::vector<std::string> files = {kData + "/legacy-f64.pt", kData + "/zip-f64-p4.pt"};
  if (have_shared()) files.push_back(kShared + "/models/room-temp-2023.pt");
  Rng rng(2024);
  for (const auto& f : files) {
    const std::string bytes = read_file(f);
    int errors = 0, trials = 0;
    auto attempt = [&](const std::string& b) {
      ++trials;
      try {
        surrogate_from_torch(parse_torch_file(b, "mutant"));
      } catch (const InputError& e) {
        ++errors;
        EXPECT_NE(std::string(e.what()).find("mutant"), std::string::npos) << e.what();
      }
    };
    for (std::size_t cut = 0; cut < bytes.size(); cut += 1 + bytes.size() / 300) attempt(bytes.substr(0, cut));
    for (int k = 0; k < 300; ++k) {
      std::string b = bytes;
      const std::size_t at = rng.below(std::min<std::size_t>(b.size(), 4000));  // pickle / headers region
      b[at] = static_cast<char>(rng.below(256));
      attempt(b);
    }
    EXPECT_GT(errors, trials / 3) << f;  // truncations must all fail
  }
}

TEST(DnpuLoader, ClearMessages) {
  auto message = [](const std::string& bytes) {
    try {
      parse_torch_file(bytes, "x.pt");
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message("").find("empty"), std::string::npos);
  EXPECT_NE(message("hello world").find("not a torch file"), std::string::npos);
  EXPECT_NE(message(std::string("\x80\x02K\x05.", 5)).find("magic"), std::string::npos);
  const std::string zip = read_file(kData + "/zip-f64-p4.pt");
  EXPECT_NE(message(zip.substr(0, zip.size() - 30)).find("end-of-central-directory"), std::string::npos);
  std::string flipped = zip;
  flipped[200] = static_cast<char>(flipped[200] ^ 0x55);  // inside data.pkl: CRC catches it
  EXPECT_NE(message(flipped).find("CRC-32"), std::string::npos) << message(flipped);
  EXPECT_THROW(load_surrogate("/nonexistent/model.pt"), InputError);
}

TEST(DnpuPickle, ReferenceCycleIsAnInputErrorAndUnreachableCyclesAreFreed) {
  // Fuzz finding (docs/reliability.md): a list appended to itself through the memo (EMPTY_LIST, BINPUT 0,
  // BINGET 0, APPEND) made a shared_ptr cycle that leaked. The result may not hold a cycle; cycles among
  // values the pickle dropped (POP) are broken when the load ends (the fuzz test checks there is no leak).
  const std::string self = std::string("\x80\x02]q\x00h\x00" "a.", 9);
  std::size_t pos = 0;
  try {
    Unpickler(self, "cycle.pkl").load(pos);
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("cycle.pkl: pickle at byte 0: the object holds a reference to itself"), std::string::npos) << e.what();
  }
  const std::string dropped = std::string("\x80\x02]q\x00h\x00" "a0K\x07.", 12);  // ... POP, BININT1 7, STOP
  pos = 0;
  const PyPtr v = Unpickler(dropped, "dropped.pkl").load(pos);
  EXPECT_EQ(pos, dropped.size());
  ASSERT_EQ(v->type, PyValue::Type::integer);
  EXPECT_EQ(v->i, 7);
  // Shared (not cyclic) references stay: [x, x] with x = [] is fine.
  const std::string shared = std::string("\x80\x02](]q\x00h\x00" "e.", 11);
  pos = 0;
  const PyPtr l = Unpickler(shared, "shared.pkl").load(pos);
  ASSERT_EQ(l->items.size(), 2U);
  EXPECT_EQ(l->items[0], l->items[1]);
}
