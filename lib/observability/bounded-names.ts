/**
 * Keeps metric attributes bounded: the first `limit` distinct names are kept as they are, any
 * later one becomes `overflow`. A client that sends a thousand made-up event names to a
 * catch-all handler (or a thousand dynamic namespaces) cannot grow the metrics without end.
 */
export class BoundedNames {
  private readonly kept = new Set<string>();

  constructor(
    private readonly limit: number,
    private readonly overflow: string,
  ) {}

  label(name: string): string {
    if (this.kept.has(name)) return name;
    if (this.kept.size >= this.limit) return this.overflow;
    this.kept.add(name);
    return name;
  }
}

/** Distinct namespaces recorded before the rest are labelled `(other)`. */
export const MAX_NAMESPACES = 50;
/** Distinct catch-all event names per namespace before the rest are labelled `*`. */
export const MAX_CATCH_ALL_EVENTS = 50;
/** Distinct refusal reasons per namespace before the rest are labelled `(other)`. */
export const MAX_REASONS = 20;
