//! Bug: a thread re-takes a read lock on a std::sync::RwLock while a writer
//! waits.  Rust's futex RwLock makes new readers wait behind a waiting writer,
//! and the writer waits for the first read lock: the process hangs.
use std::sync::{Arc, Barrier, RwLock};
use std::thread;
use std::time::Duration;

#[inline(never)]
fn lookup_parent(tree: &RwLock<Vec<u32>>) -> usize {
    let g = tree.read().unwrap(); // recursive read lock
    g.len()
}

#[inline(never)]
fn lookup(tree: &RwLock<Vec<u32>>, reader_in: &Barrier) -> usize {
    let g = tree.read().unwrap();
    reader_in.wait();
    thread::sleep(Duration::from_millis(100)); // the writer queues up meanwhile
    g.len() + lookup_parent(tree)
}

#[inline(never)]
fn rebalance(tree: &RwLock<Vec<u32>>, reader_in: &Barrier) {
    reader_in.wait();
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
