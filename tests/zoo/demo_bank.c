/*
 * The locktrace demo: a tiny bank.  Teller threads move money between
 * accounts; transfer() locks the source account, then the destination.  Two
 * tellers moving money in opposite directions between the same two accounts
 * each hold one account and wait for the other: a classic lock-order
 * deadlock (the fix is to lock the lower-numbered account first).
 *
 * The morning's transfers touch disjoint accounts and run fine; after lunch
 * teller1 pays alice -> bob while teller2 pays bob -> alice, and the bank
 * freezes within a second.
 */
#include "zoo.h"

#define NACCOUNTS 4

struct account {
    pthread_mutex_t lock;
    const char *owner;
    long balance;
};

static struct account accounts[NACCOUNTS] = {
    {PTHREAD_MUTEX_INITIALIZER, "alice", 1000},
    {PTHREAD_MUTEX_INITIALIZER, "bob", 1000},
    {PTHREAD_MUTEX_INITIALIZER, "carol", 1000},
    {PTHREAD_MUTEX_INITIALIZER, "dave", 1000},
};

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t after_lunch;

struct teller {
    const char *name;
    int morning_from, morning_to; /* disjoint accounts: no conflict */
    int from, to;                 /* the afternoon: opposite directions */
    long amount;
};

ZOO_FN static void log_line(const char *who, const char *what, const struct account *a,
                            const struct account *b, long amount)
{
    pthread_mutex_lock(&log_lock);
    printf("%-8s %-6s %3ld from %-5s to %s\n", who, what, amount, a->owner, b->owner);
    fflush(stdout);
    pthread_mutex_unlock(&log_lock);
}

/* BUG: locks "from" before "to" instead of following one global order. */
ZOO_FN static void transfer(const char *who, struct account *from, struct account *to,
                            long amount)
{
    pthread_mutex_lock(&from->lock);
    zoo_sleep_ms(50); /* checking the balance, fraud rules, ... */
    pthread_mutex_lock(&to->lock);
    from->balance -= amount;
    to->balance += amount;
    pthread_mutex_unlock(&to->lock);
    pthread_mutex_unlock(&from->lock);
    log_line(who, "moved", from, to, amount);
}

ZOO_FN static void *teller_main(void *arg)
{
    struct teller *t = arg;
    pthread_setname_np(pthread_self(), t->name); /* so the report says "teller1" */
    for (int round = 0; round < 3; round++) {
        log_line(t->name, "starts", &accounts[t->morning_from], &accounts[t->morning_to],
                 t->amount);
        transfer(t->name, &accounts[t->morning_from], &accounts[t->morning_to], t->amount);
    }
    pthread_barrier_wait(&after_lunch); /* both tellers come back together */
    for (int round = 0; round < 10; round++) {
        log_line(t->name, "starts", &accounts[t->from], &accounts[t->to], t->amount);
        transfer(t->name, &accounts[t->from], &accounts[t->to], t->amount);
    }
    return NULL;
}

int main(void)
{
    static struct teller tellers[] = {
        {"teller1", 0, 2, 0, 1, 10}, /* alice -> carol, then alice -> bob */
        {"teller2", 1, 3, 1, 0, 7},  /* bob -> dave, then bob -> alice */
    };
    printf("bank: %d accounts, 2 tellers, pid %d\n", NACCOUNTS, (int)getpid());
    fflush(stdout);
    pthread_barrier_init(&after_lunch, NULL, 2);
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        t[i] = zoo_spawn(teller_main, &tellers[i]);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    long total = 0;
    for (int i = 0; i < NACCOUNTS; i++)
        total += accounts[i].balance;
    printf("bank: all transfers done, total %ld\n", total);
    return 0;
}
