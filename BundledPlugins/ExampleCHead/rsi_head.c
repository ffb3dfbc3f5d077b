/*
 * Example head in plain C, built against sdk/include/alphaplus/plugin.h
 * alone. Votes on RSI regimes: long when rsi_14 is below `oversold`, short
 * when above `overbought`, flat in between or while RSI warms up.
 * Confidence grows with the distance past the bound, from 0.5 to 1.
 */
#include <alphaplus/plugin.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct rsi_instance {
    double oversold;
    double overbought;
    /* The index of "rsi_14" in frames of layout `layout`, or -1. */
    uint64_t layout;
    int has_layout;
    long rsi_index;
} rsi_instance;

static const char schema[] =
    "{\"type\":\"object\",\"additionalProperties\":false,\"properties\":{"
    "\"oversold\":{\"type\":\"number\",\"minimum\":0,\"maximum\":100,\"default\":30},"
    "\"overbought\":{\"type\":\"number\",\"minimum\":0,\"maximum\":100,\"default\":70}}}";

static const ap_str capabilities[] = {{AP_CAPABILITY_HEAD_V1, sizeof(AP_CAPABILITY_HEAD_V1) - 1}};

#define STR(s) {s, sizeof(s) - 1}

static const ap_plugin_descriptor descriptor = {
    .struct_size = sizeof(ap_plugin_descriptor),
    .id = STR("com.alphaplus.example.rsi-c"),
    .name = STR("RSI regimes (C example)"),
    .version = STR("1.0.0"),
    .vendor = STR("AlphaPlus"),
    .description = STR("Long below the oversold bound, short above the overbought bound."),
#if defined(__clang__)
    .toolchain = STR("clang-" __clang_version__),
#else
    .toolchain = STR("gcc-" __VERSION__),
#endif
    .capabilities = capabilities,
    .capability_count = 1,
    .config_schema_json = STR(schema),
    .permissions = NULL,
};

static int init_count = 0;

static ap_status rsi_init(const ap_plugin_api *self, const ap_host_api *host, ap_host_context *ctx, ap_error *err) {
    (void)self; (void)ctx;
    if (host->abi_major != AP_ABI_MAJOR) {
        ap_error_set(err, "host ABI major differs");
        return AP_ERR_UNSUPPORTED;
    }
    init_count++;
    return AP_OK;
}

static void rsi_deinit(const ap_plugin_api *self) {
    (void)self;
    if (init_count > 0) init_count--;
}

/* Reads a number member from the host's canonical config JSON (a flat
 * object already validated against the schema); keeps `fallback` if absent. */
static double config_number(ap_str json, const char *key, double fallback) {
    char pattern[64];
    int n = snprintf(pattern, sizeof pattern, "\"%s\":", key);
    for (size_t i = 0; n > 0 && i + (size_t)n <= json.len; i++) {
        if (memcmp(json.ptr + i, pattern, (size_t)n) == 0) {
            char number[64];
            size_t len = 0;
            for (size_t j = i + (size_t)n; j < json.len && len + 1 < sizeof number && strchr("+-.0123456789eE", json.ptr[j]); j++)
                number[len++] = json.ptr[j];
            number[len] = '\0';
            return strtod(number, NULL);
        }
    }
    return fallback;
}

static ap_status rsi_create(const ap_plugin_api *self, const ap_create_args *args, ap_instance **out, ap_error *err) {
    (void)self;
    double oversold = config_number(args->config_json, "oversold", 30);
    double overbought = config_number(args->config_json, "overbought", 70);
    if (!(overbought > oversold)) {
        char message[160];
        snprintf(message, sizeof message, "overbought (%g) must be greater than oversold (%g)", overbought, oversold);
        ap_error_set(err, message);
        return AP_ERR_INVALID_CONFIG;
    }
    rsi_instance *instance = calloc(1, sizeof *instance);
    if (instance == NULL) {
        ap_error_set(err, "out of memory");
        return AP_ERR_INTERNAL;
    }
    instance->oversold = oversold;
    instance->overbought = overbought;
    instance->rsi_index = -1;
    *out = (ap_instance *)instance;
    return AP_OK;
}

static void rsi_destroy(const ap_plugin_api *self, ap_instance *instance) {
    (void)self;
    free(instance);
}

static ap_status rsi_evaluate(ap_instance *opaque, const ap_feature_frame *frame, ap_vote *vote, ap_error *err) {
    (void)err;
    rsi_instance *self = (rsi_instance *)opaque;
    if (!self->has_layout || self->layout != frame->layout_id) {
        self->rsi_index = -1;
        for (size_t i = 0; i < frame->indicator_count; i++) {
            ap_str name = frame->indicator_names[i];
            if (name.len == 6 && memcmp(name.ptr, "rsi_14", 6) == 0) { self->rsi_index = (long)i; break; }
        }
        self->layout = frame->layout_id;
        self->has_layout = 1;
    }
    double rsi = self->rsi_index >= 0 ? frame->indicator_values[self->rsi_index] : NAN;
    vote->direction = AP_DIRECTION_FLAT;
    vote->confidence = 0;
    if (isnan(rsi)) return AP_OK;
    if (rsi < self->oversold) {
        vote->direction = AP_DIRECTION_LONG;
        vote->confidence = 0.5 + 0.5 * (self->oversold - rsi) / self->oversold;
    } else if (rsi > self->overbought) {
        vote->direction = AP_DIRECTION_SHORT;
        vote->confidence = 0.5 + 0.5 * (rsi - self->overbought) / (100 - self->overbought);
    }
    return AP_OK;
}

static const ap_head_v1 head = {
    .struct_size = sizeof(ap_head_v1),
    .evaluate = rsi_evaluate,
    .on_event = NULL,
};

static const void *rsi_get_capability(const ap_plugin_api *self, ap_str id) {
    (void)self;
    if (id.len == sizeof(AP_CAPABILITY_HEAD_V1) - 1 && memcmp(id.ptr, AP_CAPABILITY_HEAD_V1, id.len) == 0) return &head;
    return NULL;
}

static const ap_plugin_api api = {
    .struct_size = sizeof(ap_plugin_api),
    .abi_major = AP_ABI_MAJOR,
    .abi_minor = AP_ABI_MINOR,
    .descriptor = &descriptor,
    .init = rsi_init,
    .deinit = rsi_deinit,
    .create = rsi_create,
    .destroy = rsi_destroy,
    .get_capability = rsi_get_capability,
};

AP_EXPORT const ap_plugin_api *ap_plugin_entry(void) { return &api; }
