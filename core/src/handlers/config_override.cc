#include "config_override.h"

#include "gw/json_writer.h"

namespace gw::handlers {

namespace {

using json::Kind;

// "models[3].price.input: must be …" → param "price.input": the field as the
// request named it.
ApiError rejected(const Status& st) {
  const std::string& m = st.message;
  const size_t colon = m.find(": ");
  std::string path = m.substr(0, colon == std::string::npos ? 0 : colon);
  const size_t dot = path.find('.');
  std::string param = dot == std::string::npos ? path : path.substr(dot + 1);
  return invalidValue(std::move(param), "The change would make the configuration invalid: " + m);
}

// The stored override (none when empty or not an object) with its member
// `key` rewritten by `body(o, old, w)`, where `old` is the stored value (0:
// none); every other member is kept as stored.
template <typename Body>
std::string rewriteMember(std::string_view current, std::string_view key, Body body) {
  json::Tape o;
  const bool stored = !current.empty() && o.parse(current) && o.kind(o.root()) == Kind::Object;
  std::string out;
  json::Writer w(out);
  w.beginObject();
  uint32_t old = 0;
  if (stored)
    for (uint32_t k = o.firstChild(o.root()); k != 0; k = o.nextSibling(o.root(), k + 1)) {
      if (o.stringEquals(k, key)) old = k + 1;
      else w.key(o.string(k)).raw(o.raw(k + 1));
    }
  w.key(key);
  body(o, old, w);
  w.endObject();
  return out;
}

// The members of `old` (an object, or 0) that `patch` does not name, then
// the patch's own, except nulls: a null removes the member (merge patch),
// and `id` is the caller's to write.
void mergeMembers(const json::Tape& o, uint32_t old, const json::Tape& patch, json::Writer& w) {
  if (old != 0 && o.kind(old) == Kind::Object)
    for (uint32_t k = o.firstChild(old); k != 0; k = o.nextSibling(old, k + 1))
      if (!o.stringEquals(k, "id") && patch.find(patch.root(), o.string(k)) == 0) w.key(o.string(k)).raw(o.raw(k + 1));
  for (uint32_t k = patch.firstChild(patch.root()); k != 0; k = patch.nextSibling(patch.root(), k + 1))
    if (!patch.stringEquals(k, "id") && patch.kind(k + 1) != Kind::Null) w.key(patch.string(k)).raw(patch.raw(k + 1));
}

}  // namespace

std::string mergeOverrideRow(std::string_view current, std::string_view rowsKey, const std::string& id,
                             const json::Tape& patch) {
  return rewriteMember(current, rowsKey, [&](const json::Tape& o, uint32_t rows, json::Writer& w) {
    uint32_t oldRow = 0;
    w.beginArray();
    if (rows != 0 && o.kind(rows) == Kind::Array)
      for (uint32_t r = o.firstChild(rows); r != 0; r = o.nextSibling(rows, r)) {
        if (o.kind(r) == Kind::Object && o.stringAt(r, "id") == id) oldRow = r;
        else w.raw(o.raw(r));
      }
    w.beginObject().field("id", id);
    mergeMembers(o, oldRow, patch, w);
    w.endObject().endArray();
  });
}

std::string mergeOverrideObject(std::string_view current, std::string_view key, const json::Tape& patch) {
  return rewriteMember(current, key, [&](const json::Tape& o, uint32_t old, json::Writer& w) {
    w.beginObject();
    mergeMembers(o, old, patch, w);
    w.endObject();
  });
}

void storeOverride(Session& s, OverrideChange change, MoveFunction<void(Session&, const ApiError&)> done) {
  // The override as stored now: another instance may have changed it.
  s.kvGet(CONFIG_OVERRIDE_KEY, [change = std::move(change), done = std::move(done)](Session& s,
                                                                                  const EffectResult& r) mutable {
    std::string next = change(r.ok ? r.data : std::string_view());
    GatewayState& st = s.state();
    Result<Config> candidate = loadConfig(st.bundledConfig, next, st.env);
    if (!candidate.ok()) return done(s, rejected(candidate.status()));
    s.kvPut(CONFIG_OVERRIDE_KEY, next,
            [next, config = std::move(candidate.value()), done = std::move(done)](Session& s,
                                                                                 const EffectResult& r) mutable {
              if (!r.ok)
                return done(s, serverError(503, "Could not store the change; try again.", "service_unavailable",
                                           "kv_unavailable"));
              // The config checked above is the one to serve: no second load.
              s.state().install(std::move(next), std::move(config));
              s.state().lastRefreshMs = s.nowMs();
              done(s, ApiError{});
            });
  });
}

void changeOverride(Session& s, OverrideChange change, MoveFunction<void(Session&)> done) {
  storeOverride(s, std::move(change), [done = std::move(done)](Session& s, const ApiError& failure) mutable {
    if (failure) return s.respondError(failure);
    done(s);
  });
}

}  // namespace gw::handlers
