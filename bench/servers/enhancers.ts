import {
  Injectable,
  ValidationPipe,
  type CallHandler,
  type CanActivate,
  type ExecutionContext,
  type INestApplication,
  type NestInterceptor,
  type Type,
} from '@nestjs/common';
import { UseGuards, UseInterceptors } from '@nestjs/common';
import type { Observable } from 'rxjs';

/** A guard that allows synchronously, as most role and flag checks do. */
@Injectable()
export class AllowGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    return context.getType() === 'ws';
  }
}

/** An interceptor that passes through, as logging and metrics interceptors do on the way in. */
@Injectable()
export class PassInterceptor implements NestInterceptor {
  intercept(_context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle();
  }
}

/**
 * What a typical Nest app puts around its handlers: `pipe` a global ValidationPipe (no DTO on
 * the echo handler); `full` that plus a gateway guard and a gateway interceptor.
 */
export type Enhancement = 'pipe' | 'full';

/** The providers the enhanced gateway needs. */
export const ENHANCER_PROVIDERS = [AllowGuard, PassInterceptor];

/** Puts the gateway enhancers of `full` on a gateway class. */
export function enhanceGateway(gateway: Type, enhancement: Enhancement | undefined): void {
  if (enhancement !== 'full') return;
  UseGuards(AllowGuard)(gateway);
  UseInterceptors(PassInterceptor)(gateway);
}

/** Registers the global ValidationPipe of both enhancements. */
export function enhanceApp(app: INestApplication, enhancement: Enhancement | undefined): void {
  if (enhancement) app.useGlobalPipes(new ValidationPipe());
}
