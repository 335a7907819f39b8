// Checkpoint file: a store record (common/store.hpp: kind "train-checkpoint", version, inputs hash of the
// options, payload checksum) whose payload is "NNSPICE-CHECKPOINT/1\n", a little-endian u64 with the length of
// a JSON header (epoch, Adam step, history, early-stopping state, options, array shapes), the header, then the
// float32 arrays (column-major) in the order the header lists them. Written atomically.
#include <fmt/format.h>

#include <cmath>
#include <cstring>

#include "nnspice/common/error.hpp"
#include "nnspice/common/fs_util.hpp"
#include "nnspice/common/store.hpp"
#include "nnspice/train/trainer.hpp"

namespace nnspice::train {

namespace {

const char kMagic[] = "NNSPICE-CHECKPOINT/1\n";
const store::Kind kKind{"train-checkpoint", 2};

nlohmann::json record_json(const EpochRecord& r) {
  return {{"epoch", r.epoch},
          {"train_loss", r.train_loss},
          {"train_accuracy", r.train_accuracy},
          {"validation_accuracy", r.validation_accuracy},
          {"test_accuracy", r.test_accuracy},
          {"seconds", r.seconds},
          {"dead_outputs", r.dead_outputs},
          {"zero_outputs", r.zero_outputs},
          {"revived", r.revived}};
}

}  // namespace

void write_checkpoint(const std::string& path, const TrainState& st) {
  nlohmann::json h;
  h["epoch"] = st.epoch;
  h["adam_step"] = st.adam_step;
  h["best_epoch"] = st.best_epoch;
  h["best_validation"] = st.best_validation;
  h["epochs_without_improvement"] = st.epochs_without_improvement;
  h["stopped_early"] = st.stopped_early;
  h["options"] = st.options;
  h["history"] = nlohmann::json::array();
  for (const auto& r : st.history) h["history"].push_back(record_json(r));
  std::vector<const Network<float>::Mat*> arrays;
  nlohmann::json names = nlohmann::json::array();
  auto add = [&](const std::string& name, const std::vector<Network<float>::Mat>& v) {
    for (std::size_t l = 0; l < v.size(); ++l) {
      names.push_back({{"name", name}, {"layer", l}, {"rows", v[l].rows()}, {"cols", v[l].cols()}});
      arrays.push_back(&v[l]);
    }
  };
  add("master", st.net.master);
  add("adam_m", st.adam_m);
  add("adam_v", st.adam_v);
  add("best_master", st.best_master);
  h["arrays"] = names;
  const std::string header = h.dump();
  std::string bytes(kMagic);
  const std::uint64_t len = header.size();
  for (int i = 0; i < 8; ++i) bytes += static_cast<char>((len >> (8 * i)) & 0xff);
  bytes += header;
  for (const auto* a : arrays) {
    static_assert(sizeof(float) == 4);
    const std::size_t nbytes = static_cast<std::size_t>(a->size()) * 4;
    const std::size_t at = bytes.size();
    bytes.resize(at + nbytes);
    std::memcpy(bytes.data() + at, a->data(), nbytes);  // little-endian hosts (x86-64, aarch64)
  }
  store::write_record(path, kKind, store::Inputs().add("options", st.options).hash(), bytes);
}

TrainState read_checkpoint(const std::string& path) {
  if (!file_exists(path)) throw InputError(fmt::format("cannot read {}: no such file", path));
  auto rec = store::load_record(path, kKind, std::nullopt);  // the options are compared by the trainer (check_resumable)
  if (!rec) throw InputError(fmt::format("{}: unusable checkpoint: {}", path, rec.reason));
  const std::string& b = *rec.value;
  const std::size_t m = std::strlen(kMagic);
  if (b.size() < m + 8 || b.compare(0, m, kMagic) != 0)
    throw InputError(fmt::format("{}: not an nnspice checkpoint (bad magic)", path));
  std::uint64_t len = 0;
  for (int i = 0; i < 8; ++i) len |= std::uint64_t(static_cast<unsigned char>(b[m + i])) << (8 * i);
  if (len > b.size() - m - 8) throw InputError(fmt::format("{}: truncated checkpoint header", path));
  nlohmann::json h;
  try {
    h = nlohmann::json::parse(b.substr(m + 8, len));
  } catch (const std::exception& e) {
    throw InputError(fmt::format("{}: corrupt checkpoint header: {}", path, e.what()));
  }
  TrainState st;
  try {
    st.epoch = h.at("epoch").get<int>();
    st.adam_step = h.at("adam_step").get<std::int64_t>();
    st.best_epoch = h.at("best_epoch").get<int>();
    st.best_validation = h.at("best_validation").get<double>();
    st.epochs_without_improvement = h.at("epochs_without_improvement").get<int>();
    st.stopped_early = h.at("stopped_early").get<bool>();
    st.options = h.at("options");
    for (const auto& r : h.at("history")) {
      EpochRecord e;
      e.epoch = r.at("epoch").get<int>();
      e.train_loss = r.at("train_loss").get<double>();
      e.train_accuracy = r.at("train_accuracy").get<double>();
      e.validation_accuracy = r.at("validation_accuracy").get<double>();
      e.test_accuracy = r.at("test_accuracy").get<double>();
      e.seconds = r.at("seconds").get<double>();
      e.dead_outputs = r.value("dead_outputs", std::vector<int>{});  // (absent before the dead-output monitor)
      e.zero_outputs = r.value("zero_outputs", std::size_t{0});
      e.revived = r.value("revived", std::vector<int>{});
      for (double v : {e.train_loss, e.train_accuracy, e.validation_accuracy, e.test_accuracy, e.seconds})
        if (!std::isfinite(v)) throw InputError(fmt::format("{}: checkpoint history of epoch {} holds NaN/Inf", path, e.epoch));
      st.history.push_back(e);
    }
    std::size_t pos = m + 8 + len;
    for (const auto& a : h.at("arrays")) {
      const auto rows = a.at("rows").get<Eigen::Index>(), cols = a.at("cols").get<Eigen::Index>();
      const std::string name = a.at("name").get<std::string>();
      const std::size_t nbytes = static_cast<std::size_t>(rows * cols) * 4;
      if (rows < 0 || cols < 0 || pos + nbytes > b.size())
        throw InputError(fmt::format("{}: truncated checkpoint (array {})", path, name));
      Network<float>::Mat mat(rows, cols);
      std::memcpy(mat.data(), b.data() + pos, nbytes);
      pos += nbytes;
      if (!mat.allFinite()) throw InputError(fmt::format("{}: checkpoint array {} {} holds NaN/Inf", path, name, a.at("layer").dump()));
      if (name == "master") st.net.master.push_back(std::move(mat));
      else if (name == "adam_m") st.adam_m.push_back(std::move(mat));
      else if (name == "adam_v") st.adam_v.push_back(std::move(mat));
      else if (name == "best_master") st.best_master.push_back(std::move(mat));
      else throw InputError(fmt::format("{}: unknown checkpoint array '{}'", path, name));
    }
    if (pos != b.size()) throw InputError(fmt::format("{}: {} unexpected trailing bytes", path, b.size() - pos));
  } catch (const nlohmann::json::exception& e) {
    throw InputError(fmt::format("{}: corrupt checkpoint header: {}", path, e.what()));
  }
  if (st.adam_m.size() != st.net.master.size() || st.adam_v.size() != st.net.master.size())
    throw InputError(fmt::format("{}: checkpoint lacks Adam state", path));
  return st;
}

std::optional<TrainState> load_checkpoint(const std::string& path) {
  try {
    return read_checkpoint(path);
  } catch (const InputError& e) {
    std::string why = e.what();
    if (why.rfind(path + ": ", 0) == 0) why.erase(0, path.size() + 2);
    store::notice(path, why, "training from the first epoch instead");
    return std::nullopt;
  }
}

}  // namespace nnspice::train
