import type { CallHandler, ExecutionContext, NestInterceptor } from '@nestjs/common';
import type { Observable } from 'rxjs';

/**
 * Kept so code that names it still compiles: with `manageSession: false` the session is now read
 * from the store before guards and interceptors run, and saved before the answer, by the module's
 * event dispatcher itself. This interceptor passes straight through.
 * @deprecated Nothing to add: the session step runs before Nest's chain without it.
 */
export class SessionInterceptor implements NestInterceptor {
  intercept(_context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle();
  }
}
