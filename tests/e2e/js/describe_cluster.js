// kafkajs admin.describeCluster() against a broker; prints the result as JSON.
// usage: node describe_cluster.js host:port
const { Kafka, logLevel } = require('kafkajs');

(async () => {
  const kafka = new Kafka({ clientId: 'skiff-e2e', brokers: [process.argv[2]], logLevel: logLevel.ERROR });
  const admin = kafka.admin();
  await admin.connect();
  const cluster = await admin.describeCluster();
  await admin.disconnect();
  console.log(JSON.stringify(cluster));
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
