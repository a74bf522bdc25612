// Fuzzes the SSE decoder and the stream forwarder with arbitrary bytes split
// at an input-chosen point: no crash, and the split never changes the output.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "gw/sse.h"
#include "providers/anthropic_messages.h"
#include "providers/gemini_generate.h"
#include "providers/openai_chat.h"

namespace {

// Records decoder events so a split can be compared with the whole.
struct Events : gw::ChunkSink {
  std::string log;
  void text(int c, std::string_view d) override { log += "t" + std::to_string(c) + std::string(d); }
  void toolCall(int c, int i, std::string_view id, std::string_view n) override {
    log += "c" + std::to_string(c) + "/" + std::to_string(i) + std::string(id) + std::string(n);
  }
  void toolArguments(int c, int i, std::string_view d) override {
    log += "a" + std::to_string(c) + "/" + std::to_string(i) + std::string(d);
  }
  void finish(int c, std::string_view r) override { log += "f" + std::to_string(c) + std::string(r); }
};

template <typename Decoder>
void sameEventsWhenSplit(std::string_view input, size_t cut) {
  Decoder whole, split;
  Events a, b;
  whole.feed(input, a);
  split.feed(input.substr(0, cut), b);
  split.feed(input.substr(cut), b);
  if (a.log != b.log || whole.complete() != split.complete()) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  size_t cut = data[0] % size;
  std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  cut = cut > input.size() ? input.size() : cut;

  gw::openai_chat::StreamForwarder whole(false), split(false);
  std::string a, b;
  whole.feed(input, a);
  split.feed(input.substr(0, cut), b);
  split.feed(input.substr(cut), b);
  if (a != b) std::abort();

  sameEventsWhenSplit<gw::anthropic_messages::EventDecoder>(input, cut);
  sameEventsWhenSplit<gw::gemini_generate::EventDecoder>(input, cut);
  sameEventsWhenSplit<gw::openai_chat::ChunkDecoder>(input, cut);

  gw::SseDecoder decoder(4096);
  std::vector<gw::SseEvent> events;
  decoder.feed(input, events);
  return 0;
}
