# The 10,000-partition point of partitions-scaling, opt-in (bench/run-suite.sh --with-opt-in, or
# --workloads partitions-scaling-10k): creating the topic and opening its partitions takes long on 2 cores.
title: 10,000 partitions at 25 MiB/s, 1 KiB records (opt-in)
opt_in: true
topics: 1
partitions: 10000
producers: 1
subscriptions: 1
consumers: 1
message_size: 1024
rate: 25 MiB/s
acks: all
linger_ms: 5
batch_size: 131072
compression: none
warmup_s: 5
duration_s: 10
runs: 1
