/* dlopen(file, mode): call lt_dlopen_prepare (which returns the real dlopen)
 * and tail-jump to it with the caller's return address still on top of the
 * stack, so glibc resolves the library as if the program had called it. */
    .text
    .globl dlopen
    .type dlopen, @function
dlopen:
    .cfi_startproc
    pushq %rdi
    .cfi_adjust_cfa_offset 8
    pushq %rsi
    .cfi_adjust_cfa_offset 8
    subq $8, %rsp
    .cfi_adjust_cfa_offset 8
    call lt_dlopen_prepare
    addq $8, %rsp
    .cfi_adjust_cfa_offset -8
    popq %rsi
    .cfi_adjust_cfa_offset -8
    popq %rdi
    .cfi_adjust_cfa_offset -8
    jmp *%rax
    .cfi_endproc
    .size dlopen, .-dlopen
    .section .note.GNU-stack,"",@progbits
