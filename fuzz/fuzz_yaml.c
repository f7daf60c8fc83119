/* fuzz_yaml.c - libFuzzer harness: a YAML layout file, loaded, elaborated, checked and
 * (when small) compiled and verified (fuzz_layout.h).  Seeds: fuzz/corpus/yaml. */
#include "fuzz_layout.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return fz_layout("fuzz.yaml", data, size); }
