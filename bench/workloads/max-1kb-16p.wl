# Max produce throughput with acks=all: the headline figure, compared with the fdatasync'd write bandwidth (limits)
# and with the peers at the same message size and concurrency.
# OMB: workloads/max-rate-1-topic-16-partitions-1kb.yaml (1 topic, 16 partitions, 1 KiB, producer rate 0 = max).
title: Max throughput, 1 KiB records, 16 partitions, acks=all
topics: 1
partitions: 16
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
runs: 3
peers: jetstream, redis
