// POST /v1/chat/completions: the chat pipeline in the OpenAI dialect.
#include "../chat/pipeline.h"
#include "handlers.h"

namespace gw::handlers {

std::unique_ptr<Handler> chatCompletions() { return std::make_unique<chat::ChatPipeline>(chat::openAiDialect()); }

}  // namespace gw::handlers
