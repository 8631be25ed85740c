/* The return pad of probe hooks (see engine.cpp, emit_hook).
 *
 * A trampoline calls its C hook with this pad as the return address and the
 * trampoline's continuation in %r12 (callee-saved, so the hook keeps it).
 * Unwinders that walk the stack from inside the hook reach this pad; its CFI
 * says the caller's frame is described by %rbp, which the trampoline pointed
 * at a fake frame [saved rbp][return address of the probed function], so
 * walks (libunwind, C++/Rust unwinding) continue into the probed function's
 * caller instead of stopping in anonymous trampoline memory.
 */
        .text
        .p2align 4
        .type ltp_return_pad_fde, @function
ltp_return_pad_fde:
        .cfi_startproc
        .cfi_def_cfa %rbp, 16
        .cfi_offset %rbp, -16
        nop                     /* unwinders look up (return address - 1) */
        .globl ltp_return_pad
        .hidden ltp_return_pad
ltp_return_pad:
        jmp *%r12
        .cfi_endproc
        .size ltp_return_pad_fde, .-ltp_return_pad_fde

        .section .note.GNU-stack,"",@progbits
