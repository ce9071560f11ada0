#ifndef TIDU_FUZZ_H
#define TIDU_FUZZ_H
/*
 * The libFuzzer entry point. Each fuzz_<thing>.c defines it; under clang
 * (-fsanitize=fuzzer, TIDU_FUZZ=ON) libFuzzer drives it, and replay.c
 * (any compiler, under ctest) runs it on every file of a corpus.
 */
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
