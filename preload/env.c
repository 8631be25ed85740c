#define _GNU_SOURCE
#include "env.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* One word of LD_PRELOAD (a path or a bare name) naming us. */
static bool is_us(const char *word, size_t len)
{
    static const char me[] = "liblocktrace.so";
    const char *base = word;
    for (size_t i = 0; i < len; ++i)
        if (word[i] == '/')
            base = word + i + 1;
    size_t bl = len - (size_t)(base - word);
    return bl >= sizeof me - 1 && !memcmp(base, me, sizeof me - 1);
}

char *const *lt_env_without_us(char *const *env, char **out, size_t cap, char *buf, size_t bufcap)
{
    size_t n = 0;
    for (char *const *e = env; e && *e && n + 1 < cap; ++e) {
        if (strncmp(*e, "LD_PRELOAD=", 11)) {
            out[n++] = *e;
            continue;
        }
        size_t o = snprintf(buf, bufcap, "LD_PRELOAD=");
        const char *p = *e + 11;
        while (*p) {
            size_t len = strcspn(p, ": ");
            if (len && !is_us(p, len) && o + len + 2 < bufcap) {
                if (o > 11)
                    buf[o++] = ':';
                memcpy(buf + o, p, len);
                o += len;
            }
            p += len;
            if (*p)
                ++p;
        }
        buf[o] = 0;
        if (o > 11)
            out[n++] = buf;
    }
    out[n] = NULL;
    return out;
}

void lt_strip_preload_env(void)
{
    for (char **e = environ; e && *e; ++e) {
        if (strncmp(*e, "LD_PRELOAD=", 11))
            continue;
        char *w = *e + 11;
        const char *p = w;
        bool first = true;
        while (*p) {
            size_t len = strcspn(p, ": ");
            if (len && !is_us(p, len)) {
                if (!first)
                    *w++ = ':';
                memmove(w, p, len);
                w += len;
                first = false;
            }
            p += len;
            if (*p)
                ++p;
        }
        *w = 0;
    }
}
