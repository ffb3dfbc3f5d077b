/*
 * AlphaPlus plugin contract, ABI 1.2
 *
 * This header is the only thing an AlphaPlus plugin and the AlphaPlus host
 * share. A plugin written in any language that can export a C function and
 * call C function pointers can be built from this file alone.
 *
 * ---------------------------------------------------------------------------
 * 1. Loading
 * ---------------------------------------------------------------------------
 * A plugin is an ELF shared object that exports exactly one function:
 *
 *     AP_EXPORT const ap_plugin_api *ap_plugin_entry(void);
 *
 * The host opens the file with dlopen(RTLD_NOW | RTLD_LOCAL) after checking
 * that it is a regular, non world-writable ELF shared object for the host's
 * machine, then calls ap_plugin_entry() once. The returned table must live
 * as long as the process (a static object). The host reads `struct_size`,
 * `abi_major` and `abi_minor` before anything else and refuses the plugin,
 * calling nothing more, when:
 *   - abi_major != the host's AP_ABI_MAJOR (a breaking change), or
 *   - abi_minor  > the host's AP_ABI_MINOR (the plugin may call additions
 *     the host does not have), or
 *   - struct_size is smaller than the ABI 1.0 size of the table.
 * The host never unloads a plugin (dlclose is never called): a new version
 * of a plugin is a new file path or a new process.
 *
 * ---------------------------------------------------------------------------
 * 2. Versioning
 * ---------------------------------------------------------------------------
 * ABI major: breaking changes. ABI minor: additions only: new fields at the
 * end of a struct, new status codes, new enum values, new host services at
 * the end of ap_host_api. A capability table (ap_head_v1, ...) never changes
 * once published, not even by addition: new behaviour is published under a
 * new capability id ("ap.head.v2").
 *
 * Every struct that crosses the boundary starts with `uint32_t struct_size`,
 * set by whoever fills the struct to sizeof(the struct as it was compiled).
 * The receiver reads only min(struct_size, its own sizeof) bytes and treats
 * fields beyond struct_size as absent (zero / NULL). Structs nested by value
 * (ap_str, ap_decimal, ap_candle, ap_book_level, ap_http_header,
 * ap_named_value, ap_rate_limit, ap_subscriber_identity) have no
 * struct_size: they are frozen forever.
 *
 * ---------------------------------------------------------------------------
 * 3. Memory: whoever allocates frees
 * ---------------------------------------------------------------------------
 * Nothing is ever freed across the boundary. Every pointer argument has one
 * of three lifetimes, stated at each declaration:
 *   [call]     valid only until the function it was passed to returns;
 *              copy what you want to keep.
 *   [instance] valid from create() until destroy() returns.
 *   [load]     valid for as long as the process runs.
 * Results flow through caller-provided storage (out-pointers, ap_error,
 * ap_vote) or through callbacks that lend data for the duration of the
 * callback ([call] lifetime).
 *
 * Strings are ap_str: a pointer and a length in bytes of UTF-8, NOT
 * necessarily NUL-terminated. An absent string is {NULL, 0}.
 *
 * ---------------------------------------------------------------------------
 * 4. Threads
 * ---------------------------------------------------------------------------
 * - ap_plugin_entry, init and deinit are called on the host's loader thread,
 *   never concurrently with each other or with any other call into the
 *   same plugin.
 * - The host never calls one instance from two threads at once. Every call
 *   that takes an instance (including timer, HTTP and WebSocket callbacks
 *   for that instance) runs on that instance's serial executor: calls are
 *   totally ordered and each happens-after the previous one returned. They
 *   may run on different OS threads over time: do not use thread-locals to
 *   hold instance state.
 * - Different instances of one plugin may be called in parallel. State
 *   shared between instances (globals) must be synchronised by the plugin.
 * - Host services (ap_host_api) are thread-safe and may be called from any
 *   thread while the context they are given is valid. A plugin should not
 *   create threads; it gets time through timers and I/O through the host.
 * - No call may block for long: the host enforces a per-call deadline and
 *   treats an instance that keeps overrunning it as failing.
 *
 * ---------------------------------------------------------------------------
 * 5. Errors
 * ---------------------------------------------------------------------------
 * Functions return ap_status. On failure they may describe the problem in
 * the caller-provided ap_error (see ap_error_set below). Nothing unwinds
 * across the boundary: a C++ exception or a Swift error must be caught
 * inside the plugin and turned into a status.
 *
 * ---------------------------------------------------------------------------
 * 6. No I/O of its own
 * ---------------------------------------------------------------------------
 * A plugin never opens a socket. HTTP and WebSocket go through the host
 * (ap_host_api.http_request, ws_connect), which owns TLS, timeouts,
 * retries, proxies, rate limits and the allowlist of network hosts the
 * plugin declared in its descriptor. This is what lets the same plugin run
 * in the host's process or in an isolated runner process unchanged.
 */
#ifndef ALPHAPLUS_PLUGIN_H
#define ALPHAPLUS_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define AP_ABI_MAJOR 1
#define AP_ABI_MINOR 2

/* The one symbol the host looks up. */
#define AP_PLUGIN_ENTRY_SYMBOL "ap_plugin_entry"

#if defined(_WIN32)
#define AP_EXPORT __declspec(dllexport)
#else
#define AP_EXPORT __attribute__((visibility("default")))
#endif

/* ===== Basic types ======================================================= */

/* UTF-8 text: `len` bytes at `ptr`, not necessarily NUL-terminated. */
typedef struct ap_str {
    const char *ptr;
    size_t len;
} ap_str;

/* An exact decimal number: mantissa x 10^exponent. Prices and sizes from a
 * venue keep the venue's digits (Kraken "0.05000" is {5000, -5}), which
 * checksums and exact accounting need. Zero is {0, any exponent}. */
typedef struct ap_decimal {
    int64_t mantissa;
    int32_t exponent;
} ap_decimal;

typedef int32_t ap_status;
enum {
    AP_OK = 0,
    AP_ERR_INVALID_ARGUMENT = 1,  /* a malformed argument from the caller */
    AP_ERR_INVALID_CONFIG = 2,    /* instance config rejected */
    AP_ERR_UNSUPPORTED = 3,       /* not offered by this plugin / host */
    AP_ERR_NOT_FOUND = 4,         /* no such key, secret, timer, request */
    AP_ERR_PERMISSION_DENIED = 5, /* e.g. a network host not declared */
    AP_ERR_UNAVAILABLE = 6,       /* transient: try again later */
    AP_ERR_TIMEOUT = 7,
    AP_ERR_RATE_LIMITED = 8,
    AP_ERR_BUFFER_TOO_SMALL = 9,
    AP_ERR_WRONG_STATE = 10,      /* e.g. subscribe before start */
    AP_ERR_INTERNAL = 11          /* a bug or an unexpected failure */
};

#define AP_ERROR_MESSAGE_CAPACITY 1024

/* The limits of one entry of an instance's state (state_set). */
#define AP_STATE_KEY_MAX_BYTES 256
#define AP_STATE_VALUE_MAX_BYTES 1048576

/* Error details, caller-provided storage. The caller sets struct_size and
 * message_len = 0; the callee writes at most AP_ERROR_MESSAGE_CAPACITY bytes
 * of UTF-8 into `message` and sets message_len. The message is for an
 * operator: say what was wrong and where (a field name, a value). It must
 * never contain a secret. */
typedef struct ap_error {
    uint32_t struct_size;
    uint32_t message_len;
    char message[AP_ERROR_MESSAGE_CAPACITY];
} ap_error;

/* Copies a NUL-terminated message into `err` (truncating at the capacity,
 * never splitting a UTF-8 sequence). `err` may be NULL. */
static inline void ap_error_set(ap_error *err, const char *message) {
    size_t n = 0;
    if (err == NULL || message == NULL) return;
    while (message[n] != '\0' && n < AP_ERROR_MESSAGE_CAPACITY) n++;
    if (message[n] != '\0') {
        /* Truncated: back off to a UTF-8 character boundary. */
        while (n > 0 && (((unsigned char)message[n]) & 0xC0) == 0x80) n--;
    }
    for (size_t i = 0; i < n; i++) err->message[i] = message[i];
    err->message_len = (uint32_t)n;
}

/* A name-value pair of text (HTTP headers, labels). */
typedef struct ap_http_header {
    ap_str name;
    ap_str value;
} ap_http_header;

/* ===== Plugin descriptor ================================================= */

/* Network hosts the plugin may reach through the host's HTTP and WebSocket
 * services, e.g. "discord.com", "api.telegram.org", "*.binance.com" (a
 * leading "*." matches any subdomain, not the bare domain). The host refuses
 * any request to a host not listed. */
typedef struct ap_permissions {
    uint32_t struct_size;
    const ap_str *network_hosts; /* [load] */
    size_t network_host_count;
    /* ABI 1.2: host services that change what a tenant's subscribers
     * receive, as ap_service_permission flags. A service the descriptor
     * does not list answers AP_ERR_PERMISSION_DENIED. */
    uint64_t services;
} ap_permissions;

/* Services a plugin must ask for in ap_permissions.services (ABI 1.2). */
typedef enum ap_service_permission {
    /* subscriber_link, subscriber_unlink, subscription_update (reading with
     * subscriber_get needs it too: subscribers are the tenant's customers). */
    AP_PERMISSION_SUBSCRIPTIONS = 1u << 0
} ap_service_permission;

/* Everything the host needs to know about a plugin before creating an
 * instance. All pointers: [load]. */
typedef struct ap_plugin_descriptor {
    uint32_t struct_size;
    /* Reverse-DNS identifier, unique among loaded plugins: lowercase
     * letters, digits and '-' in dot-separated labels, at least two labels,
     * e.g. "com.example.head-momentum". */
    ap_str id;
    ap_str name;        /* human-readable name */
    ap_str version;     /* Semantic Versioning 2.0.0, e.g. "1.4.0-beta.1" */
    ap_str vendor;
    ap_str description;
    /* The compiler that built the plugin, e.g. "swift-6.3.1" or
     * "clang-21.0.0". A Swift plugin must match the host's Swift runtime to
     * run in the host's process. */
    ap_str toolchain;
    /* Capability ids the plugin offers, e.g. "ap.head.v1". Each must be
     * returned by get_capability. */
    const ap_str *capabilities;
    size_t capability_count;
    /* JSON Schema (draft 2020-12 subset: type, properties, required,
     * additionalProperties, items, enum, const, minimum, maximum,
     * exclusiveMinimum, exclusiveMaximum, multipleOf, minLength, maxLength,
     * pattern, minItems, maxItems, uniqueItems, minProperties,
     * maxProperties, anyOf, oneOf, allOf, not, $defs and local $ref) for one
     * instance's configuration. The host validates every instance's config
     * against it before calling create. Unknown keywords are refused. */
    ap_str config_schema_json;
    const ap_permissions *permissions; /* may be NULL: no network access */
} ap_plugin_descriptor;

/* ===== Host services ===================================================== */

/* The host's view of one caller: a plugin (in init) or one instance (from
 * create on). Opaque; pass back exactly what you were given. Every service
 * is scoped to it: key/value state, secrets and metrics of one instance are
 * invisible to every other instance. */
typedef struct ap_host_context ap_host_context;

/* An instance as the plugin represents it. Opaque to the host. */
typedef struct ap_instance ap_instance;

typedef enum ap_log_level {
    AP_LOG_TRACE = 0,
    AP_LOG_DEBUG = 1,
    AP_LOG_INFO = 2,
    AP_LOG_WARNING = 3,
    AP_LOG_ERROR = 4
} ap_log_level;

typedef enum ap_metric_kind {
    AP_METRIC_COUNTER = 0,   /* value added to a monotonically rising total */
    AP_METRIC_GAUGE = 1,     /* value replaces the current level */
    AP_METRIC_HISTOGRAM = 2  /* value recorded as one observation */
} ap_metric_kind;

/* Timer callback. Runs on the instance's serial executor. */
typedef void (*ap_timer_fn)(void *user, uint64_t timer_id);

/* Receives bytes lent for the duration of the call ([call]). */
typedef void (*ap_bytes_fn)(void *user, const uint8_t *bytes, size_t len);

/* --- HTTP ---------------------------------------------------------------- */

typedef struct ap_http_request {
    uint32_t struct_size;
    ap_str method;                  /* "GET", "POST", ... */
    ap_str url;                     /* absolute https:// (or http:// to loopback) URL */
    const ap_http_header *headers;  /* [call] */
    size_t header_count;
    const uint8_t *body;            /* [call] */
    size_t body_len;
    uint32_t timeout_ms;            /* 0: the host's default */
} ap_http_request;

typedef struct ap_http_response {
    uint32_t struct_size;
    /* AP_OK when an HTTP response arrived (whatever its status code);
     * otherwise the transport failure (AP_ERR_TIMEOUT, AP_ERR_UNAVAILABLE,
     * AP_ERR_PERMISSION_DENIED for an undeclared host) and status == 0. */
    ap_status transport_status;
    int32_t status;                 /* HTTP status code */
    const ap_http_header *headers;  /* [call] */
    size_t header_count;
    const uint8_t *body;            /* [call] */
    size_t body_len;
    ap_str error_message;           /* [call] why the transport failed */
} ap_http_response;

/* Called exactly once per accepted request, on the instance's executor,
 * with the response lent for the duration of the call. */
typedef void (*ap_http_response_fn)(void *user, uint64_t request_id,
                                    const ap_http_response *response);

/* --- WebSocket ----------------------------------------------------------- */

typedef enum ap_ws_opcode {
    AP_WS_TEXT = 1,
    AP_WS_BINARY = 2
} ap_ws_opcode;

typedef struct ap_ws_connect_request {
    uint32_t struct_size;
    ap_str url;                     /* wss:// (or ws:// to loopback) */
    const ap_http_header *headers;  /* [call] */
    size_t header_count;
    uint32_t timeout_ms;            /* connect timeout; 0: host default */
} ap_ws_connect_request;

/* Callbacks for one connection, on the instance's executor. The table
 * itself must stay valid until on_close has been called. Data: [call]. */
typedef struct ap_ws_callbacks {
    uint32_t struct_size;
    void (*on_open)(void *user, uint64_t connection_id);
    void (*on_message)(void *user, uint64_t connection_id, ap_ws_opcode opcode,
                       const uint8_t *data, size_t len);
    /* Always the last callback for a connection, also when connecting
     * failed. `code` is the WebSocket close code, 1006 when none arrived. */
    void (*on_close)(void *user, uint64_t connection_id, uint16_t code,
                     ap_str reason);
} ap_ws_callbacks;

/* --- Market events (emitted by ap.exchange.v1 plugins) ------------------- */

typedef enum ap_event_kind {
    AP_EVENT_TRADE = 1,
    AP_EVENT_QUOTE = 2,
    AP_EVENT_BOOK_SNAPSHOT = 3,
    AP_EVENT_BOOK_DELTA = 4,
    AP_EVENT_CANDLE = 5,
    AP_EVENT_NEWS = 6
} ap_event_kind;

/* Leads every market event; `struct_size` covers the whole event struct
 * (e.g. sizeof(ap_trade_event)), `kind` says which one it is. */
typedef struct ap_event_header {
    uint32_t struct_size;
    uint32_t kind;               /* ap_event_kind */
    ap_str venue;                /* "binance", "kraken", "sim" */
    ap_str symbol;               /* as the venue spells it; the host normalises */
    int64_t exchange_ts_ns;      /* venue time, ns since the Unix epoch, UTC */
    int64_t local_ts_ns;         /* receive time; 0: the host fills it in */
} ap_event_header;

typedef enum ap_side {
    AP_SIDE_UNKNOWN = 0,
    AP_SIDE_BUY = 1,    /* the aggressor bought (lifted the ask) */
    AP_SIDE_SELL = 2    /* the aggressor sold (hit the bid) */
} ap_side;

typedef struct ap_trade_event {
    ap_event_header header;      /* kind = AP_EVENT_TRADE */
    ap_decimal price;
    ap_decimal size;
    uint32_t aggressor;          /* ap_side */
    ap_str trade_id;             /* the venue's id, used to drop duplicates */
    uint64_t sequence;           /* the venue's sequence, 0 if none */
} ap_trade_event;

typedef struct ap_quote_event {
    ap_event_header header;      /* kind = AP_EVENT_QUOTE */
    ap_decimal bid_price;
    ap_decimal bid_size;
    ap_decimal ask_price;
    ap_decimal ask_size;
    uint64_t sequence;           /* 0 if none */
} ap_quote_event;

/* One price level (order_id == 0) or one order of an order-by-order book.
 * In a delta, size 0 removes the level (or the order). */
typedef struct ap_book_level {
    ap_decimal price;
    ap_decimal size;
    uint64_t order_id;
} ap_book_level;

typedef enum ap_checksum_kind {
    AP_CHECKSUM_NONE = 0,
    /* Kraken v1 book: CRC32 over the top 10 asks then top 10 bids, each
     * price and size with the '.' removed and leading zeros stripped. */
    AP_CHECKSUM_KRAKEN_CRC32 = 1
} ap_checksum_kind;

typedef struct ap_book_snapshot_event {
    ap_event_header header;      /* kind = AP_EVENT_BOOK_SNAPSHOT */
    const ap_book_level *bids;   /* [call] best (highest) first */
    size_t bid_count;
    const ap_book_level *asks;   /* [call] best (lowest) first */
    size_t ask_count;
    uint64_t sequence;           /* the book's sequence after this snapshot */
    uint32_t depth;              /* levels kept per side; 0: unlimited */
    uint32_t checksum_kind;      /* ap_checksum_kind */
    uint32_t checksum;           /* the venue's checksum of the result */
} ap_book_snapshot_event;

/* A change to the book. Sequencing follows the venue: a delta covers
 * sequence numbers first_sequence..last_sequence; prev_sequence is the
 * last_sequence of the previous delta when the venue says so (Binance
 * futures `pu`), else 0. The host detects gaps from these. */
typedef struct ap_book_delta_event {
    ap_event_header header;      /* kind = AP_EVENT_BOOK_DELTA */
    const ap_book_level *bids;   /* [call] */
    size_t bid_count;
    const ap_book_level *asks;   /* [call] */
    size_t ask_count;
    uint64_t first_sequence;
    uint64_t last_sequence;
    uint64_t prev_sequence;
    uint32_t depth;              /* levels kept per side; 0: unlimited */
    uint32_t checksum_kind;      /* ap_checksum_kind */
    uint32_t checksum;
} ap_book_delta_event;

/* An OHLCV bar. Times in ns since the Unix epoch, UTC; the bar covers
 * [open_time_ns, open_time_ns + interval_s * 1e9). */
typedef struct ap_candle {
    int64_t open_time_ns;
    int64_t interval_s;
    double open;
    double high;
    double low;
    double close;
    double volume;               /* base-asset volume */
    uint64_t trade_count;        /* 0 if unknown */
} ap_candle;

typedef struct ap_candle_event {
    ap_event_header header;      /* kind = AP_EVENT_CANDLE */
    ap_candle candle;
    uint32_t closed;             /* 1: final; 0: still forming */
} ap_candle_event;

typedef struct ap_news_event {
    ap_event_header header;      /* kind = AP_EVENT_NEWS; symbol may be empty */
    ap_str id;                   /* unique per source, for de-duplication */
    ap_str source;
    ap_str headline;
    ap_str body;
    ap_str url;
    const ap_str *symbols;       /* [call] symbols the item is about */
    size_t symbol_count;
} ap_news_event;

/* --- Cryptography (ABI 1.1) ---------------------------------------------- */

/* ----- Subscriptions (ABI 1.2) -------------------------------------------
 * A tenant's subscribers: who receives which tier. A subscriber has an id
 * (1-200 bytes of A-Z a-z 0-9 '_' '-', e.g. the tenant's own account id,
 * which Stripe Checkout carries as client_reference_id), identities on
 * platforms (kind [a-z0-9_]{1,32}, value 1-128 bytes of printable ASCII:
 * "telegram_chat" "-100123", "stripe_customer" "cus_NffrFeUfNV2Hib"), a
 * paid tier, a status and the end of the paid period. The host keeps them
 * in its store with their history, per tenant: an instance only ever sees
 * its own tenant's subscribers.
 *
 * The tier a subscriber receives is the paid tier while the status is
 * "active" or "trialing", or "past_due" until grace_until; otherwise the
 * tenant's unpaid tier (normally "free"). Statuses are Stripe's: "none"
 * (never paid), "incomplete", "incomplete_expired", "trialing", "active",
 * "past_due", "canceled", "unpaid", "paused". */

/* One identity of a subscriber. Frozen (nested by value). */
typedef struct ap_subscriber_identity {
    ap_str kind;
    ap_str value;
} ap_subscriber_identity;

typedef struct ap_subscriber_info {
    uint32_t struct_size;
    ap_str subscriber;
    ap_str tier;            /* the tier received now */
    ap_str paid_tier;       /* the tier of the subscription; "" when none */
    ap_str status;
    int64_t period_end_ns;  /* end of the paid period; 0 when unknown */
    int64_t grace_until_ns; /* past_due keeps the paid tier until then; 0: no grace */
    const ap_subscriber_identity *identities;
    size_t identity_count;
} ap_subscriber_info;

/* Receives a subscriber lent for the duration of the call ([call]). */
typedef void (*ap_subscriber_fn)(void *user, const ap_subscriber_info *info);

/* A change to the subscription of the subscriber linked to the identity. */
typedef struct ap_subscription_update {
    uint32_t struct_size;
    ap_str identity_kind;
    ap_str identity_value;
    ap_str tier;            /* the paid tier, one of the tenant's tiers; "" keeps it */
    ap_str status;          /* "" keeps it */
    int64_t period_end_ns;  /* 0 keeps it */
    int64_t grace_until_ns; /* replaces it (0: no grace) */
    /* When the change happened at its source (a Stripe event's `created`).
     * A change older than the last one applied to the subscriber is
     * ignored, so events delivered out of order end in the right state. */
    int64_t as_of_ns;
    ap_str reference;       /* kept in the history, e.g. "evt_1NG8Du2eZvKYlo2C" */
} ap_subscription_update;

typedef enum ap_hash_algorithm {
    AP_HASH_SHA1 = 1,    /* 20-byte digest; OAuth 1.0a HMAC-SHA1 */
    AP_HASH_SHA256 = 2   /* 32-byte digest; Stripe-Signature v1 */
} ap_hash_algorithm;

/* --- The host services table --------------------------------------------- */

/* Passed to init; [load]. Every function takes the caller's context first.
 * Entries marked "may be NULL" are services a host may not provide yet:
 * test before calling. All others are always present in ABI 1.0. */
typedef struct ap_host_api {
    uint32_t struct_size;
    uint16_t abi_major;
    uint16_t abi_minor;

    /* Logs one line. The host adds plugin, tenant and instance. */
    void (*log)(ap_host_context *ctx, ap_log_level level, ap_str message);

    /* Wall-clock time, ns since the Unix epoch, UTC. In a backtest or a
     * replay this is the simulated clock: use it, never the OS clock. */
    int64_t (*now_ns)(ap_host_context *ctx);

    /* Schedules `fn(user, id)` after delay_ns, then every interval_ns if
     * interval_ns > 0 (a one-shot timer otherwise), on the instance's
     * executor, driven by the same clock as now_ns. Instance contexts only.
     * All of an instance's timers are cancelled before destroy(). */
    ap_status (*timer_start)(ap_host_context *ctx, int64_t delay_ns,
                             int64_t interval_ns, ap_timer_fn fn, void *user,
                             uint64_t *out_timer_id);
    /* After it returns, the timer's callback will not run again. */
    ap_status (*timer_cancel)(ap_host_context *ctx, uint64_t timer_id);

    /* Durable key/value state of this instance (keys are per instance:
     * another instance, tenant or plugin never sees them). state_get calls
     * `fn` once with the value ([call]) and returns AP_OK, or returns
     * AP_ERR_NOT_FOUND without calling it. A key is 1 to
     * AP_STATE_KEY_MAX_BYTES bytes of UTF-8 without NUL, a value at most
     * AP_STATE_VALUE_MAX_BYTES; any other is AP_ERR_INVALID_ARGUMENT. */
    ap_status (*state_get)(ap_host_context *ctx, ap_str key, ap_bytes_fn fn,
                           void *user);
    ap_status (*state_set)(ap_host_context *ctx, ap_str key,
                           const uint8_t *value, size_t len);
    ap_status (*state_delete)(ap_host_context *ctx, ap_str key);

    /* Looks up a secret the operator configured for this instance (e.g.
     * "bot_token"); `fn` receives the value ([call]). Never log it.
     * AP_ERR_NOT_FOUND when this instance has no secret of that name. */
    ap_status (*secret_get)(ap_host_context *ctx, ap_str name, ap_bytes_fn fn,
                            void *user);

    /* Records a metric. The host labels it with tenant, plugin and instance;
     * `name` is [a-z0-9_]+ and the same name always has the same kind. */
    void (*metric_record)(ap_host_context *ctx, ap_metric_kind kind,
                          ap_str name, double value);

    /* Emits a market event (ap.exchange.v1 instances). `event` points to an
     * ap_trade_event, ap_quote_event, ... selected by event->kind; it and
     * everything it points to are [call]. Returns AP_ERR_INVALID_ARGUMENT
     * for a malformed event (the host logs why and counts it). */
    ap_status (*emit_event)(ap_host_context *ctx, const ap_event_header *event);

    /* Starts an HTTP request to a host listed in the plugin's permissions.
     * Returns at once; `fn` runs later exactly once, unless the call itself
     * returns an error (then never). May be NULL. */
    ap_status (*http_request)(ap_host_context *ctx,
                              const ap_http_request *request,
                              ap_http_response_fn fn, void *user,
                              uint64_t *out_request_id);
    /* Cancels an HTTP request; its callback then runs with
     * transport_status AP_ERR_UNAVAILABLE if it has not run yet. May be
     * NULL. */
    ap_status (*http_cancel)(ap_host_context *ctx, uint64_t request_id);

    /* Opens a WebSocket to a host listed in the plugin's permissions.
     * Callbacks as in ap_ws_callbacks. May be NULL. */
    ap_status (*ws_connect)(ap_host_context *ctx,
                            const ap_ws_connect_request *request,
                            const ap_ws_callbacks *callbacks, void *user,
                            uint64_t *out_connection_id);
    /* Queues a message; data is [call] (the host copies it). May be NULL. */
    ap_status (*ws_send)(ap_host_context *ctx, uint64_t connection_id,
                         ap_ws_opcode opcode, const uint8_t *data, size_t len);
    /* Starts the closing handshake; on_close follows. May be NULL. */
    ap_status (*ws_close)(ap_host_context *ctx, uint64_t connection_id,
                          uint16_t code, ap_str reason);

    /* --- ABI 1.1 additions: read them only when struct_size covers them. */

    /* HMAC of `data` keyed by `key` with `algorithm` (ap_hash_algorithm),
     * written to `out` (20 bytes for SHA-1, 32 for SHA-256); *out_len is
     * set to the length written. AP_ERR_BUFFER_TOO_SMALL when out_capacity
     * is short, AP_ERR_UNSUPPORTED for an unknown algorithm. Signing
     * requests (OAuth 1.0a) and checking webhook signatures (Stripe) need
     * it; the host's vetted implementation spares every plugin its own. */
    ap_status (*crypto_hmac)(ap_host_context *ctx, uint32_t algorithm,
                             const uint8_t *key, size_t key_len,
                             const uint8_t *data, size_t data_len,
                             uint8_t *out, size_t out_capacity,
                             size_t *out_len);

    /* --- ABI 1.2 additions: subscriptions. Instance contexts only, with
     * AP_PERMISSION_SUBSCRIPTIONS; each acts on the instance's tenant. */

    /* Links an identity to `subscriber` (created if new) and calls `fn`
     * (may be NULL) with the subscriber after the change. An empty
     * `subscriber` means the identity's own: the one it is linked to, or a
     * new one named "<kind>-<value>". An identity linked to another
     * subscriber moves; a subscriber the host made for an identity alone
     * (so named) merges into `subscriber`, keeping the newer subscription.
     * AP_ERR_INVALID_ARGUMENT for a malformed id, kind or value. */
    ap_status (*subscriber_link)(ap_host_context *ctx, ap_str subscriber,
                                 ap_str identity_kind, ap_str identity_value,
                                 ap_str reference, ap_subscriber_fn fn,
                                 void *user);
    /* Unlinks an identity from its subscriber (a chat that said /stop no
     * longer receives anything). AP_ERR_NOT_FOUND when it is not linked. */
    ap_status (*subscriber_unlink)(ap_host_context *ctx, ap_str identity_kind,
                                   ap_str identity_value, ap_str reference);
    /* Applies `update` to the subscriber linked to its identity (one named
     * after the identity is created when none is). *out_applied is 1, or 0
     * when the update is older than the last applied (as_of_ns).
     * AP_ERR_INVALID_ARGUMENT for an unknown tier or status. */
    ap_status (*subscription_update)(ap_host_context *ctx,
                                     const ap_subscription_update *update,
                                     uint32_t *out_applied);
    /* Calls `fn` with the subscriber linked to the identity, or returns
     * AP_ERR_NOT_FOUND. */
    ap_status (*subscriber_get)(ap_host_context *ctx, ap_str identity_kind,
                                ap_str identity_value, ap_subscriber_fn fn,
                                void *user);
} ap_host_api;

/* ===== The plugin table ================================================== */

/* What the host tells an instance at creation. All pointers: [call], except
 * host_context: [instance]. */
typedef struct ap_create_args {
    uint32_t struct_size;
    ap_host_context *host_context; /* pass to every host service */
    ap_str tenant_id;              /* "acme" */
    ap_str instance_id;            /* unique within the tenant, e.g. "momentum-fast" */
    /* The instance's configuration: a JSON object already validated against
     * the descriptor's config_schema_json, with secret references removed
     * (read secrets through secret_get). */
    ap_str config_json;
} ap_create_args;

typedef struct ap_plugin_api ap_plugin_api;

/* Every plugin-level function receives the table it was called through as
 * `self`, so one binary (or a language binding) can serve several tables. */
struct ap_plugin_api {
    uint32_t struct_size;
    uint16_t abi_major;          /* AP_ABI_MAJOR the plugin was built with */
    uint16_t abi_minor;          /* AP_ABI_MINOR the plugin was built with */
    const ap_plugin_descriptor *descriptor; /* [load] */

    /* Counted: the host may call init several times; only the first does
     * the work and the plugin keeps a count. Each successful init is
     * matched by one deinit; the last deinit releases what init acquired.
     * init after the last deinit must work again. `host` and `ctx` are
     * [load]; ctx is the plugin-level context (log, clock, metrics; no
     * state, secrets or timers). */
    ap_status (*init)(const ap_plugin_api *self, const ap_host_api *host,
                      ap_host_context *ctx, ap_error *err);
    void (*deinit)(const ap_plugin_api *self);

    /* Creates one instance from its configuration. Only between init and
     * the last deinit. On failure returns a status, leaves *out_instance
     * untouched and explains in `err` (the operator reads it: name the
     * field at fault). */
    ap_status (*create)(const ap_plugin_api *self, const ap_create_args *args,
                        ap_instance **out_instance, ap_error *err);
    /* Releases an instance. The host has stopped it and cancelled its
     * timers, requests and connections; no call for it follows. */
    void (*destroy)(const ap_plugin_api *self, ap_instance *instance);

    /* Returns the table of a capability id listed in the descriptor (e.g.
     * "ap.head.v1"), [load], or NULL for any other id. Callable any time
     * after ap_plugin_entry returned, also before init. */
    const void *(*get_capability)(const ap_plugin_api *self,
                                  ap_str capability_id);
};

/* The one exported function. Called once, before anything else. */
typedef const ap_plugin_api *(*ap_plugin_entry_fn)(void);
AP_EXPORT const ap_plugin_api *ap_plugin_entry(void);

/* ===== Capability "ap.exchange.v1": market data connectors ============== */

#define AP_CAPABILITY_EXCHANGE_V1 "ap.exchange.v1"

typedef enum ap_stream_flags {
    AP_STREAM_TRADES = 1u << 0,
    AP_STREAM_QUOTES = 1u << 1,
    AP_STREAM_BOOK = 1u << 2,
    AP_STREAM_CANDLES = 1u << 3,
    AP_STREAM_NEWS = 1u << 4
} ap_stream_flags;

typedef struct ap_subscription {
    uint32_t struct_size;
    ap_str symbol;          /* canonical, "BTC-USDT"; the plugin maps it */
    uint32_t streams;       /* ap_stream_flags */
    uint32_t book_depth;    /* levels wanted per side; 0: the venue's default */
    int64_t candle_interval_s; /* for AP_STREAM_CANDLES; 0: the finest */
} ap_subscription;

/* Events flow through ap_host_api.emit_event, from any of the instance's
 * callbacks (timers, WebSocket messages) once started. */
typedef struct ap_exchange_v1 {
    uint32_t struct_size;
    ap_status (*start)(ap_instance *instance, ap_error *err);
    /* After stop returns, the instance emits nothing until start again. */
    void (*stop)(ap_instance *instance);
    ap_status (*subscribe)(ap_instance *instance,
                           const ap_subscription *subscription, ap_error *err);
    ap_status (*unsubscribe)(ap_instance *instance, ap_str symbol,
                             ap_error *err);
} ap_exchange_v1;

/* ===== Capability "ap.head.v1": model heads ============================= */

#define AP_CAPABILITY_HEAD_V1 "ap.head.v1"

typedef enum ap_frame_trigger {
    AP_FRAME_CANDLE_CLOSE = 1,   /* a candle of `timeframe_s` just closed */
    AP_FRAME_BOOK_UPDATE = 2     /* the book changed (fast heads) */
} ap_frame_trigger;

/* Book features at the time of the frame; NaN where the book is empty. */
typedef struct ap_book_features {
    uint32_t struct_size;
    double best_bid;
    double best_ask;
    double best_bid_size;
    double best_ask_size;
    double mid;
    double spread;
    double microprice;           /* size-weighted mid of the top level */
    double imbalance;            /* (bid - ask) / (bid + ask) depth, top `depth` levels, in [-1, 1] */
    uint32_t depth;              /* levels used for imbalance */
    double trade_flow_imbalance; /* (buy - sell) / (buy + sell) volume over the frame's candle, in [-1, 1] */
} ap_book_features;

/* Everything a head sees, built by the host for one (symbol, timeframe)
 * and lent to evaluate() for the duration of the call ([call]).
 *
 * Indicator values are two parallel arrays. Their names and order are the
 * same for every frame that carries the same layout_id, so a head can
 * resolve a name to an index once per layout_id and then read values by
 * index. A value is NaN while its indicator warms up. Names follow
 * "<indicator>_<parameters>", e.g. "ema_50", "rsi_14", "macd_hist_12_26_9".
 * The host's standard layout (every name, its index and meaning, and its
 * layout_id) is in alphaplus/frame_layout.h. */
typedef struct ap_feature_frame {
    uint32_t struct_size;
    uint32_t trigger;            /* ap_frame_trigger */
    ap_str venue;
    ap_str symbol;               /* canonical, "BTC-USDT" */
    int64_t timeframe_s;         /* 60, 300, 900, 3600, 14400, 86400 */
    int64_t ts_ns;               /* when the frame was produced (host clock) */
    ap_candle candle;            /* the last closed candle of this timeframe */
    uint64_t layout_id;
    const ap_str *indicator_names;   /* [call] */
    const double *indicator_values;  /* [call] */
    size_t indicator_count;
    const ap_book_features *book;    /* [call]; NULL when there is no book */
} ap_feature_frame;

typedef enum ap_direction {
    AP_DIRECTION_FLAT = 0,
    AP_DIRECTION_LONG = 1,
    AP_DIRECTION_SHORT = 2
} ap_direction;

#define AP_RATIONALE_CAPACITY 256
/* What ends a rationale cut to fit: "…" (U+2026, 3 bytes of UTF-8). */
#define AP_RATIONALE_TRUNCATION_MARK "\xE2\x80\xA6"

/* A head's answer, caller-provided storage: the host zeroes it and sets
 * struct_size; the head fills direction, confidence and optionally a short
 * UTF-8 rationale (at most AP_RATIONALE_CAPACITY bytes, rationale_len set
 * to the bytes written; no NUL is needed). The host reads rationale_len
 * bytes and stops at a NUL, so `rationale_len = AP_RATIONALE_CAPACITY`
 * after snprintf stores no padding. A text that does not fit should be cut
 * on a character boundary and end in AP_RATIONALE_TRUNCATION_MARK (the
 * Swift SDK does this); a rationale_len larger than the capacity tells the
 * host the text was cut, and it cuts and marks it so. */
typedef struct ap_vote {
    uint32_t struct_size;
    uint32_t direction;          /* ap_direction */
    double confidence;           /* in [0, 1]; the host refuses other values */
    uint32_t rationale_len;
    char rationale[AP_RATIONALE_CAPACITY];
} ap_vote;

typedef struct ap_head_v1 {
    uint32_t struct_size;
    /* Turns a frame into a vote. Must be fast and must not block: it runs
     * on the hot path under a per-call deadline. */
    ap_status (*evaluate)(ap_instance *instance, const ap_feature_frame *frame,
                          ap_vote *out_vote, ap_error *err);
    /* Optional (may be NULL): receives raw market events for the symbols
     * the instance is configured for, e.g. news items for a sentiment
     * head. `event` as in emit_event, [call]. */
    void (*on_event)(ap_instance *instance, const ap_event_header *event);
} ap_head_v1;

/* ===== Capability "ap.channel.v1": distribution channels ================ */

#define AP_CAPABILITY_CHANNEL_V1 "ap.channel.v1"

/* One message for one destination. [call]: copy what the delivery needs
 * beyond the call (the host keeps the message until `done` is called). */
typedef struct ap_delivery {
    uint32_t struct_size;
    /* Stable across retries of the same message: platforms that support
     * idempotency keys should receive it. */
    ap_str idempotency_key;
    uint32_t attempt;            /* 1 for the first try */
    /* Where to send, as configured for the destination, a JSON object
     * (e.g. {"chat_id": -100123} or {"webhook_url": "..."}). */
    ap_str target_json;
    ap_str kind;                 /* "signal", "outcome", "summary", "alert" */
    ap_str tier;                 /* "premium", "basic", "free" */
    ap_str text;                 /* the rendered message (template output) */
    ap_str payload_json;         /* the structured content, for rich formats */
} ap_delivery;

typedef enum ap_delivery_outcome {
    AP_DELIVERY_DELIVERED = 1,
    /* Not delivered; try again no earlier than retry_after_ms from now
     * (0: the host's backoff decides). */
    AP_DELIVERY_RETRY = 2,
    /* Not delivered and never will be as it is (bad request, duplicate
     * content, message too long). Not retried. */
    AP_DELIVERY_PERMANENT_FAILURE = 3,
    /* The destination no longer exists (a deleted webhook, a blocked bot):
     * the host disables it and alerts the operator. */
    AP_DELIVERY_DESTINATION_GONE = 4
} ap_delivery_outcome;

typedef struct ap_delivery_result {
    uint32_t struct_size;
    uint32_t outcome;            /* ap_delivery_outcome */
    int64_t retry_after_ms;
    ap_str external_id;          /* the platform's message id, if any */
    ap_str reason;               /* for the operator: what the platform said */
    /* Non-empty when the destination moved (Telegram migrate_to_chat_id):
     * the new target_json, which the host stores for every later delivery.
     * Report AP_DELIVERY_RETRY to have the message sent there. */
    ap_str updated_target_json;
    /* ABI 1.1: > 0 when the platform said this destination takes nothing
     * more for a while even though this message went through (Discord
     * X-RateLimit-Remaining: 0 with X-RateLimit-Reset-After): the host
     * sends nothing else to the destination for that many ms. */
    int64_t pause_destination_ms;
} ap_delivery_result;

/* Completes one delivery, exactly once, from the instance's executor (a
 * host callback or deliver itself). `result` and its strings are [call]. */
typedef void (*ap_delivery_done_fn)(void *done_context,
                                    const ap_delivery_result *result);

typedef struct ap_channel_v1 {
    uint32_t struct_size;
    /* Starts delivering. Returns AP_OK and later calls done(done_context,
     * ...) exactly once; or returns an error and never calls done (the
     * host then treats it as a permanent failure with err's message). */
    ap_status (*deliver)(ap_instance *instance, const ap_delivery *delivery,
                         ap_delivery_done_fn done, void *done_context,
                         ap_error *err);
} ap_channel_v1;

/* ===== Capability "ap.webhook.v1": inbound HTTP ========================== */

#define AP_CAPABILITY_WEBHOOK_V1 "ap.webhook.v1"

/* An HTTP request routed to the instance from /hooks/<tenant>/<instance>/...
 * Everything is [call]. The body is the raw bytes as received (signature
 * checks need them unaltered). */
typedef struct ap_webhook_request {
    uint32_t struct_size;
    ap_str method;
    ap_str path;                 /* the part after /hooks/<tenant>/<instance> */
    ap_str query;                /* without the '?' */
    const ap_http_header *headers;
    size_t header_count;
    const uint8_t *body;
    size_t body_len;
    ap_str request_id;           /* put it in log lines */
} ap_webhook_request;

/* The plugin builds its answer through these; the host copies everything.
 * Without a status the answer is 200 with no body. */
typedef struct ap_webhook_response {
    uint32_t struct_size;
    void *host_data;             /* pass back as the first argument */
    void (*set_status)(void *host_data, int32_t status);
    void (*add_header)(void *host_data, ap_str name, ap_str value);
    void (*append_body)(void *host_data, const uint8_t *bytes, size_t len);
} ap_webhook_response;

typedef struct ap_webhook_v1 {
    uint32_t struct_size;
    /* Handles one request synchronously. An error status makes the host
     * answer 500 (the message is logged, not sent). */
    ap_status (*handle)(ap_instance *instance,
                        const ap_webhook_request *request,
                        const ap_webhook_response *response, ap_error *err);
} ap_webhook_v1;

/* ===== Capability "ap.rate-limits.v1": a channel's platform limits ======= */

#define AP_CAPABILITY_RATE_LIMITS_V1 "ap.rate-limits.v1"

/* "At most `capacity` sends in any `window_ms` window" for every
 * destination that names `bucket`. Buckets are named by the plugin and
 * scoped by the host to the instance: two targets that share a bucket
 * (Telegram's per-bot limit) share its budget. Frozen (nested by value). */
typedef struct ap_rate_limit {
    ap_str bucket;               /* e.g. "bot", "chat:-100123" */
    uint32_t capacity;
    uint32_t window_ms;
} ap_rate_limit;

/* Receives the limits lent for the duration of the call ([call]). */
typedef void (*ap_rate_limits_fn)(void *user, const ap_rate_limit *limits,
                                  size_t count);

/* Offered next to ap.channel.v1 by a channel whose platform documents
 * limits. The host asks once per destination, before its first delivery
 * and again when the target changes, and never sends faster than every
 * bucket allows. Limits the platform announces at run time travel back in
 * ap_delivery_result (retry_after_ms, pause_destination_ms). */
typedef struct ap_rate_limits_v1 {
    uint32_t struct_size;
    ap_status (*limits_for_target)(ap_instance *instance, ap_str target_json,
                                   ap_rate_limits_fn fn, void *user,
                                   ap_error *err);
} ap_rate_limits_v1;

#ifdef __cplusplus
}
#endif

#endif /* ALPHAPLUS_PLUGIN_H */
