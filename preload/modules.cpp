#include "modules.h"

#include "clock.h"
#include "real.h"
#include "state.h"

#include <elf.h>
#include <limits.h>
#include <link.h>
#include <stdlib.h>
#include <string.h>

uint64_t lt_self_lo, lt_self_hi;
uint32_t lt_modules_stale;
static pthread_mutex_t g_refresh_lock = PTHREAD_MUTEX_INITIALIZER;

static void read_build_id(const dl_phdr_info *info, lt_module *m)
{
    for (int i = 0; i < info->dlpi_phnum; ++i) {
        const ElfW(Phdr) &ph = info->dlpi_phdr[i];
        if (ph.p_type != PT_NOTE)
            continue;
        const char *p = (const char *)(info->dlpi_addr + ph.p_vaddr);
        const char *end = p + ph.p_memsz;
        while (p + sizeof(ElfW(Nhdr)) <= end) {
            const ElfW(Nhdr) *n = (const ElfW(Nhdr) *)p;
            const char *name = p + sizeof *n;
            const char *desc = name + ((n->n_namesz + 3) & ~3u);
            const char *next = desc + ((n->n_descsz + 3) & ~3u);
            if (next > end)
                break;
            if (n->n_type == NT_GNU_BUILD_ID && n->n_namesz == 4 && !memcmp(name, "GNU", 4)) {
                uint32_t len = n->n_descsz < LT_BUILD_ID_MAX ? n->n_descsz : LT_BUILD_ID_MAX;
                memcpy(m->build_id, desc, len);
                m->build_id_len = len;
                return;
            }
            p = next;
        }
    }
}

static int add_object(dl_phdr_info *info, size_t, void *data)
{
    uint32_t *added = (uint32_t *)data;
    uint64_t lo = UINT64_MAX, hi = 0;
    for (int i = 0; i < info->dlpi_phnum; ++i) {
        const ElfW(Phdr) &ph = info->dlpi_phdr[i];
        if (ph.p_type != PT_LOAD)
            continue;
        uint64_t a = info->dlpi_addr + ph.p_vaddr;
        if (a < lo)
            lo = a;
        if (a + ph.p_memsz > hi)
            hi = a + ph.p_memsz;
    }
    if (lo >= hi)
        return 0;
    uint64_t self = (uint64_t)(uintptr_t)&lt_modules_refresh; // any function of the shim
    if (self >= lo && self < hi) {
        lt_self_lo = lo;
        lt_self_hi = hi;
    }
    lt_file_header *h = lt_g.hdr;
    const char *name = info->dlpi_name;
    bool main_program = !name || !*name;
    if (main_program)
        name = h->exe_path;
    // Same object = same range and same build-id (the stored path is the
    // real path, not the name the loader used).
    lt_module probe;
    probe.build_id_len = 0;
    read_build_id(info, &probe);
    uint32_t used = h->modules_used;
    for (uint32_t i = 0; i < used; ++i) {
        lt_module *m = &lt_g.modules[i];
        if (m->base == info->dlpi_addr && m->lo == lo && m->hi == hi && m->build_id_len == probe.build_id_len &&
            !memcmp(m->build_id, probe.build_id, probe.build_id_len))
            return 0;
    }
    if (used >= h->module_table_capacity) {
        h->modules_dropped++;
        return 0;
    }
    lt_module *m = &lt_g.modules[used];
    __atomic_store_n(&m->state, (uint32_t)LT_SLOT_BUSY, __ATOMIC_RELEASE);
    m->base = info->dlpi_addr;
    m->lo = lo;
    m->hi = hi;
    m->loaded_ns = lt_now();
    m->build_id_len = probe.build_id_len;
    memcpy(m->build_id, probe.build_id, sizeof m->build_id);
    // Store the real path where we can: symlinked library names would
    // otherwise resolve to a different file when the decoder looks later.
    char real[PATH_MAX];
    const char *path = (!main_program && strchr(name, '/') && realpath(name, real)) ? real : name;
    strncpy(m->path, path, LT_PATH_MAX - 1);
    m->path[LT_PATH_MAX - 1] = 0;
    __atomic_store_n(&m->state, (uint32_t)LT_SLOT_READY, __ATOMIC_RELEASE);
    __atomic_store_n(&h->modules_used, used + 1, __ATOMIC_RELEASE);
    ++*added;
    return 0;
}

uint32_t lt_modules_refresh(void)
{
    if (!lt_g.hdr)
        return 0;
    lt_mute_guard mute;
    lt_errno_guard keep_errno;
    uint32_t added = 0;
    // Refreshes are rare (start, dlopen, unknown pc); one at a time.
    lt_real_mutex_lock(&g_refresh_lock);
    __atomic_store_n(&lt_modules_stale, 0u, __ATOMIC_RELAXED);
    dl_iterate_phdr(add_object, &added);
    lt_real_mutex_unlock(&g_refresh_lock);
    return added;
}

bool lt_modules_cover(uint64_t pc)
{
    lt_file_header *h = lt_g.hdr;
    uint32_t used = __atomic_load_n(&h->modules_used, __ATOMIC_ACQUIRE);
    for (uint32_t i = 0; i < used; ++i)
        if (pc >= lt_g.modules[i].lo && pc < lt_g.modules[i].hi)
            return true;
    return false;
}

void lt_modules_reset_after_fork(void)
{
    // The parent may have held it at the moment of fork.
    lt_real_mutex_init(&g_refresh_lock, nullptr);
    lt_modules_stale = 0;
}
