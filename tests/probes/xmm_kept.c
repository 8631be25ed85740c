/* xmm0-15 and MXCSR across a built-in parking_lot probe (xmm_kept.S): the
 * probe's trampolines keep only those (not XSAVE's whole state), so a wrong
 * save or restore shows here.  Prints "word=0x..." then "ok" or what changed. */
#include <stdio.h>
#include <string.h>

void xmm_across_probe(long *, const void *, void *, unsigned *);

static long word = 0x8;

int main(void)
{
    printf("word=%p\n", (void *)&word);
    unsigned char in[256], out[256];
    /* The first call walks the stack (libunwind), the later ones hit the
     * stack cache. */
    for (int k = 0; k < 3; ++k) {
        for (int i = 0; i < 256; ++i)
            in[i] = (unsigned char)(i * 7 + k + 1);
        memset(out, 0, sizeof out);
        unsigned mxcsr = 0x7f80; /* every exception masked, round toward zero */
        xmm_across_probe(&word, in, out, &mxcsr);
        unsigned dflt = 0x1f80;
        __asm__ volatile("ldmxcsr %0" : : "m"(dflt));
        for (int r = 0; r < 16; ++r)
            if (memcmp(in + 16 * r, out + 16 * r, 16)) {
                printf("xmm%d changed across the parking_lot probe (call %d)\nFAILED\n", r, k);
                return 1;
            }
        if (mxcsr != 0x7f80) {
            printf("MXCSR 0x%x after the parking_lot probe, want 0x7f80\nFAILED\n", mxcsr);
            return 1;
        }
    }
    printf("ok\n");
    return 0;
}
