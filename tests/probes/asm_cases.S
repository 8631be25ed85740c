/* Functions whose first instructions exercise the relocator, and functions
 * that must be refused.  Called from asm_cases_main.c. */
        .text

/* long rip_counter_add(long *ignored, long n): counter += n, returns counter.
 * Prologue: a RIP-relative load (7 bytes) - moved into the trampoline with its
 * displacement re-targeted. */
        .globl rip_counter_add
        .type rip_counter_add, @function
rip_counter_add:
        movq rip_counter(%rip), %rax
        addq %rsi, %rax
        movq %rax, rip_counter(%rip)
        ret
        .size rip_counter_add, .-rip_counter_add

/* long lea_table(long *ignored, long i): table[i & 3] via a RIP-relative lea
 * as the first instruction. */
        .globl lea_table
        .type lea_table, @function
lea_table:
        leaq table(%rip), %rax
        andq $3, %rsi
        movq (%rax,%rsi,8), %rax
        ret
        .size lea_table, .-lea_table

/* long jcc_first(long *ignored, long x): x == 0 ? 100 : x + 1.  A short
 * conditional jump inside the first 5 bytes, to outside them. */
        .globl jcc_first
        .type jcc_first, @function
jcc_first:
        testq %rsi, %rsi
        je 1f
        leaq 1(%rsi), %rax
        ret
1:      movl $100, %eax
        ret
        .size jcc_first, .-jcc_first

/* long call_first(long *ignored, long x): a call as the first instruction. */
        .globl call_first
        .type call_first, @function
call_first:
        call helper_double
        addq $3, %rax
        ret
        .size call_first, .-call_first

        .type helper_double, @function
helper_double:
        leaq (%rsi,%rsi), %rax
        ret
        .size helper_double, .-helper_double

/* long tail_double(long *ignored, long x): 2x through a tail call.  The
 * return leaves through helper_double's ret, not one of its own: the probe
 * catches it by swapping the return address (the fallback). */
        .globl tail_double
        .type tail_double, @function
tail_double:
        movq %rdi, %rax
        xorl %eax, %eax
        jmp helper_double
        .size tail_double, .-tail_double

/* Refused: too short (ret after 1 byte). */
        .globl too_short
        .type too_short, @function
too_short:
        ret
        .size too_short, .-too_short

/* Refused: the loop jumps back to offset 3, inside the 5 patched bytes.
 * long loop_into(long *ignored, long n): returns n (counts down to 0). */
        .globl loop_into
        .type loop_into, @function
loop_into:
        xorl %eax, %eax
        nop
1:      incq %rax
        decq %rsi
        jnz 1b
        ret
        .size loop_into, .-loop_into

        .data
        .p2align 3
rip_counter:
        .quad 0
table:
        .quad 11, 22, 33, 44

        .section .note.GNU-stack,"",@progbits
