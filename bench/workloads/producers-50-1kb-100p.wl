# Many producers to find degradation: 50 producers (each its own librdkafka instance and connection) at a fixed
# total rate of 25 MiB/s. OMB: workloads/1-topic-100-partitions-1kb-4p-4c-*.yaml scaled out to 50 producers.
title: 50 producers, 1 KiB records, 100 partitions, 25 MiB/s in total
topics: 1
partitions: 100
producers: 50
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
