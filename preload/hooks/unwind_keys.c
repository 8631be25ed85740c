// libunwind's per-thread frame cache: pthread_key_create and
// pthread_setspecific from inside our stack walks get a key of ours, not one
// of the program's (stacks.cpp, "The unwinder proper").
#define _GNU_SOURCE
#include "hook.h"
#include "../stacks.h"

EXPORT int pthread_key_create(pthread_key_t *key, void (*dtor)(void *))
{
    if (LT_UNLIKELY(lt_tls.internal) && lt_stacks_key_create(key, dtor))
        return 0;
    return LT_NEXT(key_create, key, dtor);
}

EXPORT int pthread_setspecific(pthread_key_t key, const void *v)
{
    if (LT_UNLIKELY(key == LT_UNWIND_KEY) && lt_stacks_set_cache((uintptr_t)v))
        return 0;
    return LT_NEXT(setspecific, key, v);
}
