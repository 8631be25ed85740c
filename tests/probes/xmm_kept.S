/* A function under the name of parking_lot's RawRwLock::unlock_shared_slow
 * (as rustc mangles it), so that the built-in parking_lot probe lands on it
 * with its light register save (xmm0-15 and MXCSR instead of XSAVE), and a
 * caller that checks those registers across it.  Called from xmm_kept.c. */
        .text

/* void unlock_shared_slow(long *word): reads the word, returns. */
        .globl _ZN11parking_lot10raw_rwlock9RawRwLock18unlock_shared_slow17h0123456789abcdefE
        .type _ZN11parking_lot10raw_rwlock9RawRwLock18unlock_shared_slow17h0123456789abcdefE, @function
_ZN11parking_lot10raw_rwlock9RawRwLock18unlock_shared_slow17h0123456789abcdefE:
        movq (%rdi), %rax
        addq $0, %rax
        nop; nop; nop; nop; nop; nop; nop; nop
        ret
        .size _ZN11parking_lot10raw_rwlock9RawRwLock18unlock_shared_slow17h0123456789abcdefE, .-_ZN11parking_lot10raw_rwlock9RawRwLock18unlock_shared_slow17h0123456789abcdefE

/* void xmm_across_probe(long *word, const void *in, void *out, unsigned *mxcsr):
 * loads MXCSR from *mxcsr and xmm0-15 from in[256], calls the probed
 * function, stores xmm0-15 to out[256] and MXCSR to *mxcsr.  The probe's
 * hooks run C code and, at the first call, libunwind: a register the
 * trampoline failed to keep shows in out. */
        .globl xmm_across_probe
        .type xmm_across_probe, @function
xmm_across_probe:
        pushq %r12
        pushq %r13
        pushq %r14
        movq %rsi, %r12
        movq %rdx, %r13
        movq %rcx, %r14
        ldmxcsr (%r14)
        movdqu 0(%r12), %xmm0
        movdqu 16(%r12), %xmm1
        movdqu 32(%r12), %xmm2
        movdqu 48(%r12), %xmm3
        movdqu 64(%r12), %xmm4
        movdqu 80(%r12), %xmm5
        movdqu 96(%r12), %xmm6
        movdqu 112(%r12), %xmm7
        movdqu 128(%r12), %xmm8
        movdqu 144(%r12), %xmm9
        movdqu 160(%r12), %xmm10
        movdqu 176(%r12), %xmm11
        movdqu 192(%r12), %xmm12
        movdqu 208(%r12), %xmm13
        movdqu 224(%r12), %xmm14
        movdqu 240(%r12), %xmm15
        call _ZN11parking_lot10raw_rwlock9RawRwLock18unlock_shared_slow17h0123456789abcdefE
        movdqu %xmm0, 0(%r13)
        movdqu %xmm1, 16(%r13)
        movdqu %xmm2, 32(%r13)
        movdqu %xmm3, 48(%r13)
        movdqu %xmm4, 64(%r13)
        movdqu %xmm5, 80(%r13)
        movdqu %xmm6, 96(%r13)
        movdqu %xmm7, 112(%r13)
        movdqu %xmm8, 128(%r13)
        movdqu %xmm9, 144(%r13)
        movdqu %xmm10, 160(%r13)
        movdqu %xmm11, 176(%r13)
        movdqu %xmm12, 192(%r13)
        movdqu %xmm13, 208(%r13)
        movdqu %xmm14, 224(%r13)
        movdqu %xmm15, 240(%r13)
        stmxcsr (%r14)
        popq %r14
        popq %r13
        popq %r12
        ret
        .size xmm_across_probe, .-xmm_across_probe

        .section .note.GNU-stack,"",@progbits
