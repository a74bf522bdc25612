/*
 * Edge AI gateway: host ABI, version 8. The spec is bindings/ABI.md; the JS
 * half is bindings/gw_abi.js. Every session call takes the session id first;
 * status codes (GW_*), never exceptions, cross the boundary.
 *
 * Ownership: input buffers belong to the host (allocate with gw_alloc, free
 * with gw_free after the call; the core copies what it keeps). Output buffers
 * belong to the core and stay valid only until the next call into the core.
 */
#ifndef GW_ABI_H
#define GW_ABI_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Status codes: GW_OK (0) and the negative GW_ERR_* of bindings/status_codes.json. */
#include "gw/status_codes.h"
enum {
#define GW_STATUS_C(code, c_name, cpp_name) c_name = (code),
  GW_STATUS_CODES(GW_STATUS_C)
#undef GW_STATUS_C
};

#define GW_EXPORT(name) __attribute__((export_name(#name))) name

/* Presence of this export declares ABI version 8; it returns 8. */
uint32_t GW_EXPORT(gw_abi_version_10)(void);

void* GW_EXPORT(gw_alloc)(uint32_t size);
void GW_EXPORT(gw_free)(void* ptr);

/* Names of the variables and secrets the config reads:
 * {"vars":[...],"secrets":[...],"digests":[...]}. The host passes values only
 * for vars, only the names of secrets that are set, and for `digests` the
 * SHA-256 hex of the secret's value (never the value). */
int32_t GW_EXPORT(gw_env_names)(const uint8_t* config, uint32_t config_len, uint8_t** out_ptr, uint32_t* out_len);

/* Loads the bundled config with the environment
 * {"vars":{name:value},"secrets":[name]}. Output: {"ok":bool,"error":string|null,
 * "max_body_bytes":N}. An invalid config returns GW_ERR_INVALID_CONFIG and the
 * core answers every request with a 500 naming the field; it never traps. */
int32_t GW_EXPORT(gw_configure)(const uint8_t* config, uint32_t config_len, const uint8_t* env, uint32_t env_len,
                                uint8_t** out_ptr, uint32_t* out_len);

/* Opens a session for one client request. Returns its id (> 0) or a GW_ERR_*. */
int32_t GW_EXPORT(gw_session_open)(const uint8_t* envelope, uint32_t envelope_len, const uint8_t* body,
                                   uint32_t body_len);

/* Reports what happened to an effect (see ABI.md for the metadata). */
int32_t GW_EXPORT(gw_session_feed)(uint32_t session, const uint8_t* meta, uint32_t meta_len, const uint8_t* data,
                                   uint32_t data_len);

/* Drains the effects the session wants performed into a batch:
 * u32le header length | {"effects":[...],"done":bool} | body bytes. */
int32_t GW_EXPORT(gw_session_poll)(uint32_t session, uint8_t** out_ptr, uint32_t* out_len);

/* The client went away: the session aborts its fetches (poll for them). */
int32_t GW_EXPORT(gw_session_cancel)(uint32_t session, double now_ms);

/* Frees the session. Closing a live session cancels it first. */
int32_t GW_EXPORT(gw_session_close)(uint32_t session);

/* The ledger (run by the host's Durable Object, one per tenant). Open loads a
 * tenant's stored entries as one JSON object {"<key>":<value>,...} (empty: a
 * new tenant) and returns a ledger id (> 0) or GW_ERR_EXHAUSTED; the core
 * keeps it parsed between operations. */
int32_t GW_EXPORT(gw_ledger_open)(const uint8_t* state, uint32_t state_len);

/* Applies one operation at the host's clock. Output: u32le N | N bytes of
 * writes | result JSON, where the writes (the entries to store, only those
 * that changed; N = 0: none) are repeated u32le key length | key | u32le
 * value length | value (JSON text). */
int32_t GW_EXPORT(gw_ledger_apply)(uint32_t ledger, const uint8_t* op, uint32_t op_len, double now_ms,
                                   uint8_t** out_ptr, uint32_t* out_len);

/* Frees an open ledger. */
int32_t GW_EXPORT(gw_ledger_close)(uint32_t ledger);

/* Number of live sessions (for leak checks). */
uint32_t GW_EXPORT(gw_live_sessions)(void);

#ifdef __cplusplus
}
#endif

#endif /* GW_ABI_H */
