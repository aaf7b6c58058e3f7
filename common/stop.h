/* SIGINT, SIGTERM and SIGHUP as a request to stop, for commands that do long work before a run's
 * session takes the signals over (fetching, assembling images): the signals are blocked at the start,
 * and the work asks at points where stopping leaves nothing half-written. */
#ifndef LBVM_COMMON_STOP_H
#define LBVM_COMMON_STOP_H

/* Block the stop signals in the calling thread (and the threads it starts later). */
void stop_signals_block(void);
/* A stop signal that arrived since (consumed), or 0. */
int stop_signal_pending(void);

#endif
