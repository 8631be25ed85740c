//! Bug: two parking_lot::Mutex taken in opposite orders (ABBA).  In a release
//! build the fast paths of lock() are inlined into the workers; each worker
//! parks in lock_slow on its second mutex for good.
use parking_lot::Mutex;
use std::sync::{Arc, Barrier};
use std::thread;

#[inline(never)]
fn debit_then_credit(from: &Mutex<u64>, to: &Mutex<u64>, both_hold_one: &Barrier) {
    let mut f = from.lock();
    both_hold_one.wait();
    let mut t = to.lock(); // site: from_then_to
    *f -= 1;
    *t += 1;
}

#[inline(never)]
fn refund(from: &Mutex<u64>, to: &Mutex<u64>, both_hold_one: &Barrier) {
    let mut t = to.lock();
    both_hold_one.wait();
    let mut f = from.lock(); // site: to_then_from
    *t -= 1;
    *f += 1;
}

fn main() {
    let from = Arc::new(Mutex::new(100u64));
    let to = Arc::new(Mutex::new(0u64));
    let barrier = Arc::new(Barrier::new(2));
    println!("main: two parking_lot Mutex, opposite orders (hangs)");
    let (f1, t1, b1) = (from.clone(), to.clone(), barrier.clone());
    let a = thread::spawn(move || debit_then_credit(&f1, &t1, &b1));
    let (f2, t2, b2) = (from.clone(), to.clone(), barrier.clone());
    let b = thread::spawn(move || refund(&f2, &t2, &b2));
    a.join().unwrap();
    b.join().unwrap();
}
