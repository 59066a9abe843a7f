import { Inject } from '@nestjs/common';
import type { Store } from 'express-session';
import type { SocketIOModuleOptions } from 'nest-socketio';

/** How one chat instance runs; `npm start` uses the defaults. */
export interface ChatOptions {
  /** Milliseconds between two ticks of the background counter; 0 turns it off. @default 1000 */
  counterIntervalMs?: number;
  /** Message queue shared with other instances and workers. @default undefined (one process) */
  messageQueue?: SocketIOModuleOptions['messageQueue'];
  /** Prefix of the message-queue channels. @default 'nest-socketio' */
  channel?: string;
  /** Session store shared with other instances. @default express-session's MemoryStore */
  sessionStore?: Store;
  /** Signs the session cookie. @default process.env.SESSION_SECRET or a development secret */
  sessionSecret?: string;
  /** Shown on the page, to tell instances apart. @default 'chat' */
  instanceName?: string;
  /** Nest's logger; `false` silences it (tests). @default true */
  logger?: boolean;
}

export const CHAT_OPTIONS = 'SAMPLE_CHAT:OPTIONS';

/** Injects the `ChatOptions` the app was created with. */
export const InjectChatOptions = (): ParameterDecorator => Inject(CHAT_OPTIONS);
