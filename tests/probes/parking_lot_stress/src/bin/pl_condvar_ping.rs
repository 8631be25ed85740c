//! A correct parking_lot Mutex + Condvar ping-pong (two threads take turns
//! 2000 times).  parking_lot's Condvar can hand the mutex to a woken waiter
//! without lock(), so in an unoptimised build, where RawMutex's fast paths
//! are functions, the shim must refuse to record holds through them (the
//! placement list says why) rather than invent owners.  Prints "ok".
use parking_lot::{Condvar, Mutex};
use std::thread;

static TURN: Mutex<u32> = parking_lot::const_mutex(0);
static CHANGED: Condvar = Condvar::new();
const ROUNDS: u32 = 2000;

#[inline(never)]
fn player(me: u32) {
    for _ in 0..ROUNDS {
        let mut t = TURN.lock();
        while *t % 2 != me {
            CHANGED.wait(&mut t);
        }
        *t += 1;
        CHANGED.notify_one();
    }
}

fn main() {
    let a = thread::Builder::new().name("ping".into()).spawn(|| player(0)).unwrap();
    let b = thread::Builder::new().name("pong".into()).spawn(|| player(1)).unwrap();
    a.join().unwrap();
    b.join().unwrap();
    let t = *TURN.lock();
    println!("{} turns", t);
    if t == 2 * ROUNDS {
        println!("ok");
    } else {
        println!("WRONG");
        std::process::exit(1);
    }
}
