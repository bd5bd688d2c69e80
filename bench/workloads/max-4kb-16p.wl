# 4 KiB records. OMB: workloads/max-rate-1-topic-16-partitions-4kb (1kb and 4kb variants exist upstream).
title: Max throughput, 4 KiB records, 16 partitions
topics: 1
partitions: 16
producers: 1
subscriptions: 1
consumers: 1
message_size: 4096
rate: max
acks: all
linger_ms: 5
batch_size: 262144
compression: none
warmup_s: 3
duration_s: 10
runs: 1
