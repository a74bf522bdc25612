// POST /internal/queue/usage: the consumer of the usage queue (a host job,
// like the cron trigger; anyone else gets a 404). The body is the batch's
// messages, a JSON array of strings, each one row's parameters as
// recordUsage sent them, or an array of such rows (the worker packs the rows
// of a few milliseconds into one message). They are written in as few D1
// statements as the platform's limits allow, one after another; the answer
// says whether the host may acknowledge the batch (200) or must have it
// delivered again (503: rows already written are written again, replacing
// themselves). A message that is not a row can never be written: it is
// logged and left out, so it does not hold the batch back.
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
    json::Tape message;
    for (uint32_t m = batch.firstChild(batch.root()); m != 0; m = batch.nextSibling(batch.root(), m)) {
      const std::string text = batch.kind(m) == Kind::String ? batch.string(m) : std::string(batch.raw(m));
      if (!message.parse(text) || message.kind(message.root()) != Kind::Array) {
        ++dropped_;
        continue;
      }
      const uint32_t root = message.root();
      const uint32_t first = message.firstChild(root);
      if (first == 0 || message.kind(first) != Kind::Array) {
        take(message, root);
        continue;
      }
      for (uint32_t r = first; r != 0; r = message.nextSibling(root, r)) take(message, r);
    }
    if (dropped_ > 0) {
      std::string line;
      json::Writer(line).beginObject().field("event", "usage_queue_message_dropped").field("count", dropped_).endObject();
      s.log("error", line);
    }
    for (std::string& chunk : chunks_) chunk += ']';
    writeChunk(s, 0);
  }

 private:
  // D1 binds a string of at most 2 MB; a statement's rows stay well under it.
  static constexpr size_t MAX_CHUNK_BYTES = 512 * 1024;

  // One row's parameters: an array of USAGE_ROW_VALUES scalars (fewer,
  // down to USAGE_ROW_VALUES_BEFORE, from gateways before the newer
  // columns), a request id first.
  static bool isRow(const json::Tape& t, uint32_t row) {
    if (t.kind(row) != Kind::Array) return false;
    if (const uint32_t n = t.node(row).count; n > USAGE_ROW_VALUES || n < USAGE_ROW_VALUES_BEFORE) return false;
    const uint32_t first = t.firstChild(row);
    if (t.kind(first) != Kind::String || t.rawString(first).empty()) return false;
    for (uint32_t v = first; v != 0; v = t.nextSibling(row, v))
      if (t.kind(v) == Kind::Object || t.kind(v) == Kind::Array) return false;
    return true;
  }
  void take(const json::Tape& t, uint32_t row) {
    if (!isRow(t, row)) {
      ++dropped_;
      return;
    }
    const std::string_view text = t.raw(row);
    if (chunks_.empty() || chunks_.back().size() + text.size() + 2 > MAX_CHUNK_BYTES) chunks_.emplace_back("[");
    else chunks_.back() += ',';
    chunks_.back() += text;
    ++written_;
  }
  // The chunks in turn, each one statement (json_each over its rows).
  void writeChunk(Session& s, size_t i) {
    if (i == chunks_.size()) return done(s);
    std::string params;
    json::Writer(params).beginArray().string(chunks_[i]).endArray();
    s.d1(usageBatchSql(), params, [this, i](Session& s, const EffectResult& r) {
      if (!r.ok)
        return fail(s, serverError(503, "The usage rows could not be written; the batch is delivered again.",
                                   "server_error", "storage_unavailable"));
      writeChunk(s, i + 1);
    });
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

  std::vector<std::string> chunks_;  // "[row,row,...]", each at most MAX_CHUNK_BYTES
  int64_t written_ = 0;
  int64_t dropped_ = 0;
};

}  // namespace

std::unique_ptr<Handler> usageQueue() { return std::make_unique<UsageQueue>(); }

}  // namespace gw::handlers
