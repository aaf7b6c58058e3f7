#include "vmm/busy_gauge.h"

bool busy_gauge_feed(struct busy_gauge *g, int64_t wall_ns, int64_t cpu_ns)
{
	if (!g->started || wall_ns < g->wall_ns || cpu_ns < g->cpu_ns) {
		/* the first reading, or clocks that went backwards (a new thread): a fresh window */
		*g = (struct busy_gauge){ .started = true, .wall_ns = wall_ns, .cpu_ns = cpu_ns };
		return false;
	}
	int64_t wall = wall_ns - g->wall_ns;
	if (wall < BUSY_GAUGE_WINDOW_NS)
		return g->busy;
	g->busy = (double)(cpu_ns - g->cpu_ns) >= BUSY_GAUGE_SHARE * (double)wall;
	g->wall_ns = wall_ns;
	g->cpu_ns = cpu_ns;
	return g->busy;
}
