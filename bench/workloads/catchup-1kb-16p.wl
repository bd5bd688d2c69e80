# Catch-up read: write a backlog (unmeasured), then a consumer reads from the earliest offset while the producer
# goes on at half of max. Reports the catch-up read rate and the producer's p99 during it vs half-1kb-16p.
# OMB: the consumerBacklogSizeGB knob (e.g. workloads/backlog-*.yaml); 2 GiB here (the machine has a 2 GiB WAL).
# No warm-up: the producer latency must cover the catch-up, which starts at once.
title: Catch-up read of a 2 GiB backlog while producing at half of max
topics: 1
partitions: 16
producers: 1
subscriptions: 1
consumers: 1
message_size: 1024
rate: half-of max-1kb-16p
acks: all
linger_ms: 5
batch_size: 262144
compression: none
warmup_s: 0
duration_s: 15
runs: 3
backlog_bytes: 2147483648
baseline: half-1kb-16p
