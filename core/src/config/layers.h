#pragma once
// The config loader's parts: a value seen through its layers (bundled file,
// KV override), the validator that names the field at fault, and the
// readers of each part of the document (settings.cc, catalog.cc), which
// load.cc runs in order.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "gw/config.h"
#include "gw/json_tape.h"

namespace gw::config {

using json::Kind;
using json::Tape;

// A config value seen through its layers: the bundled document, then the KV
// override merged over it the way RFC 7386 merge patch would (objects member
// by member, anything else replaced, null deleted), without building a
// merged document.
class View {
 public:
  View() = default;
  View(const Tape* t, uint32_t node) { add(t, node); }

  void add(const Tape* t, uint32_t node) {
    const Kind k = t->kind(node);
    if (k == Kind::Null) {
      layers_.clear();
      return;
    }
    if (k != Kind::Object || (!layers_.empty() && kind() != Kind::Object)) layers_.clear();
    layers_.push_back({t, node});
  }
  bool present() const { return !layers_.empty(); }
  // Scalars and arrays: the last layer alone.
  const Tape& tape() const { return *layers_.back().t; }
  uint32_t node() const { return layers_.back().node; }
  Kind kind() const { return tape().kind(node()); }
  bool isString() const { return present() && kind() == Kind::String; }
  std::string string() const { return tape().string(node()); }

  View member(std::string_view key) const {
    View out;
    for (const Layer& l : layers_)
      if (uint32_t v = l.t->find(l.node, key); v != 0) out.add(l.t, v);
    return out;
  }
  // An object's members in first-appearance order (deleted ones left out).
  std::vector<std::pair<std::string, View>> members() const {
    std::vector<std::pair<std::string, View>> out;
    for (const Layer& l : layers_)
      for (uint32_t k = l.t->firstChild(l.node); k != 0; k = l.t->nextSibling(l.node, k + 1)) {
        std::string key = l.t->string(k);
        auto it = std::find_if(out.begin(), out.end(), [&](const auto& m) { return m.first == key; });
        if (it == out.end()) out.emplace_back(std::move(key), View(l.t, k + 1));
        else it->second.add(l.t, k + 1);
      }
    out.erase(std::remove_if(out.begin(), out.end(), [](const auto& m) { return !m.second.present(); }), out.end());
    return out;
  }
  // An array's elements.
  std::vector<View> elements() const {
    std::vector<View> out;
    for (uint32_t e = tape().firstChild(node()); e != 0; e = tape().nextSibling(node(), e)) out.emplace_back(&tape(), e);
    return out;
  }

 private:
  struct Layer {
    const Tape* t;
    uint32_t node;
  };
  std::vector<Layer> layers_;
};

// Collects the first validation failure with the path of the field at fault.
struct Validator {
  Status status;
  bool ok() const { return status.ok; }
  void fail(const std::string& path, const std::string& what) {
    if (status.ok) status = Status::failure(path + ": " + what);
  }

  void integer(const View& obj, const char* key, const std::string& path, int64_t& out, int64_t min, int64_t max) {
    View f = obj.member(key);
    if (!f.present()) return;
    int64_t v = 0;
    if (!f.tape().isInteger(f.node(), &v)) return fail(path + "." + key, "expected an integer");
    if (v < min || v > max)
      return fail(path + "." + key, "must be between " + std::to_string(min) + " and " + std::to_string(max));
    out = v;
  }
  void string(const View& obj, const char* key, const std::string& path, std::string& out, bool required) {
    View f = obj.member(key);
    if (!f.present()) {
      if (required) fail(path + "." + key, "is required");
      return;
    }
    if (f.kind() != Kind::String || f.tape().rawString(f.node()).empty())
      return fail(path + "." + key, "expected a non-empty string");
    out = f.string();
  }
  // A non-negative decimal with at most 6 fractional digits, as millionths.
  void micros(const View& obj, const char* key, const std::string& path, int64_t& out, double max) {
    View f = obj.member(key);
    if (!f.present()) return;
    if (f.kind() != Kind::Number) return fail(path + "." + key, "expected a number");
    double v = f.tape().number(f.node());
    if (!(v >= 0) || v > max) return fail(path + "." + key, "must be between 0 and " + std::to_string(static_cast<int64_t>(max)));
    out = std::llround(v * 1e6);
  }
  // An array of strings (non-empty ones when `nonEmpty`), at most `max` long.
  void strings(const View& obj, const char* key, const std::string& path, std::vector<std::string>& out,
               const char* expected = "expected an array of strings", size_t max = SIZE_MAX, bool nonEmpty = false) {
    View f = obj.member(key);
    if (!f.present()) return;
    if (f.kind() != Kind::Array || f.tape().node(f.node()).count > max) return fail(path + "." + key, expected);
    for (const View& e : f.elements()) {
      if (!e.isString() || (nonEmpty && e.tape().rawString(e.node()).empty())) return fail(path + "." + key, expected);
      out.push_back(e.string());
    }
  }
  void boolean(const View& obj, const char* key, const std::string& path, bool& out) {
    View f = obj.member(key);
    if (!f.present()) return;
    if (f.kind() != Kind::True && f.kind() != Kind::False) return fail(path + "." + key, "expected true or false");
    out = f.kind() == Kind::True;
  }
};

bool parseEnvInteger(const std::string& text, int64_t min, int64_t max, int64_t& out);
bool validBaseUrl(const std::string& url);

enum class Rows { Absent, NotArray, Read };

// The rows of the top-level array `key`: the bundled document's, with each
// override row merged into the bundled row of the same "id" or appended, so
// an override can add or change one model without restating the catalog.
// An override value that is not an array replaces the bundled one.
Rows readRows(const Tape& bundled, const Tape* patch, std::string_view key, std::vector<View>& rows);

// settings.cc: the gateway object's settings, then the environment's.
void readSettings(const View& gateway, Config& c, Validator& v);
void applySettingEnvironment(const Environment& env, Config& c, Validator& v);
void applySettingSecrets(const Environment& env, Config& c);
// The variables, secrets and digests the settings read.
void settingEnvNames(EnvNames& names);
// catalog.cc: provider and model rows, and the environment's provider variables.
void readProvider(const View& row, size_t index, Config& c, Validator& v);
void readModel(const View& row, size_t index, Config& c, Validator& v);
void applyProviderEnvironment(const Environment& env, Config& c, Validator& v);

}  // namespace gw::config
