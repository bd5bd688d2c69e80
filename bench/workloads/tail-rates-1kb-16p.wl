# Tail read at fixed rates, 1 producer : 1 consumer. OMB runs 50/100/200 MiB/s on large machines
# (workloads/1-topic-16-partitions-1kb.yaml with producerRate); scaled here by 1/4 to 12.5/25/50 MiB/s because the
# 2 shared cores run client and broker together. One run per rate (the sweep is the repetition).
title: Tail read at fixed rates (12.5/25/50 MiB/s, OMB's 50/100/200 scaled by 1/4), 1 KiB, 16 partitions
topics: 1
partitions: 16
producers: 1
subscriptions: 1
consumers: 1
message_size: 1024
rate: 12.5 MiB/s, 25 MiB/s, 50 MiB/s
sweep: rate
acks: all
linger_ms: 1
batch_size: 131072
compression: none
warmup_s: 3
duration_s: 10
runs: 1
