#include "sources/sha256.h"
#include "common/hex.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

/* Large enough that hashing a big tarball is bound by the disk, small enough for the stack. */
#define READ_CHUNK (64 * 1024)

int sha256_fd(int fd, uint8_t out[SHA256_BYTES])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (!ctx)
		return -ENOMEM;
	int err = 0;
	unsigned char *buf = NULL;
	if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		err = -EIO;
		goto out;
	}
	buf = malloc(READ_CHUNK);
	if (!buf) {
		err = -ENOMEM;
		goto out;
	}
	for (;;) {
		ssize_t n = read(fd, buf, READ_CHUNK);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			goto out;
		}
		if (n == 0)
			break;
		if (EVP_DigestUpdate(ctx, buf, (size_t)n) != 1) {
			err = -EIO;
			goto out;
		}
	}
	unsigned int len = 0;
	if (EVP_DigestFinal_ex(ctx, out, &len) != 1 || len != SHA256_BYTES)
		err = -EIO;
out:
	free(buf);
	EVP_MD_CTX_free(ctx);
	return err;
}

int sha256_file(const char *path, uint8_t out[SHA256_BYTES])
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int err = sha256_fd(fd, out);
	close(fd);
	return err;
}

int sha256_buffer(const void *data, size_t len, uint8_t out[SHA256_BYTES])
{
	unsigned int outlen = 0;
	if (EVP_Digest(data, len, out, &outlen, EVP_sha256(), NULL) != 1 || outlen != SHA256_BYTES)
		return -EIO;
	return 0;
}

int sha256_from_hex(const char *hex, uint8_t out[SHA256_BYTES])
{
	if (strlen(hex) != SHA256_HEX_LEN)
		return -EINVAL;
	for (size_t i = 0; i < SHA256_BYTES; i++) {
		int hi = hex_digit_value(hex[2 * i]), lo = hex_digit_value(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -EINVAL;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

void sha256_to_hex(const uint8_t digest[SHA256_BYTES], char out[SHA256_HEX_LEN + 1])
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < SHA256_BYTES; i++) {
		out[2 * i] = digits[digest[i] >> 4];
		out[2 * i + 1] = digits[digest[i] & 0xf];
	}
	out[SHA256_HEX_LEN] = '\0';
}
