//! Healthy: std Mutex, RwLock, Condvar (with a predicate) and channels under
//! contention.  Must produce no error or warning finding.
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex, RwLock};
use std::thread;

#[inline(never)]
fn work(id: usize, counter: &Mutex<u64>, table: &RwLock<Vec<u64>>) {
    for i in 0..500 {
        *counter.lock().unwrap() += 1;
        if i % 10 == 0 {
            table.write().unwrap()[(i + id) % 8] += 1;
        } else {
            let _ = table.read().unwrap()[i % 8];
        }
    }
}

fn main() {
    let counter = Arc::new(Mutex::new(0u64));
    let table = Arc::new(RwLock::new(vec![0u64; 8]));
    let ready = Arc::new((Mutex::new(0usize), Condvar::new()));
    let (tx, rx) = mpsc::channel();
    let mut threads = Vec::new();
    for id in 0..4 {
        let (c, t, r, tx) = (counter.clone(), table.clone(), ready.clone(), tx.clone());
        threads.push(thread::spawn(move || {
            work(id, &c, &t);
            let (m, cv) = &*r;
            *m.lock().unwrap() += 1;
            cv.notify_all();
            tx.send(id).unwrap();
        }));
    }
    drop(tx);
    {
        let (m, cv) = &*ready;
        let mut done = m.lock().unwrap();
        while *done < 4 {
            done = cv.wait(done).unwrap();
        }
    }
    let received = rx.iter().count();
    for t in threads {
        t.join().unwrap();
    }
    let total = *counter.lock().unwrap();
    println!("rust_healthy: counter {} messages {}", total, received);
    std::process::exit(if total == 2000 && received == 4 { 0 } else { 1 });
}
