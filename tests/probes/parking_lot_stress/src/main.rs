//! Stress parking_lot 0.12.1's RwLock until the try_write_for bug hangs it.
//!
//! A writer whose `try_write_for` times out while waiting for readers to leave
//! (`wait_for_readers`) clears WRITER_PARKED_BIT with a fetch_add, while the
//! last reader's `unlock_shared_slow` callback clears the same bit with a
//! fetch_and.  When both happen, the subtraction borrows through every reader
//! bit: the word becomes 0xFFFF_FFFF_FFFF_FFFx and then all ones once a thread
//! parks, and every thread blocks on a lock that nobody holds.
//!
//! A watchdog thread that never touches the lock notices that progress stopped
//! with the word wrapped, prints `HANG after <seconds> s word=0x<word>
//! lock=0x<addr>` and, by default, exits with status 3 (`--on-hang wait` keeps
//! the process hung instead, for reading a live trace).  20 s without progress
//! and without a wrapped word is a `STALL` (status 5).  Without either within
//! `--max-seconds` it prints `NO HANG` and exits with status 4.

use lock_api::{RawRwLock as _, RawRwLockTimed as _};
use parking_lot::RawRwLock;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

static LOCK: RawRwLock = RawRwLock::INIT;
static PROGRESS: AtomicU64 = AtomicU64::new(0);
static TIMEOUTS: AtomicU64 = AtomicU64::new(0);
static STOP: AtomicBool = AtomicBool::new(false);

fn lock_word() -> usize {
    // RawRwLock is a single AtomicUsize: its address is the word's address.
    unsafe { (*(&LOCK as *const RawRwLock as *const AtomicUsize)).load(Ordering::Relaxed) }
}

fn spin(n: u32) {
    for _ in 0..n {
        std::hint::spin_loop();
    }
}

fn reader(id: u64, hold: u64, hold_us: u64) {
    let mut x = id.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    while !STOP.load(Ordering::Relaxed) {
        LOCK.lock_shared();
        PROGRESS.fetch_add(1, Ordering::Relaxed);
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        if hold_us > 0 {
            // Hold for a time comparable to the writers' timeouts: the bug needs
            // a writer to time out just as the last reader leaves.
            let until = Instant::now() + Duration::from_nanos(x % (hold_us * 1000));
            while Instant::now() < until {
                std::hint::spin_loop();
            }
        } else {
            spin((x % hold) as u32);
        }
        unsafe { LOCK.unlock_shared() };
        spin(((x >> 8) % 50) as u32);
    }
}

fn writer(id: u64, max_timeout_us: u64, nice: i32) {
    if nice != 0 {
        // A lower-priority writer is preempted more readily, and the bug lives
        // in the instants between its timed-out park and its fetch_add.
        unsafe {
            libc::setpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t, nice);
        }
    }
    let mut x = id.wrapping_mul(0xD1B5_4A32_D192_ED03) | 1;
    while !STOP.load(Ordering::Relaxed) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let timeout = Duration::from_micros(1 + x % max_timeout_us);
        if LOCK.try_lock_exclusive_for(timeout) {
            PROGRESS.fetch_add(1, Ordering::Relaxed);
            spin(20);
            unsafe { LOCK.unlock_exclusive() };
        } else {
            TIMEOUTS.fetch_add(1, Ordering::Relaxed);
        }
    }
}

// `--mode unmatched-unlock`: the same wrapped word, made on purpose and at
// once by an unlock_shared without a matching lock_shared (a misuse in the
// program rather than parking_lot's race); then a writer and readers block on
// it for good.  A deterministic test of what the probes and the report show.
fn blocking_writer() {
    LOCK.lock_exclusive();
    PROGRESS.fetch_add(1, Ordering::Relaxed);
    unsafe { LOCK.unlock_exclusive() };
}

fn blocking_reader() {
    std::thread::sleep(Duration::from_millis(50)); // after the writer queued
    LOCK.lock_shared();
    PROGRESS.fetch_add(1, Ordering::Relaxed);
    unsafe { LOCK.unlock_shared() };
}

fn arg_value(args: &[String], name: &str, default: &str) -> String {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
        .unwrap_or_else(|| default.to_string())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let readers: u64 = arg_value(&args, "--readers", "4").parse().expect("--readers N");
    let writers: u64 = arg_value(&args, "--writers", "3").parse().expect("--writers N");
    let max_timeout_us: u64 = arg_value(&args, "--timeout-us", "50").parse().expect("--timeout-us N");
    let max_seconds: f64 = arg_value(&args, "--max-seconds", "60").parse().expect("--max-seconds S");
    let on_hang = arg_value(&args, "--on-hang", "exit");
    let hold: u64 = arg_value(&args, "--hold-spins", "2000").parse().expect("--hold-spins N");
    let writer_nice: i32 = arg_value(&args, "--writer-nice", "0").parse().expect("--writer-nice N");
    let hold_us: u64 = arg_value(&args, "--hold-us", "0").parse().expect("--hold-us N");

    println!("lock=0x{:x} readers={} writers={} timeout<= {} us",
             &LOCK as *const RawRwLock as usize, readers, writers, max_timeout_us);
    let start = Instant::now();
    let mut handles = Vec::new();
    if arg_value(&args, "--mode", "race") == "unmatched-unlock" {
        unsafe { LOCK.unlock_shared() }; // the misuse: nobody held a read lock
        PROGRESS.fetch_add(1, Ordering::Relaxed);
        handles.push(std::thread::Builder::new().name("writer0".into()).spawn(blocking_writer).unwrap());
        for i in 0..2 {
            handles.push(std::thread::Builder::new().name(format!("reader{}", i)).spawn(blocking_reader).unwrap());
        }
    } else {
    for i in 0..readers {
        handles.push(std::thread::Builder::new().name(format!("reader{}", i))
            .spawn(move || reader(i + 1, hold, hold_us)).unwrap());
    }
    for i in 0..writers {
        handles.push(std::thread::Builder::new().name(format!("writer{}", i))
            .spawn(move || writer(100 + i, max_timeout_us, writer_nice)).unwrap());
    }
    }

    // Watchdog: never touches LOCK.  The bug's hang is recognised by its word:
    // no progress for 100 ms with a wrapped reader count (>= 2^59 readers; it
    // never unwraps).  Quick, because timed writers keep failing on the broken
    // word and would push the breaking transition out of their trace ring.
    // Without that, only 20 s without progress count (as "STALL": on a
    // loaded machine a preempted writer can hold the lock for a while).
    let mut last = PROGRESS.load(Ordering::Relaxed);
    let mut last_change = Instant::now();
    loop {
        std::thread::sleep(Duration::from_millis(20));
        let now = PROGRESS.load(Ordering::Relaxed);
        let word = lock_word();
        let wrapped = (word >> 4) >= (1usize << 59);
        if now != last {
            last = now;
            last_change = Instant::now();
        } else if (wrapped && last_change.elapsed() >= Duration::from_millis(100))
            || last_change.elapsed() >= Duration::from_secs(20)
        {
            let hung_at = last_change.duration_since(start).as_secs_f64();
            println!("{} after {:.3} s word=0x{:x} lock=0x{:x} ops={} timeouts={}",
                     if wrapped { "HANG" } else { "STALL" }, hung_at, word,
                     &LOCK as *const RawRwLock as usize, now, TIMEOUTS.load(Ordering::Relaxed));
            use std::io::Write;
            std::io::stdout().flush().ok();
            if on_hang == "wait" {
                loop {
                    std::thread::sleep(Duration::from_secs(3600));
                }
            }
            std::process::exit(if wrapped { 3 } else { 5 });
        }
        if start.elapsed().as_secs_f64() >= max_seconds {
            STOP.store(true, Ordering::Relaxed);
            println!("NO HANG in {:.0} s word=0x{:x} ops={} timeouts={}",
                     max_seconds, lock_word(), now, TIMEOUTS.load(Ordering::Relaxed));
            std::process::exit(4);
        }
    }
}
