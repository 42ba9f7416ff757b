/* tor_real.h: the two tor workloads in mode tor, which workloads/tor/ dispatches to. Their
 * metrics and counters are written in the order of the descriptors in workloads/tor/: for
 * tor.circuit (failures, bad_cells, relay_crypto, tor_rss, tor_hwm, tor_net_rss), metric build;
 * for tor.stream (streams, bytes, sendme_stalls, bad_cells, failures, circuits, tor_rss,
 * tor_hwm, tor_net_rss), metrics open and ttfb (and OnionPerf's six, tor_exchange.h). */
#ifndef FB_TOR_REAL_H
#define FB_TOR_REAL_H

#include "workloads/workload.h"

extern const fb_workload_t fb_tor_real_circuit; /* tor_real_circuit.c */
extern const fb_workload_t fb_tor_real_stream;  /* tor_real_stream.c */

#endif
