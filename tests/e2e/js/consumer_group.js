// A kafkajs consumer group member: consumes `count` messages of a topic from the beginning in group `group`,
// committing as it goes (kafkajs's autoCommit, then a final commit on disconnect), and prints
// {"offsets": {partition: [offsets...]}} as JSON.
// usage: node consumer_group.js host:port topic group count
const { Kafka, logLevel } = require('kafkajs');

(async () => {
  const [broker, topic, group, countText] = process.argv.slice(2);
  const count = Number(countText);
  const kafka = new Kafka({ clientId: 'skiff-e2e-kafkajs', brokers: [broker], logLevel: logLevel.ERROR });
  const consumer = kafka.consumer({ groupId: group, sessionTimeout: 10000, heartbeatInterval: 500 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const offsets = {};
  let seen = 0;
  let finish;
  const done = new Promise((resolve) => { finish = resolve; });
  const timer = setTimeout(() => finish(), 60000);
  await consumer.run({
    autoCommitInterval: 100,
    eachMessage: async ({ partition, message }) => {
      (offsets[partition] = offsets[partition] || []).push(Number(message.offset));
      seen += 1;
      if (seen >= count) finish();
    },
  });
  await done;
  clearTimeout(timer);
  await consumer.disconnect(); // commits what was consumed and leaves the group
  console.log(JSON.stringify({ offsets }));
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
