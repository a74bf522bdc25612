#include "gw/completion.h"

#include <algorithm>

#include "gw/pricing.h"

namespace gw {

Choice& CompletionRecorder::at(int choice) {
  for (auto& c : completion_.choices)
    if (c.index == choice) return c;
  completion_.choices.emplace_back();
  completion_.choices.back().index = choice;
  return completion_.choices.back();
}

void CompletionRecorder::text(int choice, std::string_view delta) {
  if (!validChoice(choice)) return;
  Choice& c = at(choice);
  c.content.append(delta);
  c.hasContent = true;
}

void CompletionRecorder::toolCall(int choice, int index, std::string_view id, std::string_view name) {
  if (!validChoice(choice) || !validToolCall(index)) return;
  Choice& c = at(choice);
  if (static_cast<size_t>(index) >= c.toolCalls.size()) c.toolCalls.resize(index + 1);
  c.toolCalls[index].id = std::string(id);
  c.toolCalls[index].name = std::string(name);
}

void CompletionRecorder::toolArguments(int choice, int index, std::string_view delta) {
  if (!validChoice(choice) || !validToolCall(index)) return;
  Choice& c = at(choice);
  if (static_cast<size_t>(index) >= c.toolCalls.size()) c.toolCalls.resize(index + 1);
  c.toolCalls[index].arguments.append(delta);
}

void CompletionRecorder::reasoning(int choice, std::string_view delta) {
  if (validChoice(choice)) at(choice).reasoning.append(delta);
}

void CompletionRecorder::reasoningSignature(int choice, std::string_view signature) {
  if (validChoice(choice)) at(choice).reasoningSignature.append(signature);
}

void CompletionRecorder::finish(int choice, std::string_view reason) {
  if (validChoice(choice)) at(choice).finishReason = std::string(reason);
}

int64_t OutputCounter::tokens() const { return std::max(deltas_, estimateTokens(static_cast<size_t>(bytes_))); }

void OutputCounter::cut() {
  for (int c = 0; c < MAX_CHOICES; ++c)
    if (open_[c] && !finished_[c]) finish(c, "length");
}

size_t outputBytes(const Completion& c) {
  size_t n = 0;
  for (const auto& choice : c.choices) {
    n += choice.content.size();
    for (const auto& t : choice.toolCalls) n += t.name.size() + t.arguments.size();
  }
  return n;
}

}  // namespace gw
