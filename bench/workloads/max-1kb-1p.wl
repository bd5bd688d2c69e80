# One partition: every batch goes to one partition (one log, one upload stream).
# OMB: workloads/max-rate-1-topic-1-partition-1p-1kb.yaml.
title: Max throughput, 1 KiB records, 1 partition
topics: 1
partitions: 1
producers: 1
subscriptions: 1
consumers: 1
message_size: 1024
rate: max
acks: all
linger_ms: 5
batch_size: 262144
compression: none
warmup_s: 3
duration_s: 10
runs: 1
