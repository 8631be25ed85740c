// Headers of the shim are shared by C (hooks) and C++ (recorder) files.
#pragma once
#ifdef __cplusplus
#define LT_C_BEGIN extern "C" {
#define LT_C_END }
#else
#include <stdbool.h>
#define LT_C_BEGIN
#define LT_C_END
#endif
#define LT_HIDDEN __attribute__((visibility("hidden")))
