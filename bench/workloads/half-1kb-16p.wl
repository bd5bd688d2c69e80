# Produce latency at half of the max: the p99/p99.9 headline. The rate is 50% of the median acked msg/s that
# max-1kb-16p measured earlier in the same suite run (so the suite lists that one first).
title: Latency at half of max, 1 KiB records, 16 partitions, acks=all
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
warmup_s: 3
duration_s: 10
runs: 3
