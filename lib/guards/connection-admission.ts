import {
  Inject,
  Injectable,
  type CanActivate,
  type LoggerService,
  type Type,
} from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { isObservable, lastValueFrom } from 'rxjs';
import type { Socket } from 'socket.io';
import type { GatewayEntry } from '../inbound/gateway-registry.js';
import { SocketErrors } from '../errors/socket-errors.js';
import { ConnectionRefusedError } from '../errors/connection-refused.error.js';
import type { SocketIOModuleOptions } from '../interfaces/socket-io-module-options.interface.js';
import { sessionHandshake } from '../session/session-source.js';
import { RecoveredSessions } from '../session/recovered-sessions.js';
import {
  SocketCallFrame,
  setConnectionSession,
  SocketContextStorage,
} from '../context/socket-context.storage.js';
import { SocketServers } from '../outbound/socket-servers.js';
import { SocketIOConfig } from '../socket-io.config.js';
import { SocketObservability } from '../observability/socket-observability.js';
import { holdPackets } from '../internals/socket-io.internals.js';
import { ConnectionExecutionContext } from './connection-context.js';

type GuardRef = CanActivate | Type<CanActivate>;

/** Steps that run on the handshake before the guards (the session middleware, for one). */
export type HandshakeStep = (socket: Socket) => Promise<void>;

const noHandler = () => undefined;

/**
 * Decides whether a client may connect: handshake steps, then the module's connection guards,
 * then each gateway's, then each gateway's `handleConnection`. Throws a `ConnectionRefusedError` (which
 * socket.io sends as `connect_error`) to refuse.
 */
@Injectable()
export class ConnectionAdmission {
  private readonly guardInstances = new Map<GuardRef, Promise<CanActivate>>();
  readonly handshakeSteps: HandshakeStep[] = [];
  /** alwaysConnect: the decision about each accepted client. */
  private readonly decisions = new WeakMap<Socket, Promise<boolean>>();

  private readonly deps: {
    options: SocketIOModuleOptions;
    moduleRef: ModuleRef;
    errors: SocketErrors;
    logger: LoggerService;
    storage: SocketContextStorage;
    servers: SocketServers;
    observability: SocketObservability;
  };

  constructor(
    @Inject(SocketIOConfig) { options, logger }: SocketIOConfig,
    @Inject(ModuleRef) moduleRef: ModuleRef,
    @Inject(SocketErrors) errors: SocketErrors,
    @Inject(SocketContextStorage) storage: SocketContextStorage,
    @Inject(SocketServers) servers: SocketServers,
    @Inject(SocketObservability) observability: SocketObservability,
  ) {
    const deps = { options, logger, moduleRef, errors, storage, servers, observability };
    this.deps = deps;
    const { session, manageSession, connectionStateRecovery: recovery } = deps.options;
    const managed = manageSession !== false;
    // A recovered client keeps the managed session its handlers wrote to.
    const recovered =
      recovery && managed
        ? new RecoveredSessions(recovery === true ? undefined : recovery.maxDisconnectionDuration)
        : undefined;
    if (session) {
      this.handshakeSteps.push(sessionHandshake(session, managed, deps.logger, recovered));
    } else if (recovered) {
      this.handshakeSteps.push(async (socket) => {
        const kept = recovered.take(socket, undefined);
        if (kept) setConnectionSession(socket, kept);
        recovered.watch(socket, undefined);
      });
    }
  }

  /** Namespace middleware step: decides before socket.io accepts the client. */
  beforeAccept(socket: Socket, gateways: GatewayEntry[], next: (err?: Error) => void): void {
    this.inContext(socket, gateways).then(
      () => {
        next();
        this.deps.servers.accepted(socket);
        this.deps.observability.accepted(socket);
      },
      (refusal: Error) => {
        this.deps.observability.refused(socket, refusal);
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
    // socket.io's adapter broadcasts only to the sockets of `nsp.sockets`: out of it until
    // admitted, the client hears no namespace or room broadcast it may not be allowed to.
    const members = socket.nsp.sockets;
    members.delete(socket.id);
    const decision = this.inContext(socket, gateways).then(
      () => {
        if (!socket.connected) return false;
        members.set(socket.id, socket);
        this.deps.servers.accepted(socket);
        this.deps.observability.accepted(socket);
        return true;
      },
      (refusal: Error) => {
        this.deps.observability.refused(socket, refusal);
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
        if ((await gateway.handleConnection(socket)) === false) throw new ConnectionRefusedError();
      }
    } catch (err) {
      if (err instanceof ConnectionRefusedError) throw err;
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
      throw refusal ?? new ConnectionRefusedError();
    }
    if (!allowed) throw new ConnectionRefusedError();
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
