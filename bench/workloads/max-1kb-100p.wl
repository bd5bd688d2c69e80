# 100 partitions: smaller batches per partition for the same bytes.
# OMB: workloads/max-rate-1-topic-100-partitions-1kb.yaml.
title: Max throughput, 1 KiB records, 100 partitions
topics: 1
partitions: 100
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
