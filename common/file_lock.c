#include "common/file_lock.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>

int file_lock(int fd, bool exclusive)
{
	struct flock fl;
	memset(&fl, 0, sizeof(fl)); /* l_pid must be 0 for OFD locks; start 0, length 0 = the whole file */
	fl.l_type = exclusive ? F_WRLCK : F_RDLCK;
	fl.l_whence = SEEK_SET;
	if (fcntl(fd, F_OFD_SETLK, &fl) == 0)
		return 0;
	if (errno == EAGAIN || errno == EACCES)
		return -EAGAIN;
	return -errno;
}
