// The patching engine: overwrite the first instructions of a function (or the
// instructions around a `syscall`) with a jump to a generated trampoline that
// saves every register (general, flags, and the x87/SSE/AVX state through
// XSAVE), calls a C hook, and then runs the relocated original instructions
// and jumps back.
//
// Safety rules (each refusal names the function and the reason):
//   - only whole instructions are moved; Capstone (with detail) decodes them;
//   - RIP-relative operands are re-targeted, relative jmp/jcc/call/jrcxz/loop
//     become absolute ones; anything else that depends on its address is refused;
//   - the function body is disassembled and any relative branch whose target
//     falls inside the overwritten bytes (other than their first byte) refuses
//     the patch, as does control flow leaving before enough bytes were found;
//   - the jump is written with one aligned 8-byte store when it fits in one
//     aligned quadword, else by parking the entry on a 2-byte self-jump first.
//     A thread that is *already* executing inside the overwritten bytes when the
//     patch lands (possible only if other threads run during start-up) may
//     execute a mix of old and new bytes: patch before threads start, which is
//     what the shim's constructor does.
//
// Hooks run on the thread's own stack below the red zone, with a fake frame
// (saved rbp, return address) so that libunwind walks from the hook into the
// probed function's caller.
#pragma once
#include <stdint.h>
#include <string>

namespace ltp {

// Saved general registers, lowest address first (pushed in reverse).
struct regs {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax, rflags;
};

struct site;
// Entry hook: `sp` is the stack pointer at the function's entry (it points at
// the return address).  Its return value and *extra are handed to the return hook.
typedef uint64_t (*entry_hook)(regs *r, site *s, uint64_t sp, uint64_t *extra);
// Return hook: `r->rax` is the return value; `cookie`/`extra` what the entry hook gave.
typedef void (*return_hook)(regs *r, site *s, uint64_t cookie, uint64_t extra);
// Syscall-site hooks: before the syscall instruction / after it (rax = result).
typedef void (*syscall_hook)(regs *r, site *s);

struct site {
    // filled by the caller
    entry_hook on_entry = nullptr;
    return_hook on_return = nullptr; // optional: probes the return too
    syscall_hook before_syscall = nullptr;
    syscall_hook after_syscall = nullptr;
    void *user = nullptr;
    uint32_t id = 0;
    // Function probes only: the function's arguments and return value are
    // integers or pointers (no 256/512-bit vectors, no long double), so the
    // vector registers live across its entry and return are xmm0-7 at most.
    // Its trampolines then keep xmm0-15 and MXCSR instead of XSAVE's whole
    // extended state (XSAVE + XRSTOR cost about 280 ns on a KVM guest with
    // AVX-512, several times the hook itself).  What the hook's slow paths
    // may run (libunwind, glibc's string functions) clobbers only registers
    // that the ABI leaves dead at a call boundary.
    bool scalar_abi = false;
    // filled by the engine
    uint64_t addr = 0;      // first patched byte
    uint64_t patched = 0;   // bytes of whole instructions moved
    uint64_t resume = 0;    // where the trampoline jumps back to
    uint64_t tramp = 0;     // entry / syscall trampoline
    uint64_t ret_tramp = 0; // return trampoline (on_return by return address only)
    uint64_t sys_resume = 0; // syscall sites: address right after the syscall instruction
    // How the return is caught (on_return only).  Preferred: every `ret` of
    // the function is patched (exits > 0), so the return address on the stack
    // is never touched and stacks unwound from inside the function (a futex
    // wait in it, a panic) are whole.  Fallback, when some exit cannot be
    // patched safely (tail calls, too few bytes before a ret, a branch into
    // them): the return address is swapped for ret_tramp, and walks from
    // inside the function stop there.  exit_note says which and why.
    uint32_t exits = 0;
    std::string exit_note;
    // Syscall sites: the syscall stays in the library's code, between an
    // entry patch and a patch right after it (after_tramp != 0; after_patched
    // bytes there), or, when that is refused (split_note says why), it runs
    // inside the trampoline.  split_broken: the after-patch went live but the
    // entry patch failed; the site is referenced and must not be freed.
    uint64_t after_tramp = 0;
    uint64_t after_patched = 0;
    std::string split_note;
    bool split_broken = false;
};

// One-time set-up (Capstone handle, XSAVE layout).  False + why if unusable.
bool engine_init(std::string *why);

// Probe the function [fn, fn + fn_size).  fn_size 0 = unknown: the branch
// check then covers only what can be decoded safely, which is refused.
bool patch_function(site *s, uint64_t fn, uint64_t fn_size, std::string *why);

// Probe the `syscall` instruction at `syscall_at`: the patched bytes start at
// `from` (an instruction boundary before it, at least 5 bytes before its end)
// inside the function [fn_lo, fn_hi).
bool patch_syscall(site *s, uint64_t fn_lo, uint64_t fn_hi, uint64_t from, uint64_t syscall_at, std::string *why);

// Bytes of trampoline memory mapped so far (for the start-up report).
uint64_t trampoline_bytes();

} // namespace ltp
