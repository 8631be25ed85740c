/*
 * Bug: a one-time initialisation that calls itself.  init_tables needs the
 * default table, which lookup_default gets through the same pthread_once:
 * the second call waits for the first to finish, which never happens.
 */
#include "zoo.h"

static pthread_once_t tables_once = PTHREAD_ONCE_INIT;
static int tables_ready;

ZOO_FN static void init_tables(void);

ZOO_FN static int lookup_default(void)
{
    pthread_once(&tables_once, init_tables);
    return tables_ready;
}

ZOO_FN static void init_tables(void)
{
    tables_ready = lookup_default() + 1;
}

int main(void)
{
    printf("main: tables_once=%p (hangs)\n", (void *)&tables_once);
    printf("%d\n", lookup_default());
    return 0;
}
