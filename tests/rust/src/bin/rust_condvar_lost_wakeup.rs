//! Bug: lost wakeup.  notify_done() calls Condvar::notify_one before anyone
//! waits, and wait_done() waits once without a predicate: a condvar has no
//! memory, so the wait never returns.
use std::sync::{Arc, Condvar, Mutex};
use std::thread;

#[inline(never)]
fn notify_done(pair: &(Mutex<()>, Condvar)) {
    let _g = pair.0.lock().unwrap();
    pair.1.notify_one();
}

#[inline(never)]
fn wait_done(pair: &(Mutex<()>, Condvar)) {
    let g = pair.0.lock().unwrap();
    let _g = pair.1.wait(g).unwrap(); // BUG: no predicate, no loop
}

fn main() {
    let pair = Arc::new((Mutex::new(()), Condvar::new()));
    let p = pair.clone();
    thread::spawn(move || notify_done(&p)).join().unwrap();
    println!("main: waiting for done (hangs)");
    let p = pair.clone();
    let waiter = thread::spawn(move || wait_done(&p));
    waiter.join().unwrap();
}
