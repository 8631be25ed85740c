// The trace file of this process: its name, creation and layout, the thread
// slots and their rings, the address space reserved for the rings, and
// dropping the parent's file in a fork child.  It writes no event and calls
// nothing of the shim but the state (state.h) and the configuration.
#pragma once
#include "cdecl.h"
#include "state.h"

#include <stdint.h>

LT_C_BEGIN
/* Bytes of one thread slot's part of the file: its ring, then its book
 * (struct lt_book), page-aligned. */
uint64_t lt_slot_bytes(const struct lt_config *cfg) LT_HIDDEN;
/* The private control array of thread slots (lt_g.ctl), once per process. */
bool lt_slots_prepare(void) LT_HIDDEN;
/* Reserves address space for the rings (lt_g.ring_area), once per process. */
void lt_rings_reserve(void) LT_HIDDEN;
/* Creates and lays out a fresh trace file for this process from lt_g.cfg:
 * header, tables, identity.  Readers cannot see it before lt_trace_publish. */
bool lt_trace_create(void) LT_HIDDEN;
/* Makes the file valid for readers (its magic, written last), gives it its
 * name if it was made without one, and tells `locktrace run` the name.
 * False: no name could be made (the file is gone; run untraced). */
bool lt_trace_publish(void) LT_HIDDEN;
/* This process runs untraced: tells `locktrace run` there is no file. */
void lt_trace_give_up(void) LT_HIDDEN;
/* Claims a thread slot and maps its ring for the calling thread, and marks it
 * LIVE; null = the thread runs untraced.  *recycled: the slot was another
 * thread's before. */
struct lt_tctl *lt_slot_claim(int tid, uint64_t now_ns, bool *recycled) LT_HIDDEN;
/* Marks the slot EXITED (after the THREAD_EXIT record).  The thread goes on
 * recording into it until it really ends; only then may the slot be reused. */
void lt_slot_release(struct lt_tctl *c, uint64_t now_ns) LT_HIDDEN;
/* The live slot of thread `pthread_self` (if any) takes its new name. */
void lt_slot_rename(uint64_t pthread_self, const char *name) LT_HIDDEN;
/* The program is about to limit its address space: give back the part of
 * the ring reservation no thread has claimed yet. */
void lt_ring_area_trim(void) LT_HIDDEN;
/* Has nothing but thread starts and ends, forks and dlopens been recorded
 * (no lock event, no mark, no thread dropped or recycled)? */
bool lt_trace_is_silent(void) LT_HIDDEN;
/* Before an exec, if the trace is silent and the next program is traced too:
 * moves the file to the next program's name for it (its %e is
 * next_argv0) and marks it handed over, so that the next program of this pid
 * takes it over with the exec chain (lt_trace_create).  False: nothing done. */
bool lt_trace_hand_over(const char *next_argv0) LT_HIDDEN;
/* The exec failed after lt_trace_hand_over: the file is ours again. */
void lt_trace_take_back(void) LT_HIDDEN;
/* At the end of a program whose trace is silent: removes the file (and its
 * probe list), unless LOCKTRACE_KEEP_EMPTY.  True if removed. */
bool lt_trace_remove_if_silent(void) LT_HIDDEN;
/* In a fork child: drops every mapping of the parent's file (it must never
 * see a write from us) and the parent's slot control array. */
void lt_trace_drop_after_fork(void) LT_HIDDEN;
LT_C_END
