import type { CanActivate, LoggerService, Type } from '@nestjs/common';
import type { ModuleRef } from '@nestjs/core';
import { isObservable, lastValueFrom } from 'rxjs';
import type { Socket } from 'socket.io';
import type { GatewayEntry } from '../inbound/gateway-registry.js';
import { ConnectRefusal, type SocketErrors } from '../errors/socket-errors.js';
import type { SocketIOModuleOptions } from '../interfaces/socket-io-module-options.interface.js';
import { sessionHandshake } from '../session/session-source.js';
import { SocketCallFrame, type SocketContextStorage } from '../context/socket-context.storage.js';
import type { SocketServers } from '../outbound/socket-servers.js';
import { holdPackets } from '../internals/socket-io.internals.js';
import { ConnectionExecutionContext } from './connection-context.js';

type GuardRef = CanActivate | Type<CanActivate>;

/** Steps that run on the handshake before the guards (the session middleware, for one). */
export type HandshakeStep = (socket: Socket) => Promise<void>;

const REFUSED = 'Connection rejected by server';
const noHandler = () => undefined;

/**
 * Decides whether a client may connect: handshake steps, then the module's connection guards,
 * then each gateway's, then each gateway's `handleConnection`. Throws a `ConnectRefusal` (which
 * socket.io sends as `connect_error`) to refuse.
 */
export class ConnectionAdmission {
  private readonly guardInstances = new Map<GuardRef, Promise<CanActivate>>();
  readonly handshakeSteps: HandshakeStep[] = [];
  /** alwaysConnect: the decision about each accepted client. */
  private readonly decisions = new WeakMap<Socket, Promise<boolean>>();

  constructor(
    private readonly deps: {
      options: SocketIOModuleOptions;
      moduleRef: ModuleRef;
      errors: SocketErrors;
      logger: LoggerService;
      storage: SocketContextStorage;
      servers: SocketServers;
    },
  ) {
    const { session, manageSession } = deps.options;
    if (session) {
      this.handshakeSteps.push(sessionHandshake(session, manageSession !== false, deps.logger));
    }
  }

  /** Namespace middleware step: decides before socket.io accepts the client. */
  beforeAccept(socket: Socket, gateways: GatewayEntry[], next: (err?: Error) => void): void {
    this.inContext(socket, gateways).then(
      () => {
        next();
        this.deps.servers.accepted(socket);
      },
      (refusal: Error) => {
        // Rooms joined while being admitted must not outlive a refused client.
        this.deps.servers.refused(socket);
        next(refusal);
      },
    );
  }

  /**
   * alwaysConnect: decides about a client socket.io has accepted already, and disconnects it
   * (without running disconnect handlers: `silence`) when it is refused.
   */
  afterAccept(socket: Socket, gateways: GatewayEntry[], silence: (socket: Socket) => void): void {
    const decision = this.inContext(socket, gateways).then(
      () => true,
      () => {
        silence(socket);
        socket.disconnect();
        return false;
      },
    );
    this.decisions.set(socket, decision);
  }

  /** alwaysConnect: the pending decision; events wait for it, a refused client's never run. */
  decision(socket: Socket): Promise<boolean> | undefined {
    return this.decisions.get(socket);
  }

  private inContext(socket: Socket, gateways: GatewayEntry[]): Promise<void> {
    return this.deps.storage.run(new SocketCallFrame(socket), () => this.admit(socket, gateways));
  }

  async admit(socket: Socket, gateways: GatewayEntry[]): Promise<void> {
    // Before acceptance, what guards or handleConnection send the client directly is held back:
    // sent if it is accepted (socket.io-client delivers it after connect), dropped if refused.
    // With alwaysConnect the client is already accepted and hears everything.
    const held = this.deps.options.alwaysConnect ? undefined : holdPackets(socket);
    try {
      await this.decide(socket, gateways);
    } catch (refusal) {
      held?.drop();
      throw refusal;
    }
    held?.release();
  }

  private async decide(socket: Socket, gateways: GatewayEntry[]): Promise<void> {
    for (const step of this.handshakeSteps) await step(socket);
    try {
      // A guard of the module option is built in the module of the namespace's gateway, where
      // the application's providers are, unless it is a provider itself.
      for (const guard of this.deps.options.connectionGuards ?? []) {
        await this.check(guard, socket, gateways[0]);
      }
      for (const gateway of gateways) {
        for (const guard of gateway.guards) await this.check(guard, socket, gateway);
      }
      for (const gateway of gateways) {
        if (!gateway.handleConnection) continue;
        if ((await gateway.handleConnection(socket)) === false) throw new ConnectRefusal(REFUSED);
      }
    } catch (err) {
      if (err instanceof ConnectRefusal) throw err;
      const refusal = await this.deps.errors.connectError(err, socket);
      if (refusal) throw refusal;
    }
  }

  private async check(guard: GuardRef, socket: Socket, gateway: GatewayEntry | undefined) {
    const instance = await this.resolve(guard, gateway?.moduleRef);
    // The prototype's method (the instance's own was replaced), so metadata set on it is found.
    const handler =
      (Object.getPrototypeOf(gateway?.instance ?? {}) as { handleConnection?: () => unknown })
        .handleConnection ?? noHandler;
    const context = new ConnectionExecutionContext(
      socket,
      gateway?.instance.constructor as Type,
      handler,
    );
    let allowed: unknown;
    try {
      allowed = await instance.canActivate(context);
      if (isObservable(allowed)) allowed = await lastValueFrom(allowed);
    } catch (err) {
      // Guards fail closed: the error handler shapes the refusal, but cannot turn it into an
      // acceptance (unlike for handleConnection, where Flask-SocketIO's semantics hold).
      const refusal = await this.deps.errors.connectError(err, socket);
      throw refusal ?? new ConnectRefusal(REFUSED);
    }
    if (!allowed) throw new ConnectRefusal(REFUSED);
  }

  /** The guard's provider instance when it is one, else an instance built with DI, once. */
  private resolve(guard: GuardRef, gatewayModule: ModuleRef | undefined): Promise<CanActivate> {
    if (typeof guard !== 'function') return Promise.resolve(guard);
    let instance = this.guardInstances.get(guard);
    if (!instance) {
      const moduleRef = gatewayModule ?? this.deps.moduleRef;
      instance = (async () => {
        try {
          return moduleRef.get(guard, { strict: false }) as CanActivate;
        } catch {
          return moduleRef.create(guard);
        }
      })();
      // A guard that could not be built is tried again (and its error logged) next time.
      instance.catch(() => this.guardInstances.delete(guard));
      this.guardInstances.set(guard, instance);
    }
    return instance;
  }
}
