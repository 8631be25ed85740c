/* Starting other programs from a traced process.
 *   life_spawn fork-exec|posix_spawn|vfork-exec|system|popen HELPER ARG
 *       runs HELPER ARG the given way, prints its exit status
 *   life_spawn vfork-shared
 *       the vfork child writes the parent's memory (Linux documents that the
 *       child shares it and that the parent is suspended until the child
 *       execs or exits): a failed exec's errno reaches the parent that way */
#include <errno.h>
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;
static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;

static int status_of(pid_t p)
{
    int st;
    if (p < 0 || waitpid(p, &st, 0) != p) return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int main(int argc, char **argv)
{
    if (argc < 2) return 2;
    pthread_mutex_lock(&m);   /* the parent uses a lock too, so it has a trace */
    pthread_mutex_unlock(&m);
    const char *how = argv[1];
    if (strcmp(how, "vfork-shared") == 0) {
        volatile int exec_errno = 0, marker = 0;
        pid_t p = vfork();
        if (p == 0) {
            marker = 1;
            execl("/nonexistent/program", "program", (char *)NULL);
            exec_errno = errno;
            _exit(127);
        }
        int st = status_of(p);
        printf("vfork child exit %d, marker %d, exec errno %s\n", st, marker,
               exec_errno ? strerror(exec_errno) : "not seen");
        return 0;
    }
    if (argc < 4) return 2;
    char *args[] = {argv[2], argv[3], NULL};
    pid_t p = -1;
    if (strcmp(how, "fork-exec") == 0) {
        p = fork();
        if (p == 0) { execv(argv[2], args); _exit(127); }
    } else if (strcmp(how, "vfork-exec") == 0) {
        p = vfork();
        if (p == 0) { execv(argv[2], args); _exit(127); }
    } else if (strcmp(how, "system") == 0 || strcmp(how, "popen") == 0) {
        /* libc starts /bin/sh itself here: none of the exec hooks is called. */
        char cmd[4096];
        snprintf(cmd, sizeof cmd, "'%s' '%s'", argv[2], argv[3]);
        int st;
        if (how[0] == 's') {
            st = system(cmd);
        } else {
            FILE *f = popen(cmd, "r");
            if (!f) { printf("popen failed\n"); return 1; }
            char line[256];
            while (fgets(line, sizeof line, f)) printf("from the pipe: %s", line);
            st = pclose(f);
        }
        printf("%s: child exit %d\n", how, WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
        return 0;
    } else if (strcmp(how, "posix_spawn") == 0) {
        int e = posix_spawn(&p, argv[2], NULL, NULL, args, environ);
        if (e != 0) { printf("posix_spawn: %s\n", strerror(e)); return 1; }
    } else {
        return 2;
    }
    printf("%s: child exit %d\n", how, status_of(p));
    fflush(stdout);
    return 0;
}
