/* dlopen / dlclose, many times, of a library that uses locks in threads.
 *   life_dlopen PATH_TO_LIBLIFE_DLMOD.so */
#include <dlfcn.h>
#include <stdio.h>

int main(int argc, char **argv)
{
    if (argc < 2) return 2;
    long total = 0;
    for (int i = 0; i < 200; ++i) {
        void *h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
        if (!h) { printf("dlopen: %s\n", dlerror()); return 1; }
        long (*run)(void) = (long (*)(void))dlsym(h, "life_dlmod_run");
        if (!run) { printf("dlsym: %s\n", dlerror()); return 1; }
        total += run();
        if (dlclose(h) != 0) { printf("dlclose: %s\n", dlerror()); return 1; }
    }
    printf("total=%ld\n", total);
    return total == 200L * 2 * (49 * 50 / 2) ? 0 : 1;
}
