/* fuzz_dsl.c - libFuzzer harness: a layout file in the DSL, loaded, elaborated, checked and
 * (when small) compiled and verified (fuzz_layout.h).  Seeds: fuzz/corpus/dsl. */
#include "fuzz_layout.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return fz_layout("fuzz.sw", data, size); }
