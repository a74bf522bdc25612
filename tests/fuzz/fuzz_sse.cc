// Fuzzes the SSE decoder and the stream forwarder with arbitrary bytes split
// at an input-chosen point: no crash, and the split never changes the output.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "gw/sse.h"
#include "providers/openai_chat.h"

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

  gw::SseDecoder decoder(4096);
  std::vector<gw::SseEvent> events;
  decoder.feed(input, events);
  return 0;
}
