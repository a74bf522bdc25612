// OpenAI's own Responses API (POST /v1/responses) as the fake upstream
// speaks it. Each answer is kept by id unless `store` is false, so
// previous_response_id and item_reference resolve as OpenAI resolves them,
// and unknown ones get OpenAI's errors. Function tools get a get_weather
// call until the input ends with its output; reasoning models (o-series,
// gpt-5) think first: a reasoning item, its summary when asked for, its
// encrypted content when included, and, as OpenAI requires, a function
// call sent back must come with the reasoning item that preceded it.
// Streams are the Responses event sequence with sequence numbers.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const CHAT = JSON.parse(readFileSync(fileURLToPath(new URL('../fixtures/openai/chat_completion.json', import.meta.url)), 'utf8'));
// The chat endpoint's whole answers count these (fake_upstream.js).
const PROMPT_TOKENS = 12;
const OUTPUT_TOKENS = 5;
const hex = () => randomBytes(24).toString('hex');
const reasons = (model) => /^(o\d|gpt-5)/.test(model ?? '');
const error = (status, message, param, code) => ({ status, json: { error: { message, type: 'invalid_request_error', param, code } } });

export function createResponses() {
  const stored = new Map(); // response id → { history: items through its output, response }
  const items = new Map(); // item id → { item, reasoningId: the reasoning item its response had }

  // The conversation a request runs on: the previous one, then its input, references read.
  function conversation(body) {
    let history = [];
    if (body.previous_response_id) {
      const previous = stored.get(body.previous_response_id);
      if (!previous) return { failure: error(400, `Previous response with id '${body.previous_response_id}' not found.`, 'previous_response_id', 'previous_response_not_found') };
      history = [...previous.history];
    }
    const input = typeof body.input === 'string' ? [{ type: 'message', role: 'user', content: body.input }] : body.input ?? [];
    for (const [i, item] of input.entries()) {
      if (item?.type !== 'item_reference') {
        history.push(item);
        continue;
      }
      const found = items.get(item.id);
      if (!found) return { failure: error(404, `Item with id '${item.id}' not found.`, `input[${i}]`, null) };
      history.push(found.item);
    }
    // A reasoning model's function call must come with its reasoning item.
    for (const [i, item] of history.entries()) {
      const known = item?.type === 'function_call' && items.get(item.id);
      if (known?.reasoningId && !history.slice(0, i).some((earlier) => earlier?.id === known.reasoningId))
        return { failure: error(400, `Item '${item.id}' of type 'function_call' was provided without its required 'reasoning' item: '${known.reasoningId}'.`, 'input', null) };
    }
    return { history };
  }

  function respond(body, text) {
    const { history, failure } = conversation(body);
    if (failure) return failure;
    const output = [];
    if (reasons(body.model)) {
      const reasoning = { id: 'rs_' + hex(), type: 'reasoning', summary: body.reasoning?.summary ? [{ type: 'summary_text', text: 'Thinking it through.' }] : [] };
      if ((body.include ?? []).includes('reasoning.encrypted_content')) reasoning.encrypted_content = 'enc_' + hex();
      output.push(reasoning);
    }
    const functions = (body.tools ?? []).filter((t) => t.type === 'function');
    if (text === undefined && functions.length > 0 && history.at(-1)?.type !== 'function_call_output') {
      output.push({ id: 'fc_' + hex(), type: 'function_call', status: 'completed', arguments: '{"location":"San Francisco, CA"}', call_id: 'call_' + hex().slice(0, 24), name: functions[0].name });
    } else {
      // As the chat endpoint answers a whole request: the last message echoed.
      const last = history.at(-1)?.content;
      const answer = text ?? (body.stream ? CHAT.choices[0].message.content : `echo: ${typeof last === 'string' ? last : ''}`);
      output.push({ id: 'msg_' + hex(), type: 'message', status: 'completed', role: 'assistant', content: [{ type: 'output_text', annotations: [], logprobs: [], text: answer }] });
    }
    const reasoningTokens = reasons(body.model) ? 16 : 0;
    const response = {
      id: 'resp_' + hex(), object: 'response', created_at: Math.floor(Date.now() / 1000), status: 'completed', background: false,
      error: null, incomplete_details: null, instructions: body.instructions ?? null, max_output_tokens: body.max_output_tokens ?? null,
      model: body.model, output, parallel_tool_calls: body.parallel_tool_calls ?? true, previous_response_id: body.previous_response_id ?? null,
      reasoning: { effort: body.reasoning?.effort ?? null, summary: body.reasoning?.summary ?? null }, store: body.store !== false,
      temperature: body.temperature ?? 1, text: body.text ?? { format: { type: 'text' } }, tool_choice: body.tool_choice ?? 'auto',
      tools: body.tools ?? [], top_p: body.top_p ?? 1, truncation: 'disabled',
      usage: {
        input_tokens: PROMPT_TOKENS, input_tokens_details: { cached_tokens: 0 },
        output_tokens: OUTPUT_TOKENS + reasoningTokens, output_tokens_details: { reasoning_tokens: reasoningTokens },
        total_tokens: PROMPT_TOKENS + OUTPUT_TOKENS + reasoningTokens,
      },
      user: null, metadata: body.metadata ?? {},
    };
    if (body.store !== false) {
      stored.set(response.id, { history: [...history, ...output], response });
      const reasoningId = output.find((item) => item.type === 'reasoning')?.id;
      for (const item of output) items.set(item.id, { item, reasoningId });
    }
    return { status: 200, json: response };
  }

  return {
    // DELETE /v1/responses/{id}, as OpenAI answers it.
    remove(id) {
      if (!stored.delete(id)) return { status: 404, json: { error: { message: `Response with id '${id}' not found.`, type: 'invalid_request_error', param: null, code: null } } };
      return { status: 200, json: { id, object: 'response.deleted', deleted: true } };
    },
    has: (id) => stored.has(id),
    // { status, json } for a whole answer, or { status: 200, events } for a stream.
    answer(body, text) {
      const result = respond(body, text);
      if (result.status !== 200 || !body.stream) return result;
      return { status: 200, events: events(result.json) };
    },
  };
}

// The event sequence of a finished response.
function events(response) {
  const out = [];
  const emit = (type, fields) => out.push(`event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: out.length, ...fields })}\n\n`);
  const started = { ...response, status: 'in_progress', output: [], usage: null };
  emit('response.created', { response: started });
  emit('response.in_progress', { response: started });
  for (const [output_index, item] of response.output.entries()) {
    const at = { item_id: item.id, output_index };
    if (item.type === 'reasoning') {
      emit('response.output_item.added', { output_index, item: { ...item, summary: [], encrypted_content: undefined } });
      for (const [summary_index, part] of item.summary.entries()) {
        emit('response.reasoning_summary_part.added', { ...at, summary_index, part: { type: 'summary_text', text: '' } });
        emit('response.reasoning_summary_text.delta', { ...at, summary_index, delta: part.text });
        emit('response.reasoning_summary_text.done', { ...at, summary_index, text: part.text });
        emit('response.reasoning_summary_part.done', { ...at, summary_index, part });
      }
    } else if (item.type === 'message') {
      const text = item.content[0].text;
      emit('response.output_item.added', { output_index, item: { ...item, status: 'in_progress', content: [] } });
      emit('response.content_part.added', { ...at, content_index: 0, part: { type: 'output_text', annotations: [], logprobs: [], text: '' } });
      const third = Math.ceil(text.length / 3);
      for (let i = 0; i < text.length; i += third) emit('response.output_text.delta', { ...at, content_index: 0, delta: text.slice(i, i + third), logprobs: [] });
      emit('response.output_text.done', { ...at, content_index: 0, text, logprobs: [] });
      emit('response.content_part.done', { ...at, content_index: 0, part: item.content[0] });
    } else {
      emit('response.output_item.added', { output_index, item: { ...item, status: 'in_progress', arguments: '' } });
      emit('response.function_call_arguments.delta', { ...at, delta: item.arguments });
      emit('response.function_call_arguments.done', { ...at, arguments: item.arguments });
    }
    emit('response.output_item.done', { output_index, item });
  }
  emit('response.completed', { response });
  return out;
}
