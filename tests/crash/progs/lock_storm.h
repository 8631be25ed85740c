/* The schedule shared by lock_storm (the program) and crash_check (the
 * checker): what each worker does at step i. */
#pragma once

#define LS_MAX_THREADS 16
#define LS_NMUTEX 8

enum ls_op {
    LS_OP_MUTEX = 0, /* lock m[k]; unlock */
    LS_OP_READ,      /* rdlock rw; unlock */
    LS_OP_WRITE,     /* wrlock rw; unlock */
    LS_OP_COND,      /* lock cm; broadcast cv; timedwait cv 200 us; unlock cm */
    LS_OP_FUTEX,     /* odd rounds: FUTEX_WAKE fw; even rounds: FUTEX_WAIT fw 100 us */
    LS_OP_SEM,       /* sem_post sem[t]; sem_wait sem[t] (never blocks) */
    LS_OP_TRY,       /* trylock m[k]; unlock if taken */
    LS_NOPS
};
