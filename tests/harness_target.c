/* A fuzz target that fails on purpose, for tests/harness.sh: it aborts
 * on the input whose bytes 40-41 are 7f ff (a mutated word), or with
 * HARNESS_HANG set, never returns from it. The replay driver must name
 * that input. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 41 && data[40] == 0x7f && data[41] == 0xff) {
		if (getenv("HARNESS_HANG"))
			for (;;)
				pause();
		abort();
	}
	return 0;
}
