/* metrics.h - counters behind GET /metrics (private to src/web). */
#ifndef CALLBOT_WEB_METRICS_H
#define CALLBOT_WEB_METRICS_H

#include <stdatomic.h>

/* Upper bounds (ms) of the response-latency histogram buckets; +Inf is implied. */
#define METRICS_LAT_BUCKETS 10
extern const int metrics_lat_bounds[METRICS_LAT_BUCKETS];

struct web_metrics {
	atomic_ulong http_by_class[6];	/* index status / 100 (0 unused) */
	atomic_ulong rate_limited;
	atomic_ulong logins_ok, logins_failed;
	atomic_ulong lat_bucket[METRICS_LAT_BUCKETS + 1];
	atomic_ulong lat_count;
	atomic_ullong lat_sum_ms;
};

void metrics_count_http(struct web_metrics *m, unsigned status);

#endif
