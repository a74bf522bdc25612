// POST /internal/queue/usage: the consumer of the usage queue (a host job,
// like the cron trigger; anyone else gets a 404). The body is the batch's
// messages, a JSON array of strings, each one row's parameters as
// recordUsage sent them. All of them are written in one D1 statement; the
// answer says whether the host may acknowledge the batch (200) or must have
// it delivered again (503). A message that is not a row can never be
// written: it is logged and left out, so it does not hold the batch back.
#include "admin_common.h"
#include "gw/json_tape.h"
#include "gw/json_writer.h"
#include "gw/usage_log.h"
#include "handlers.h"

namespace gw::handlers {

namespace {

using json::Kind;

class UsageQueue : public Handler {
 public:
  Access access() const override { return Access::Public; }
  // Writing rows needs no settings: the job never starts (or waits on) a
  // config refresh, which concurrent requests would then serve around.
  bool needsConfig() const override { return false; }

  void start(Session& s) override {
    if (!s.request().internal)
      return fail(s, notFoundError("Unknown endpoint: " + s.request().method + " " + s.request().path, "", "not_found"));
    json::Tape batch;
    if (!batch.parse(s.body()) || batch.kind(batch.root()) != Kind::Array)
      return fail(s, invalidRequest("The batch must be a JSON array of messages.", "", "invalid_json"));
    std::string rows = "[";
    json::Tape row;
    for (uint32_t m = batch.firstChild(batch.root()); m != 0; m = batch.nextSibling(batch.root(), m)) {
      const std::string message = batch.kind(m) == Kind::String ? batch.string(m) : std::string(batch.raw(m));
      if (!isRow(row, message)) {
        ++dropped_;
        continue;
      }
      if (written_++ > 0) rows += ',';
      rows += message;
    }
    rows += ']';
    if (dropped_ > 0) {
      std::string line;
      json::Writer(line).beginObject().field("event", "usage_queue_message_dropped").field("count", dropped_).endObject();
      s.log("error", line);
    }
    if (written_ == 0) return done(s);
    std::string params;
    json::Writer(params).beginArray().string(rows).endArray();
    s.d1(usageBatchSql(), params, [this](Session& s, const EffectResult& r) {
      if (!r.ok)
        return fail(s, serverError(503, "The usage rows could not be written; the batch is delivered again.",
                                   "server_error", "storage_unavailable"));
      done(s);
    });
  }

 private:
  // One row's parameters: an array of USAGE_ROW_VALUES scalars, a request id first.
  static bool isRow(json::Tape& t, std::string_view message) {
    if (!t.parse(message) || t.kind(t.root()) != Kind::Array || t.node(t.root()).count != USAGE_ROW_VALUES) return false;
    const uint32_t first = t.firstChild(t.root());
    if (t.kind(first) != Kind::String || t.rawString(first).empty()) return false;
    for (uint32_t v = first; v != 0; v = t.nextSibling(t.root(), v))
      if (t.kind(v) == Kind::Object || t.kind(v) == Kind::Array) return false;
    return true;
  }
  void fail(Session& s, const ApiError& e) {
    s.respondError(e);
    s.finish(e.status, e.code, e);
  }
  void done(Session& s) {
    std::string body;
    json::Writer(body).beginObject().field("written", written_).field("dropped", dropped_).endObject();
    s.respondJson(200, body);
    s.finish(200, "ok");
  }

  int64_t written_ = 0;
  int64_t dropped_ = 0;
};

}  // namespace

std::unique_ptr<Handler> usageQueue() { return std::make_unique<UsageQueue>(); }

}  // namespace gw::handlers
