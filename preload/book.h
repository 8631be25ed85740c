// What outlives the rings (include/locktrace/format.h, version 2): each
// thread's book (the locks it holds now, its totals per lock) and the
// lock-order table shared by all threads, kept up to date from the events
// the recorder writes.  Plain stores into the thread's own book; the shared
// tables are claimed by CAS only the first time a pair or a lock life is
// seen.  No lock, no system call, no allocation.
//
// Signal handlers: the recorder updates the book from a handler that
// interrupted it too.  A push reserves its entry with one unlocked xadd (as
// a ring reserves its record), so a handler's entry never lands on the one
// being written; a handler that takes and releases its own locks leaves the
// interrupted update whole.  (One that returns holding a lock it took while
// the recorder was releasing one may leave that lock out of the held set.)
#pragma once
#include "state.h"

#include <locktrace/format.h>
#include <stdint.h>

LT_C_BEGIN
/* The book's part of one recorded event: held set, totals, lock order. */
void lt_book_note(struct lt_tctl *c, uint64_t index, uint64_t now, uint16_t type, uint8_t prim, uint8_t flags,
                  uint64_t addr, uint64_t s0, int32_t result, uint32_t stack) LT_HIDDEN;
/* A RELEASE: out of the held set, into the totals; enum lt_release_match. */
int32_t lt_book_release(struct lt_tctl *c, uint64_t now, uint8_t prim, uint64_t addr) LT_HIDDEN;
/* The thread's lock-order counts held back (order_seen) go into the shared
 * table: at its end, and at exit or exec. */
void lt_book_flush(struct lt_tctl *c) LT_HIDDEN;
/* A lock at addr is destroyed: a later lock there is another node of the
 * lock-order graph. */
void lt_life_bump(uint64_t addr) LT_HIDDEN;
LT_C_END

/* Families whose locks have owners, and the events that touch a book. */
#define LT_BOOK_PRIMS ((1u << LT_PRIM_MUTEX) | (1u << LT_PRIM_RWLOCK) | (1u << LT_PRIM_SPIN) | (1u << LT_PRIM_PROBE))
#define LT_BOOK_TYPES                                                                                         \
    ((1u << LT_EV_ATTEMPT) | (1u << LT_EV_ACQUIRED) | (1u << LT_EV_FAILED) | (1u << LT_EV_TIMEDOUT) |       \
     (1u << LT_EV_RELEASE) | (1u << LT_EV_DESTROY))

static inline bool lt_book_wants(uint16_t type, uint8_t prim)
{
    return ((LT_BOOK_TYPES >> type) & 1u) && ((LT_BOOK_PRIMS >> prim) & 1u);
}
