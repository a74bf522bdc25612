// The request log's bodies past body_retention_days, deleted from R2 by the
// scheduled run. Keys begin "bodies/<day>/", so a listing's first page holds
// the oldest: one list and at most one delete a run, and a backlog drains
// over the following runs.
#include "cron_jobs.h"
#include "gw/json_tape.h"
#include "gw/json_writer.h"
#include "gw/periods.h"

namespace gw::handlers::scheduled {

namespace {

constexpr std::string_view PREFIX = "bodies/";
constexpr int64_t PAGE = 1000;  // R2 deletes at most 1000 keys a call

void report(Session& s, Run& run, bool ok, int64_t deleted, std::string_view cutoff) {
  std::string summary;
  json::Writer w(summary);
  w.beginObject().field("ok", ok).field("deleted", deleted);
  if (!cutoff.empty()) w.field("before", cutoff);
  if (!ok) w.field("error", "body store unavailable");
  w.endObject();
  run.finish(s, "bodies", summary, !ok);
}

}  // namespace

void expireBodies(Session& s, Run& run) {
  if (!s.config().bodyStore) return run.finish(s, "bodies", R"({"ok":true,"deleted":0,"store":false})", false);
  // Bodies of days before this one have outlived their retention.
  const std::string cutoff = isoTimestamp(s.nowMs() - s.config().bodyRetentionDays * DAY_MS).substr(0, 10);
  s.blobList(PREFIX, PAGE, [&run, cutoff](Session& s, const EffectResult& r) {
    json::Tape t;
    const uint32_t objects = r.ok && t.parse(r.data) ? t.find(t.root(), "objects") : 0;
    if (objects == 0 || t.kind(objects) != json::Kind::Array) return report(s, run, false, 0, cutoff);
    std::string keys;
    json::Writer w(keys);
    w.beginArray();
    int64_t n = 0;
    for (uint32_t o = t.firstChild(objects); o != 0; o = t.nextSibling(objects, o)) {
      const std::string key = t.stringAt(o, "key");
      // "bodies/2026-11-01/…": listed in key order, so the first day not expired ends the old ones.
      if (key.size() < PREFIX.size() + 10 || key.compare(PREFIX.size(), 10, cutoff) >= 0) break;
      w.string(key);
      ++n;
    }
    w.endArray();
    if (n == 0) return report(s, run, true, 0, cutoff);
    s.blobDelete(keys, [&run, n, cutoff](Session& s, const EffectResult& r) { report(s, run, r.ok, r.ok ? n : 0, cutoff); });
  });
}

}  // namespace gw::handlers::scheduled
