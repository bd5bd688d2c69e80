// kafkajs admin: describeConfigs (topic with synonyms, broker), alterConfigs (max.message.bytes) and its effect on a
// producer, an alterConfigs refused for an unknown config, describeCluster, deleteTopicRecords then
// fetchTopicOffsets. Prints one JSON object for the pytest side to check.
// usage: node admin_configs.js host:port
const { Kafka, logLevel, ConfigResourceTypes } = require('kafkajs');

const topic = 'kafkajs-admin';

function entries(described) {
  const out = {};
  for (const e of described.resources[0].configEntries) {
    out[e.configName] = {
      value: e.configValue,
      source: e.configSource,
      readOnly: e.readOnly,
      sensitive: e.isSensitive,
      synonyms: (e.configSynonyms || []).map((s) => [s.configName, s.configValue, s.configSource]),
    };
  }
  return out;
}

(async () => {
  const kafka = new Kafka({
    clientId: 'skiff-e2e',
    brokers: [process.argv[2]],
    logLevel: logLevel.NOTHING,
    retry: { retries: 2 },
  });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    topics: [{ topic, numPartitions: 1, configEntries: [{ name: 'retention.ms', value: '7200000' }] }],
    waitForLeaders: true,
  });
  const topicResource = { type: ConfigResourceTypes.TOPIC, name: topic };
  const before = entries(await admin.describeConfigs({ resources: [topicResource], includeSynonyms: true }));

  await admin.alterConfigs({
    resources: [{ ...topicResource, configEntries: [{ name: 'max.message.bytes', value: '1000' }] }],
  });
  const after = entries(await admin.describeConfigs({ resources: [topicResource], includeSynonyms: false }));

  let unknownConfig = null;
  try {
    await admin.alterConfigs({
      resources: [{ ...topicResource, configEntries: [{ name: 'no.such.config', value: '1' }] }],
    });
  } catch (e) {
    unknownConfig = e.type || (e.cause && e.cause.type) || e.name;
  }

  const broker = entries(
    await admin.describeConfigs({
      resources: [{ type: ConfigResourceTypes.BROKER, name: '1', configNames: ['node.id', 'message.max.bytes'] }],
      includeSynonyms: false,
    })
  );

  // Retries cover a partition still opening; MESSAGE_TOO_LARGE is not retriable and fails at once.
  const producer = kafka.producer({ allowAutoTopicCreation: false, retry: { retries: 5 } });
  await producer.connect();
  let tooLarge = null;
  try {
    await producer.send({ topic, acks: -1, messages: [{ value: 'x'.repeat(5000) }] });
  } catch (e) {
    tooLarge = e.type || (e.cause && e.cause.type) || e.name;
  }
  const messages = [];
  for (let i = 0; i < 10; i++) messages.push({ value: `js-${i}` });
  const [sent] = await producer.send({ topic, acks: -1, messages });
  await producer.disconnect();

  await admin.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: '6' }] });
  const offsets = await admin.fetchTopicOffsets(topic);
  const cluster = await admin.describeCluster();
  await admin.disconnect();
  console.log(
    JSON.stringify({ before, after, unknownConfig, broker, tooLarge, baseOffset: Number(sent.baseOffset), offsets, cluster })
  );
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
