//! Bug: two std::sync::Mutex taken in opposite orders (ABBA).  On Linux they
//! are futex words whose uncontended paths never enter the kernel: from the
//! trace the report can see both sleepers and their words, never the owners.
use std::sync::{Arc, Barrier, Mutex};
use std::thread;

#[inline(never)]
fn worker_a(a: &Mutex<u64>, b: &Mutex<u64>, both_hold_one: &Barrier) {
    let mut ga = a.lock().unwrap();
    both_hold_one.wait();
    let mut gb = b.lock().unwrap(); // site: a_then_b
    *ga += 1;
    *gb += 1;
}

#[inline(never)]
fn worker_b(a: &Mutex<u64>, b: &Mutex<u64>, both_hold_one: &Barrier) {
    let mut gb = b.lock().unwrap();
    both_hold_one.wait();
    let mut ga = a.lock().unwrap(); // site: b_then_a
    *ga += 1;
    *gb += 1;
}

fn main() {
    let a = Arc::new(Mutex::new(0u64));
    let b = Arc::new(Mutex::new(0u64));
    let barrier = Arc::new(Barrier::new(2));
    println!("main: two std Mutex, opposite orders (hangs)");
    let (a1, b1, c1) = (a.clone(), b.clone(), barrier.clone());
    let t1 = thread::spawn(move || worker_a(&a1, &b1, &c1));
    let (a2, b2, c2) = (a.clone(), b.clone(), barrier.clone());
    let t2 = thread::spawn(move || worker_b(&a2, &b2, &c2));
    t1.join().unwrap();
    t2.join().unwrap();
}
