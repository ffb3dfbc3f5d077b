/*
 * A test plugin whose every checked property can be bent with -D macros:
 *   FIX_ABI_MAJOR, FIX_ABI_MINOR     the ABI the table claims
 *   FIX_TABLE_SIZE                   the plugin table's struct_size
 *   FIX_HEAD_SIZE                    the head table's struct_size
 *   FIX_ID, FIX_VERSION              descriptor fields (string literals)
 *   FIX_CAPABILITY                   the declared capability id
 *   FIX_SCHEMA                       the config schema (string literal)
 *   FIX_HOSTS                        the declared network hosts, e.g.
 *                                    STR("discord.com"),STR("*.telegram.org")
 *   FIX_NO_ENTRY                     export a differently named function
 *   FIX_CREATE_FAILS                 create returns an error with a message
 *   FIX_INIT_FAILS                   init returns an error with a message
 *   FIX_HANG_ON_EVALUATE=n           evaluate never returns from its nth call on
 *                                    (a head stuck in an endless loop)
 *   FIX_TIMER_NS=n                   create starts a timer repeating every n ns
 *                                    of the host clock; each firing stores
 *                                    "timer_fired" (a count) and "timer_now_ns"
 * It exercises host services: create stores state and reads a secret; every
 * evaluate counts in state, stores the host clock's now_ns ("now_ns") and
 * the frame's ts_ns ("frame_ts_ns"), and votes from the indicator "x".
 */
#include <alphaplus/plugin.h>
#include <stdlib.h>
#include <string.h>

#ifndef FIX_ABI_MAJOR
#define FIX_ABI_MAJOR AP_ABI_MAJOR
#endif
#ifndef FIX_ABI_MINOR
#define FIX_ABI_MINOR AP_ABI_MINOR
#endif
#ifndef FIX_TABLE_SIZE
#define FIX_TABLE_SIZE sizeof(ap_plugin_api)
#endif
#ifndef FIX_HEAD_SIZE
#define FIX_HEAD_SIZE sizeof(ap_head_v1)
#endif
#ifndef FIX_ID
#define FIX_ID "com.test.fixture"
#endif
#ifndef FIX_VERSION
#define FIX_VERSION "1.0.0"
#endif
#ifndef FIX_CAPABILITY
#define FIX_CAPABILITY AP_CAPABILITY_HEAD_V1
#endif
#ifndef FIX_SCHEMA
#define FIX_SCHEMA "{\"type\":\"object\",\"additionalProperties\":false,\"properties\":{\"scale\":{\"type\":\"number\",\"minimum\":0,\"maximum\":1}}}"
#endif

#define STR(s) {s, sizeof(s) - 1}

static const ap_str capabilities[] = {STR(FIX_CAPABILITY)};
#ifndef FIX_HOSTS
#define FIX_HOSTS STR("example.com")
#endif

static const ap_str hosts[] = {FIX_HOSTS};
static const ap_permissions permissions = {sizeof(ap_permissions), hosts, sizeof hosts / sizeof hosts[0]};

static const ap_plugin_descriptor descriptor = {
    .struct_size = sizeof(ap_plugin_descriptor),
    .id = STR(FIX_ID),
    .name = STR("Fixture"),
    .version = STR(FIX_VERSION),
    .vendor = STR("tests"),
    .description = STR("a loader test fixture"),
    .toolchain = STR("clang"),
    .capabilities = capabilities,
    .capability_count = 1,
    .config_schema_json = STR(FIX_SCHEMA),
    .permissions = &permissions,
};

static const ap_host_api *host;
static int init_count;

typedef struct fixture { ap_host_context *ctx; long evaluations; long timer_fired; } fixture;

/* Stores a signed number as decimal text under key. */
static void put_number(ap_host_context *ctx, const char *key, long long value) {
    char digits[24];
    int n = 0;
    unsigned long long v = value < 0 ? 0ULL - (unsigned long long)value : (unsigned long long)value;
    do { digits[n++] = (char)('0' + v % 10); v /= 10; } while (v > 0);
    char text[25];
    int length = 0;
    if (value < 0) text[length++] = '-';
    for (int i = n - 1; i >= 0; i--) text[length++] = digits[i];
    host->state_set(ctx, (ap_str){key, strlen(key)}, (const uint8_t *)text, (size_t)length);
}

#ifdef FIX_TIMER_NS
static void fix_timer(void *user, uint64_t timer_id) {
    (void)timer_id;
    fixture *f = (fixture *)user;
    put_number(f->ctx, "timer_fired", ++f->timer_fired);
    put_number(f->ctx, "timer_now_ns", host->now_ns(f->ctx));
}
#endif

static ap_status fix_init(const ap_plugin_api *self, const ap_host_api *h, ap_host_context *ctx, ap_error *err) {
    (void)self; (void)ctx;
#ifdef FIX_INIT_FAILS
    (void)h;
    ap_error_set(err, "fixture init refuses to start");
    return AP_ERR_UNAVAILABLE;
#else
    (void)err;
    host = h;
    init_count++;
    return AP_OK;
#endif
}

static void fix_deinit(const ap_plugin_api *self) { (void)self; init_count--; }

static void keep_length(void *user, const uint8_t *bytes, size_t len) { (void)bytes; *(size_t *)user = len; }

static ap_status fix_create(const ap_plugin_api *self, const ap_create_args *args, ap_instance **out, ap_error *err) {
    (void)self;
#ifdef FIX_CREATE_FAILS
    (void)args; (void)out;
    ap_error_set(err, "fixture refuses: setting 'scale' is not supported by this account");
    return AP_ERR_INVALID_CONFIG;
#else
    (void)err;
    fixture *f = calloc(1, sizeof *f);
    f->ctx = args->host_context;
    host->state_set(f->ctx, (ap_str)STR("config"), (const uint8_t *)args->config_json.ptr, args->config_json.len);
    size_t secret_len = 0;
    if (host->secret_get(f->ctx, (ap_str)STR("token"), keep_length, &secret_len) == AP_OK) {
        char digits[24];
        int n = 0;
        size_t v = secret_len;
        do { digits[n++] = (char)('0' + v % 10); v /= 10; } while (v > 0);
        char text[24];
        for (int i = 0; i < n; i++) text[i] = digits[n - 1 - i];
        host->state_set(f->ctx, (ap_str)STR("token_length"), (const uint8_t *)text, (size_t)n);
    }
    host->log(f->ctx, AP_LOG_INFO, (ap_str)STR("fixture created"));
#ifdef FIX_TIMER_NS
    uint64_t timer_id = 0;
    host->timer_start(f->ctx, FIX_TIMER_NS, FIX_TIMER_NS, fix_timer, f, &timer_id);
#endif
    *out = (ap_instance *)f;
    return AP_OK;
#endif
}

static void fix_destroy(const ap_plugin_api *self, ap_instance *instance) { (void)self; free(instance); }

static ap_status fix_evaluate(ap_instance *instance, const ap_feature_frame *frame, ap_vote *vote, ap_error *err) {
    fixture *f = (fixture *)instance;
    f->evaluations++;
#ifdef FIX_HANG_ON_EVALUATE
    if (f->evaluations >= FIX_HANG_ON_EVALUATE) {
        volatile unsigned long spins = 0;
        for (;;) spins++;
    }
#endif
    host->metric_record(f->ctx, AP_METRIC_COUNTER, (ap_str)STR("evaluations"), 1);
    put_number(f->ctx, "now_ns", host->now_ns(f->ctx));
    put_number(f->ctx, "frame_ts_ns", frame->ts_ns);
    for (size_t i = 0; i < frame->indicator_count; i++) {
        if (frame->indicator_names[i].len == 1 && frame->indicator_names[i].ptr[0] == 'x') {
            double x = frame->indicator_values[i];
            if (x > 1) {
                ap_error_set(err, "indicator x above 1");
                return AP_ERR_INVALID_ARGUMENT;
            }
            vote->direction = x > 0 ? AP_DIRECTION_LONG : x < 0 ? AP_DIRECTION_SHORT : AP_DIRECTION_FLAT;
            vote->confidence = x < 0 ? -x : x;
            memcpy(vote->rationale, "fixture", 7);
            vote->rationale_len = 7;
        }
    }
    return AP_OK;
}

static const ap_head_v1 head = {FIX_HEAD_SIZE, fix_evaluate, NULL};

static const void *fix_get_capability(const ap_plugin_api *self, ap_str id) {
    (void)self;
    if (id.len == sizeof(FIX_CAPABILITY) - 1 && memcmp(id.ptr, FIX_CAPABILITY, id.len) == 0) return &head;
    return NULL;
}

static const ap_plugin_api api = {
    .struct_size = FIX_TABLE_SIZE,
    .abi_major = FIX_ABI_MAJOR,
    .abi_minor = FIX_ABI_MINOR,
    .descriptor = &descriptor,
    .init = fix_init,
    .deinit = fix_deinit,
    .create = fix_create,
    .destroy = fix_destroy,
    .get_capability = fix_get_capability,
};

#ifdef FIX_NO_ENTRY
AP_EXPORT const ap_plugin_api *some_other_entry(void) { return &api; }
#else
AP_EXPORT const ap_plugin_api *ap_plugin_entry(void) { return &api; }
#endif
