#ifndef AP_CCURL_SHIM_H
#define AP_CCURL_SHIM_H

/* curl_easy_setopt, curl_easy_getinfo and curl_multi_setopt are variadic,
 * which Swift cannot call: these inline shims give each argument type a
 * non-variadic entry point. */
#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>

/* A write or header callback (CURLOPT_WRITEFUNCTION, CURLOPT_HEADERFUNCTION). */
typedef size_t (*ap_curl_data_fn)(char *data, size_t size, size_t count, void *user);

static inline CURLcode ap_curl_setopt_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode ap_curl_setopt_off(CURL *handle, CURLoption option, curl_off_t value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode ap_curl_setopt_str(CURL *handle, CURLoption option, const char *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode ap_curl_setopt_ptr(CURL *handle, CURLoption option, const void *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode ap_curl_setopt_fn(CURL *handle, CURLoption option, ap_curl_data_fn fn) {
    return curl_easy_setopt(handle, option, fn);
}

static inline CURLcode ap_curl_getinfo_long(CURL *handle, CURLINFO info, long *out) {
    return curl_easy_getinfo(handle, info, out);
}

static inline CURLMcode ap_curl_multi_setopt_long(CURLM *multi, CURLMoption option, long value) {
    return curl_multi_setopt(multi, option, value);
}

#endif
