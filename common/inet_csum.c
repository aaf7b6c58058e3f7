#include "common/inet_csum.h"

uint64_t inet_csum_add(uint64_t sum, const uint8_t *data, size_t len)
{
	size_t i = 0;
	for (; i + 1 < len; i += 2)
		sum += (uint64_t)(data[i] << 8 | data[i + 1]);
	if (i < len)
		sum += (uint64_t)data[i] << 8;
	return sum;
}

uint64_t inet_csum_add16(uint64_t sum, uint16_t value)
{
	return sum + value;
}

uint16_t inet_csum_fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

uint16_t inet_csum_finish(uint64_t sum)
{
	return (uint16_t)~inet_csum_fold(sum);
}
