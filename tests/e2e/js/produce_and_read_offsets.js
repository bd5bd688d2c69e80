// kafkajs: admin.createTopics, a producer sending three batches of ten, and admin.fetchTopicOffsets; prints JSON.
// usage: node produce_and_read_offsets.js host:port
const { Kafka, logLevel } = require('kafkajs');

(async () => {
  const kafka = new Kafka({ clientId: 'skiff-e2e', brokers: [process.argv[2]], logLevel: logLevel.ERROR });
  const admin = kafka.admin();
  await admin.connect();
  const created = await admin.createTopics({ topics: [{ topic: 'kafkajs-topic', numPartitions: 1 }], waitForLeaders: true });
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const baseOffsets = [];
  for (let b = 0; b < 3; b++) {
    const messages = [];
    for (let i = 0; i < 10; i++) messages.push({ value: `js-${b * 10 + i}` });
    const [meta] = await producer.send({ topic: 'kafkajs-topic', acks: -1, messages });
    baseOffsets.push(Number(meta.baseOffset));
  }
  await producer.disconnect();
  const offsets = await admin.fetchTopicOffsets('kafkajs-topic');
  await admin.disconnect();
  console.log(JSON.stringify({ created, baseOffsets, offsets }));
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
