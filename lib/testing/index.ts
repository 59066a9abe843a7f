export { createTestClient } from './create-test-client.js';
export { SocketIOTestClient } from './socket-io-test-client.js';
export type {
  CallReply,
  CookieJarAgent,
  ReceivedEvent,
  TestClientOptions,
  TestConnectOptions,
  TestEmitOptions,
  TestWaitOptions,
} from './test-client.options.js';
