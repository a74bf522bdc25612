// Fuzzes what a provider's stream goes through on its way to a client: the
// SSE framing, the passthrough forwarder, and every wire format's decoder
// driving every client dialect's real stream writer (and the cache's
// recorder), split at an input-chosen point. No crash or sanitizer report,
// the split never changes the output, and every event a writer emits is
// well-formed: `data:` carries one JSON document (or [DONE]).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "dialects/dialect.h"
#include "dialects/generate.h"
#include "gw/json_tape.h"
#include "gw/sse.h"
#include "dialects/anthropic_messages.h"
#include "dialects/openai_responses.h"
#include "wire/anthropic_messages.h"
#include "wire/gemini_generate.h"
#include "wire/openai_chat.h"
#include "wire/openai_responses.h"

namespace {

const gw::chat::Dialect* const DIALECTS[] = {&gw::chat::openAiDialect(), &gw::anthropic_dialect::dialect(),
                                             &gw::generate_dialect::dialect(), &gw::openai_responses::dialect()};

gw::chat::CallSummary summaryFor(const gw::StreamDecoder& d) {
  gw::chat::CallSummary s;
  s.requestId = "aigw_000000000000000000000000";
  s.responseId = "chatcmpl-000000000000000000000000";
  s.model = "m";
  s.usage = d.usage();
  return s;
}

// Every event a writer emitted: SSE framing of our own making, each data
// line one JSON value, comments allowed.
void checkWellFormed(const std::string& out) {
  gw::SseDecoder framing(1 << 24);
  std::vector<gw::SseEvent> events;
  if (!framing.feed(out, events)) std::abort();
  gw::json::Tape t;
  for (const auto& ev : events)
    if (ev.data != "[DONE]" && !t.parse(ev.data)) std::abort();
}

// One decoder feeding one dialect's writer and a recorder at once, as the
// pipeline does for a cached stream; then the end or the failure event.
template <typename Decoder>
std::string translate(std::string_view first, std::string_view second, const gw::chat::Dialect& dialect, bool fail) {
  Decoder decoder;
  auto writer = dialect.streamWriter(summaryFor(decoder), true);
  gw::CompletionRecorder recorder;
  gw::TeeSink tee(*writer, recorder);
  decoder.feed(first, tee);
  decoder.feed(second, tee);
  if (fail || decoder.error()) writer->failure(decoder.error() ? decoder.error() : gw::serverError(502, "x", "t", "c"));
  else writer->end(summaryFor(decoder));
  (void)gw::chat::renderOpenAiCompletion(recorder.completion(), summaryFor(decoder));
  (void)dialect.renderCompletion(recorder.completion(), summaryFor(decoder));
  checkWellFormed(writer->pending());
  return writer->pending();
}

template <typename Decoder>
void throughEveryWriter(std::string_view input, size_t cut, bool fail) {
  for (const gw::chat::Dialect* d : DIALECTS) {
    std::string whole = translate<Decoder>(input, {}, *d, fail);
    std::string split = translate<Decoder>(input.substr(0, cut), input.substr(cut), *d, fail);
    if (whole != split) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  size_t cut = (data[0] >> 1) % size;
  const bool fail = data[0] & 1;
  std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  cut = cut > input.size() ? input.size() : cut;

  gw::openai_chat::StreamForwarder whole(false), split(false);
  std::string a, b;
  whole.feed(input, a);
  split.feed(input.substr(0, cut), b);
  split.feed(input.substr(cut), b);
  if (a != b) std::abort();

  throughEveryWriter<gw::anthropic_messages::EventDecoder>(input, cut, fail);
  throughEveryWriter<gw::gemini_generate::EventDecoder>(input, cut, fail);
  throughEveryWriter<gw::openai_chat::ChunkDecoder>(input, cut, fail);
  throughEveryWriter<gw::responses_wire::EventDecoder>(input, cut, fail);

  gw::SseDecoder decoder(4096);
  std::vector<gw::SseEvent> events;
  decoder.feed(input, events);
  return 0;
}
