// A gateway of the presence tests: its clients track, update and untrack themselves.
import { MessageBody, SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { PresenceService } from '../../lib/index.js';

export interface PresenceRequest {
  topic: string;
  key?: string;
  meta?: Record<string, unknown>;
}

@WebSocketGateway()
export class PresenceGateway {
  constructor(private readonly presence: PresenceService) {}

  @SubscribeMessage('presence:track')
  async track(@MessageBody() { topic, key, meta }: PresenceRequest) {
    await this.presence.track(topic, key!, meta);
    return 'tracked';
  }

  @SubscribeMessage('presence:update')
  async update(@MessageBody() { topic, key, meta }: PresenceRequest) {
    await this.presence.update(topic, key!, meta ?? {});
    return 'updated';
  }

  @SubscribeMessage('presence:untrack')
  async untrack(@MessageBody() { topic, key }: PresenceRequest) {
    await this.presence.untrack(topic, key);
    return 'untracked';
  }

  @SubscribeMessage('presence:list')
  list(@MessageBody() { topic }: PresenceRequest) {
    return this.presence.list(topic);
  }
}
