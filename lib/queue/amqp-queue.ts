import type { Channel, ChannelModel, ConfirmChannel, ConsumeMessage } from 'amqplib';
import { loadOptional } from '../load-optional.js';
import {
  brokerCluster,
  brokerQueue,
  BrokerConnectionState,
  reconnectDelay,
  STARTUP_ATTEMPTS,
} from './broker-queue.js';
import type { MessageQueue, MessageQueueSettings } from './message-queue.interface.js';
import type { QueueEndpoint } from './queue-endpoint.js';

type AmqpModule = Pick<typeof import('amqplib'), 'connect'>;

/** Routing key of the messages for every process; a process's own key is `p.<process id>`. */
const TO_ALL = 'all';

/**
 * Builds the AMQP message queue (RabbitMQ): one direct exchange named after the channel, and per
 * process one exclusive queue bound to it twice (the messages for all, and the responses for this
 * process), consumed without acks. amqplib's recovery reconnects with a jittered backoff; the
 * topology is declared again on each connection.
 */
export async function createAmqpQueue(
  endpoint: QueueEndpoint,
  { channel, emitterOnly, logger, onState }: MessageQueueSettings,
): Promise<MessageQueue> {
  if (!/^[\w.:-]{1,255}$/.test(channel)) {
    throw new Error(
      `SocketIOModule: channel "${channel}" is not a valid AMQP exchange name (letters, digits, - _ . : only)`,
    );
  }
  const amqp = await loadOptional<AmqpModule>('amqplib', `messageQueue (${endpoint.type})`);
  const cluster = await brokerCluster(endpoint, emitterOnly, logger);
  const state = new BrokerConnectionState(endpoint, logger, onState);
  const { noDelay = true } = endpoint.adapterOptions as { noDelay?: boolean };
  let current: Channel | ConfirmChannel | undefined;
  let closing = false;

  const setup = async (model: ChannelModel) => {
    const ch = emitterOnly ? await model.createConfirmChannel() : await model.createChannel();
    ch.on('error', () => undefined); // its 'close' follows, and recovery deals with it
    ch.on('close', () => {
      if (current === ch) current = undefined;
      // A channel the broker closed while the connection lives would leave us deaf: start over.
      if (!closing) model.close().catch(() => undefined);
    });
    await ch.assertExchange(channel, 'direct', { durable: false });
    if (cluster) {
      const { queue } = await ch.assertQueue('', {
        exclusive: true,
        autoDelete: true,
        durable: false,
      });
      const own = `p.${cluster.processId}`;
      await ch.bindQueue(queue, channel, TO_ALL);
      await ch.bindQueue(queue, channel, own);
      await ch.consume(
        queue,
        (msg: ConsumeMessage | null) => {
          if (!msg) return;
          if (msg.fields.routingKey === TO_ALL) cluster.receive(msg.content);
          else cluster.receiveResponse(msg.content);
        },
        { noAck: true },
      );
    }
    current = ch;
  };

  let connection: Awaited<ReturnType<typeof connectWithRecovery>>;
  try {
    connection = await connectWithRecovery(amqp, endpoint.url, noDelay, setup);
  } catch (err) {
    throw state.unreachable(err);
  }
  connection.on('error', () => undefined);
  connection.on('disconnect', (err: Error) => {
    current = undefined;
    state.lost(err);
  });
  connection.on('connect', () => {
    if (state.up) return;
    state.restored();
    // Peers may have dropped this process meanwhile: announce it so they count it at once.
    cluster?.announceAll();
  });

  const channelOrThrow = () => {
    if (!current) throw new Error(`${endpoint.label} is unreachable`);
    return current;
  };
  return brokerQueue(
    cluster,
    {
      publish: (payload) => {
        channelOrThrow().publish(channel, TO_ALL, payload);
      },
      publishTo: (processId, payload) => {
        channelOrThrow().publish(channel, `p.${processId}`, payload);
      },
    },
    state,
    async () => {
      await (channelOrThrow() as ConfirmChannel).waitForConfirms();
    },
    async () => {
      closing = true;
      // Closing the channel first sends what it still holds (the adapters' goodbyes) before the
      // connection goes; closing the connection alone may drop it.
      await current?.close().catch(() => undefined);
      await connection.close().catch(() => undefined);
    },
  );
}

function connectWithRecovery(
  amqp: AmqpModule,
  url: string,
  noDelay: boolean,
  setup: (model: ChannelModel) => Promise<void>,
) {
  return amqp.connect(url, {
    // amqplib leaves Nagle's algorithm on: small cluster messages would wait for the previous ACK.
    noDelay,
    timeout: 5000,
    clientProperties: { connection_name: 'nest-socketio' },
    recovery: {
      setup,
      initialMaxRetries: STARTUP_ATTEMPTS - 1,
      calculateDelay: reconnectDelay,
    },
  });
}
