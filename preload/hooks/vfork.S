/* vfork(): a real vfork, so the child shares memory with its parent as the
 * program expects.  The child runs on the parent thread's TLS and would write
 * into the parent's ring: tracing is switched off (lt_tls.off = 2, "vfork
 * child") around the system call, and the parent, which the kernel keeps
 * suspended until the child execs or exits, restores the old value.  Nothing
 * may live on the stack across the call (the child reuses it): the return
 * address stays in %rdi, the old value in %esi, as glibc's own vfork does. */
#define LT_TLS_OFF 10   /* offsetof(struct lt_tls_state, off), checked in hooks/fork.c */
#define SYS_vfork 58
    .text
    .globl vfork
    .type vfork, @function
vfork:
    .cfi_startproc
    popq %rdi
    .cfi_adjust_cfa_offset -8
    .cfi_register %rip, %rdi
    movq lt_tls@gottpoff(%rip), %rdx
    movzbl %fs:LT_TLS_OFF(%rdx), %esi
    movb $2, %fs:LT_TLS_OFF(%rdx)
    movl $SYS_vfork, %eax
    syscall
    pushq %rdi
    .cfi_adjust_cfa_offset 8
    .cfi_rel_offset %rip, 0
    testq %rax, %rax
    jz 1f
    movb %sil, %fs:LT_TLS_OFF(%rdx)
    movq %rax, %rdi
    jmp lt_vfork_parent        /* records FORK or sets errno; returns the value */
1:  ret
    .cfi_endproc
    .size vfork, .-vfork
    .section .note.GNU-stack,"",@progbits
