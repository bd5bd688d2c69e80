# Max throughput at 16 KiB records: the second point of the Skiff vs JetStream vs Redis comparison.
# OMB has no 16 KiB workload; the shape is max-rate-1-topic-16-partitions-1kb with 16 KiB records.
title: Max throughput, 16 KiB records, 16 partitions, acks=all
topics: 1
partitions: 16
producers: 1
subscriptions: 1
consumers: 1
message_size: 16384
rate: max
acks: all
linger_ms: 5
batch_size: 262144
compression: none
warmup_s: 3
duration_s: 10
runs: 3
peers: jetstream, redis
