// What runs when liblocktrace.so is loaded: the set-up the program's first
// lock call would otherwise do (life.h), then the parts that need a working
// recorder: the Capstone probes and the watchdog thread.
#include "life.h"
#include "probes/probes.h"
#include "real.h"
#include "stacks.h"
#include "state.h"
#include "watchdog.h"

/* Runs early, but a lock call may come even earlier: lt_init is lazy too. */
__attribute__((constructor(101))) static void init_at_load(void)
{
    lt_resolve();
    // The main thread's stack, asked of glibc now: asking at its first lock
    // event would allocate there, perhaps inside a signal handler.
    lt_thread_stack_prepare();
    // Rings live in address space reserved by lt_init (see lt_trace.ring_area);
    // libunwind's own per-thread map for the main thread is made now, before
    // main() can unmap anything it might land in.
    if (lt_init())
        lt_stacks_warm_up();
    if (lt_init())
        lt_probes_init(lt_g.path); // Capstone probes: before the program's own constructors and threads
    if (lt_init())
        lt_watchdog_start(); // LOCKTRACE_WATCHDOG (watchdog.h): needs the trace file set up
}
