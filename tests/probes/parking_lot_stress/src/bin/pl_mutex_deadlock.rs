//! Bug: two parking_lot::Mutex taken in opposite orders (ABBA), so the
//! built-in RawMutex probes can be checked on a real hang.
//!
//! Before the deadlock, two deterministic warm-ups exercise the other probed
//! paths of parking_lot 0.12.1's RawMutex:
//!   1. `main` holds LEFT while `waiter` parks on it (lock_slow); main's unlock
//!      then finds PARKED set and goes through unlock_slow (a WAKE).
//!   2. `impatient` calls try_lock_for(30 ms) on RIGHT while main holds it:
//!      lock_slow with a deadline, which times out.
//! Then `worker_a` takes LEFT then RIGHT and `worker_b` RIGHT then LEFT; each
//! takes its first mutex on the uncontended fast path (inlined here, never
//! probed) and parks in lock_slow on the second one for good.  `main` prints
//! `DEADLOCK` once both mutex words say LOCKED|PARKED, then joins (forever).
use parking_lot::Mutex;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Barrier;
use std::thread;
use std::time::Duration;

static LEFT: Mutex<u64> = parking_lot::const_mutex(0);
static RIGHT: Mutex<u64> = parking_lot::const_mutex(0);

fn word(m: &'static Mutex<u64>) -> u8 {
    // RawMutex is one AtomicU8, the first field of lock_api::Mutex.
    unsafe { (*(m as *const Mutex<u64> as *const AtomicU8)).load(Ordering::Relaxed) }
}

#[inline(never)]
fn wait_for_left() {
    let mut g = LEFT.lock();
    *g += 1;
}

#[inline(never)]
fn try_right_briefly() -> bool {
    match RIGHT.try_lock_for(Duration::from_millis(30)) {
        Some(mut g) => {
            *g += 1;
            true
        }
        None => false,
    }
}

#[inline(never)]
fn worker_a(both_hold_one: &Barrier) {
    let mut l = LEFT.lock();
    both_hold_one.wait();
    let mut r = RIGHT.lock();
    *l += 1;
    *r += 1;
}

#[inline(never)]
fn worker_b(both_hold_one: &Barrier) {
    let mut r = RIGHT.lock();
    both_hold_one.wait();
    let mut l = LEFT.lock();
    *l += 1;
    *r += 1;
}

fn wait_parked(m: &'static Mutex<u64>) {
    // LOCKED_BIT 1 | PARKED_BIT 2: somebody holds it and somebody sleeps on it.
    while word(m) != 3 {
        thread::sleep(Duration::from_millis(5));
    }
}

// `--healthy`: the same mutexes under heavy contention, always taken in the
// same order (LEFT then RIGHT), with timed attempts mixed in; exits 0.  The
// report of such a run must find nothing wrong.
#[inline(never)]
fn contend(id: u64, start: &Barrier) {
    start.wait(); // all four at once: the mutexes are contended from the first round
    for i in 0..5000u64 {
        if (i + id) % 7 == 0 {
            if let Some(mut l) = LEFT.try_lock_for(Duration::from_micros(50)) {
                *l += 1;
            }
            continue;
        }
        let mut l = LEFT.lock();
        let mut r = RIGHT.lock();
        *l += 1;
        *r += 1;
        for _ in 0..200 {
            std::hint::spin_loop(); // long enough that the others queue behind
        }
        drop(r);
        drop(l);
        if i % 64 == 0 {
            thread::yield_now();
        }
    }
}

fn main() {
    println!("left=0x{:x} right=0x{:x}", &LEFT as *const _ as usize, &RIGHT as *const _ as usize);
    if std::env::args().any(|a| a == "--healthy") {
        static START: Barrier = Barrier::new(4);
        let hs: Vec<_> = (0..4)
            .map(|i| thread::Builder::new().name(format!("contender{}", i)).spawn(move || contend(i, &START)).unwrap())
            .collect();
        for h in hs {
            h.join().unwrap();
        }
        println!("healthy: left={} right={}", *LEFT.lock(), *RIGHT.lock());
        return;
    }

    // 1. A parked waiter and a slow unlock.
    let g = LEFT.lock();
    let waiter = thread::Builder::new().name("waiter".into()).spawn(wait_for_left).unwrap();
    wait_parked(&LEFT);
    drop(g);
    waiter.join().unwrap();

    // 2. A timed lock that gives up.
    let g = RIGHT.lock();
    let impatient = thread::Builder::new().name("impatient".into()).spawn(try_right_briefly).unwrap();
    let got = impatient.join().unwrap();
    drop(g);
    println!("try_lock_for on a held mutex: {}", if got { "got it (unexpected)" } else { "timed out" });

    // 3. The deadlock.
    static BARRIER: std::sync::OnceLock<Barrier> = std::sync::OnceLock::new();
    let barrier = BARRIER.get_or_init(|| Barrier::new(2));
    let a = thread::Builder::new().name("worker_a".into()).spawn(move || worker_a(barrier)).unwrap();
    let b = thread::Builder::new().name("worker_b".into()).spawn(move || worker_b(barrier)).unwrap();
    wait_parked(&LEFT);
    wait_parked(&RIGHT);
    println!("DEADLOCK left=0x{:x} right=0x{:x}", word(&LEFT), word(&RIGHT));
    use std::io::Write;
    std::io::stdout().flush().ok();
    a.join().unwrap();
    b.join().unwrap();
}
