// The live view of this process, taken by the watchdog from inside it
// (live_capture.cpp says how, and why it allocates nothing).
#pragma once
#include "cdecl.h"

// Writes the view of every thread but `self_tid` to `path` (through a
// temporary name, then rename); false if the file could not be written.
bool lt_live_capture(const char *path, long self_tid) LT_HIDDEN;

// Writes all of `s` to `fd` (short writes and EINTR retried, errors dropped).
void lt_write_str(int fd, const char *s) LT_HIDDEN;
