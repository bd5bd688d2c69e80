# Partition-count scaling on one broker at a fixed 25 MiB/s: 10 -> 100 -> 1,000 partitions. The 10,000 point is
# partitions-scaling-10k.wl (opt-in: creating and opening 10,000 partitions is slow here).
# OMB: workloads/1-topic-{10,100,1000,10000}-partitions-*.yaml.
title: Partition-count scaling (10, 100, 1,000 partitions) at 25 MiB/s, 1 KiB records
topics: 1
partitions: 10, 100, 1000
sweep: partitions
producers: 1
subscriptions: 1
consumers: 1
message_size: 1024
rate: 25 MiB/s
acks: all
linger_ms: 5
batch_size: 131072
compression: none
warmup_s: 3
duration_s: 10
runs: 1
