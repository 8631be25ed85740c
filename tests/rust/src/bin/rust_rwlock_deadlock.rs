//! Bug: a thread re-takes a read lock on a std::sync::RwLock while a writer
//! waits.  Rust's futex RwLock makes new readers wait behind a waiting writer,
//! and the writer waits for the first read lock: the process hangs.
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Barrier, RwLock};
use std::thread;
use std::time::Duration;

static WRITER_TID: AtomicU32 = AtomicU32::new(0);

// The calling thread's kernel id, from /proc (std has no gettid).
fn own_tid() -> u32 {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap_or_default();
    stat.split(' ').next().and_then(|t| t.parse().ok()).unwrap_or(0)
}

// Waits until the writer is asleep in the kernel (state S), so that the
// recursive read lock below always finds it queued.
fn wait_writer_asleep() {
    loop {
        let tid = WRITER_TID.load(Ordering::Acquire);
        if tid != 0 {
            let stat = std::fs::read_to_string(format!("/proc/self/task/{}/stat", tid)).unwrap_or_default();
            if let Some(rest) = stat.rsplit(')').next() {
                if rest.trim_start().starts_with('S') {
                    return;
                }
            }
        }
        thread::sleep(Duration::from_millis(5));
    }
}

#[inline(never)]
fn lookup_parent(tree: &RwLock<Vec<u32>>) -> usize {
    let g = tree.read().unwrap(); // recursive read lock
    g.len()
}

#[inline(never)]
fn lookup(tree: &RwLock<Vec<u32>>, reader_in: &Barrier) -> usize {
    let g = tree.read().unwrap();
    reader_in.wait();
    wait_writer_asleep(); // the writer has queued up meanwhile
    g.len() + lookup_parent(tree)
}

#[inline(never)]
fn rebalance(tree: &RwLock<Vec<u32>>, reader_in: &Barrier) {
    reader_in.wait();
    WRITER_TID.store(own_tid(), Ordering::Release);
    tree.write().unwrap().push(1);
}

fn main() {
    let tree = Arc::new(RwLock::new(vec![1, 2, 3]));
    let barrier = Arc::new(Barrier::new(2));
    println!("main: recursive read lock with a writer waiting (hangs)");
    let (t1, b1) = (tree.clone(), barrier.clone());
    let r = thread::spawn(move || lookup(&t1, &b1));
    let (t2, b2) = (tree.clone(), barrier.clone());
    let w = thread::spawn(move || rebalance(&t2, &b2));
    r.join().unwrap();
    w.join().unwrap();
}
