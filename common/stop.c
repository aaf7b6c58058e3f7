#include "common/stop.h"

#include <pthread.h>
#include <signal.h>
#include <time.h>

static void stop_set(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGHUP);
}

void stop_signals_block(void)
{
	sigset_t set;
	stop_set(&set);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
}

int stop_signal_pending(void)
{
	sigset_t set;
	stop_set(&set);
	const struct timespec now = { 0, 0 };
	int sig = sigtimedwait(&set, NULL, &now);
	return sig > 0 ? sig : 0;
}
