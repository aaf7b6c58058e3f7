/* The boot disk of live-bootstrap's kernel-bootstrap mode ("init.img"), written as its generator writes it
 * (../shared/LIVE-BOOTSTRAP.md, section 3), for lbvm's firmware to boot:
 *
 *   LBA 0       builder-hex0's stage 1: its hex0 text compiled here (comments after '#' or ';' dropped,
 *               pairs of hex digits to bytes): exactly one sector, ending in 55 AA
 *   LBA 1 ...   builder-hex0's stage 2 as hex0 *source* text (stage 1 compiles it in the guest), zero
 *               padded to a whole sector
 *   next        builder-hex0's input stream, item by item as steps_srcfs_list() orders it (the generator's
 *               os.walk order): "src 0 DIR\n" for a folder, "src SIZE PATH\n" and the bytes for a file, the
 *               line itself for a command; then zeros up to the next MiB (at least one: the stream ends at
 *               a zero byte); then, sparse, up to the requested size
 *
 * Builder-hex0's src reads a name up to the newline into 1 KiB: names with control characters or longer
 * than that are refused rather than written into an image that cannot work. Note that builder-hex0's stage 2
 * reads its stream from a sector number written into its own code (175 today, for a stage-2 source of 174
 * sectors): a stage 2 of another size needs its own number, which cannot be checked here. */
#ifndef LBVM_KBS_KBS_IMAGE_H
#define LBVM_KBS_KBS_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "steps/steps.h"

#define KBS_SECTOR 512u
#define KBS_ALIGN  (UINT64_C(1) << 20) /* the stream is padded to a whole MiB */

/* Write the image of `stream` (steps_srcfs_list's result: stage1, stage2 and the items) to `path`, through
 * a temporary name (nothing is left on failure); `size` bytes in all, or 0 for the content rounded up to a
 * MiB. 0, or a negative code with err filled: the user's inputs (unreadable or malformed stages, bad
 * names, a size too small: exit status 2) or the host's failures (1). */
int kbs_image_write(const struct steps_srcfs *stream, uint64_t size, const char *path, struct error *err);

/* Compile hex0 text: two hex digits make a byte, whitespace is skipped, '#' and ';' start a comment that
 * runs to the end of the line. 0 with *out (malloc'd) and *len, or -EINVAL with err naming the line. */
int kbs_hex0_compile(const char *text, size_t text_len, const char *name, uint8_t **out, size_t *len,
		     struct error *err);

#endif
