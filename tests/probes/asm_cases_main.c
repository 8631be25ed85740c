/* Calls the functions of asm_cases.S and checks their results: a probe that
 * relocated an instruction wrongly shows as a wrong value.  Prints
 * "arg=0x..." (the lock address passed as first argument) then "ok" or what
 * went wrong. */
#include <stdio.h>

long rip_counter_add(long *, long);
long lea_table(long *, long);
long jcc_first(long *, long);
long call_first(long *, long);
long tail_double(long *, long);
void too_short(void);
long loop_into(long *, long);

static long lockword = 0x1234;

int main(void)
{
    int bad = 0;
    printf("arg=%p\n", (void *)&lockword);
    long sum = 0;
    for (long i = 1; i <= 10; ++i)
        sum = rip_counter_add(&lockword, i);
    if (sum != 55) { printf("rip_counter_add: %ld, want 55\n", sum); bad = 1; }
    static const long want_table[4] = {11, 22, 33, 44};
    for (long i = 0; i < 8; ++i)
        if (lea_table(&lockword, i) != want_table[i & 3]) { printf("lea_table(%ld) wrong\n", i); bad = 1; }
    if (jcc_first(&lockword, 0) != 100 || jcc_first(&lockword, 41) != 42) { printf("jcc_first wrong\n"); bad = 1; }
    if (call_first(&lockword, 20) != 43) { printf("call_first: %ld, want 43\n", call_first(&lockword, 20)); bad = 1; }
    if (tail_double(&lockword, 21) != 42) { printf("tail_double: %ld, want 42\n", tail_double(&lockword, 21)); bad = 1; }
    too_short();
    if (loop_into(&lockword, 7) != 7) { printf("loop_into wrong\n"); bad = 1; }
    printf(bad ? "FAILED\n" : "ok\n");
    return bad;
}
