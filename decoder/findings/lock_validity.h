// Does a lock's recorded snapshot look like a lock at all?  Used by
// `invalid-lock` to tell a never-initialized or overwritten lock (memory that
// no pthread_*_init ever wrote) from a valid one, from the words alone.
#pragma once

#include "core/model.h"

#include <string>

namespace lt {

// "" when the snapshot of `e` is a plausible lock of its kind; else why not,
// in words ("its type word reads 0xa5a5a5a5, with bits no pthread_mutex_init
// sets").  Only words that lock calls never change are judged (the mutex
// type, the rwlock preference, the semaphore value's range), so a busy lock
// is never mistaken for garbage.  A zeroed object is the static initializer:
// always plausible.
std::string implausible_lock_word(const Event& e);
// The same judgement without the words: cheap enough to ask of every event.
bool lock_word_implausible(const Event& e);

} // namespace lt
