/* Whole-file locks on disk images, as QEMU takes them: open file description (OFD) locks, exclusive for a
 * writer and shared for readers. Unlike classic POSIX locks they belong to the open file, not the process,
 * so the same image opened twice by one lbvm conflicts too, and closing some other descriptor of the file
 * never drops them. The kernel releases them when the last descriptor of that open file closes, so a
 * killed lbvm leaves no stale lock behind. */
#ifndef LBVM_COMMON_FILE_LOCK_H
#define LBVM_COMMON_FILE_LOCK_H

#include <stdbool.h>

/* Lock all of FD's file without waiting. 0; -EAGAIN when a conflicting lock is held (another lbvm has
 * the image open for writing, or for reading when EXCLUSIVE is asked); or another -errno. */
int file_lock(int fd, bool exclusive);

#endif
