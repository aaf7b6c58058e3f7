/* The fuzz targets read their input as a little program: a reader that hands out little-endian values of
 * 1..8 bytes and returns 0 once the input is used up, so every input is a valid program. */
#ifndef LBVM_TESTS_FUZZ_INPUT_H
#define LBVM_TESTS_FUZZ_INPUT_H

#include <stddef.h>
#include <stdint.h>

struct fuzz_input {
	const uint8_t *p;
	size_t left;
};

static inline uint64_t fuzz_take(struct fuzz_input *in, unsigned bytes)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < bytes && in->left; i++) {
		v |= (uint64_t)*in->p++ << (8 * i);
		in->left--;
	}
	return v;
}

#endif
