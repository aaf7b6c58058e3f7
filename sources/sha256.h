/* SHA-256 of files and buffers through OpenSSL's EVP interface, and the hex form manifests use. */
#ifndef LBVM_SOURCES_SHA256_H
#define LBVM_SOURCES_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_BYTES 32
#define SHA256_HEX_LEN (2 * SHA256_BYTES) /* without the terminating NUL */

/* Digest of a whole file. 0, -errno for I/O errors, or -EIO when the crypto library fails. */
int sha256_file(const char *path, uint8_t out[SHA256_BYTES]);
/* Digest of what FD holds from its current offset to its end. 0, -errno or -EIO. */
int sha256_fd(int fd, uint8_t out[SHA256_BYTES]);
/* Digest of a buffer. 0 or -EIO. */
int sha256_buffer(const void *data, size_t len, uint8_t out[SHA256_BYTES]);
/* Exactly 64 hex digits (either case) to bytes. 0 or -EINVAL. */
int sha256_from_hex(const char *hex, uint8_t out[SHA256_BYTES]);
/* Lower-case hex with NUL: out must hold SHA256_HEX_LEN + 1 bytes. */
void sha256_to_hex(const uint8_t digest[SHA256_BYTES], char out[SHA256_HEX_LEN + 1]);

#endif
