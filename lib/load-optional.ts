/** Thrown when an option needs an optional package that is not installed. */
export class MissingDependencyError extends Error {
  override readonly name = 'MissingDependencyError';
  constructor(
    readonly packageName: string,
    feature: string,
  ) {
    super(
      `SocketIOModule: ${feature} needs the package "${packageName}": npm install ${packageName}`,
    );
  }
}

/** Imports an optional peer dependency, with an error naming the package when it is missing. */
export async function loadOptional<T>(packageName: string, feature: string): Promise<T> {
  try {
    return (await import(packageName)) as T;
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      if (String((err as Error).message).includes(packageName)) {
        throw new MissingDependencyError(packageName, feature);
      }
    }
    throw err;
  }
}
