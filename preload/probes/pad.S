/* The return pads of probe hooks (see engine.cpp, emit_hook).
 *
 * A trampoline saves the registers (struct regs, lowest address in %rbx),
 * then calls its C hook with one of these pads as the return address and the
 * trampoline's continuation in %r12 (callee-saved, so the hook keeps it, and
 * %rbx too).  Unwinders that walk the stack from inside the hook (libunwind
 * for the recorder's stacks, a C++/Rust unwinder) reach a pad; its CFI
 * describes the frame below it from the saved registers, so the walk goes on
 * in the program's code as if the trampoline were not there:
 *
 *   ltp_call_pad     function entry / return probes.  %rbx = entry %rsp -
 *                    0x100, where the entry %rsp points at the probed
 *                    function's return address: the next frame is the
 *                    probed function's caller, at that return address, with
 *                    %rsp = entry %rsp + 8.
 *   ltp_syscall_pad  libc futex sites, mid-function.  %rbx = the %rsp of the
 *                    patched code at its syscall - 0x110; the trampoline
 *                    stored the address right after the original syscall
 *                    instruction at 0x88(%rbx): the next frame is the libc
 *                    function at that syscall, with its own %rsp, so its own
 *                    CFI takes the walk to its callers.
 *
 * Both restore %rbp, %rbx and %r12-%r15 from the saved registers (offsets of
 * struct regs in engine.h: r15 0, r14 8, r13 0x10, r12 0x18, rbp 0x40,
 * rbx 0x68).  Column 16 is the return address (%rip).
 * Unwinders look up (return address - 1): each pad starts with a nop that
 * its FDE covers.
 */
        .text
        .p2align 4
        .type ltp_call_pad_fde, @function
ltp_call_pad_fde:
        .cfi_startproc
        .cfi_def_cfa %rbx, 0x108
        .cfi_offset 16, -0x8
        .cfi_offset %rbp, -0xc8
        .cfi_offset %rbx, -0xa0
        .cfi_offset %r12, -0xf0
        .cfi_offset %r13, -0xf8
        .cfi_offset %r14, -0x100
        .cfi_offset %r15, -0x108
        nop
        .globl ltp_call_pad
        .hidden ltp_call_pad
ltp_call_pad:
        jmp *%r12
        .cfi_endproc
        .size ltp_call_pad_fde, .-ltp_call_pad_fde

        .p2align 4
        .type ltp_syscall_pad_fde, @function
ltp_syscall_pad_fde:
        .cfi_startproc
        .cfi_def_cfa %rbx, 0x110
        .cfi_offset 16, -0x88
        .cfi_offset %rbp, -0xd0
        .cfi_offset %rbx, -0xa8
        .cfi_offset %r12, -0xf8
        .cfi_offset %r13, -0x100
        .cfi_offset %r14, -0x108
        .cfi_offset %r15, -0x110
        nop
        .globl ltp_syscall_pad
        .hidden ltp_syscall_pad
ltp_syscall_pad:
        jmp *%r12
        .cfi_endproc
        .size ltp_syscall_pad_fde, .-ltp_syscall_pad_fde

        .section .note.GNU-stack,"",@progbits
