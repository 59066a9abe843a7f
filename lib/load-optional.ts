import { createRequire } from 'node:module';

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
    // Other loaders (a bundler's, a test runner's) word a missing package their own way: ask
    // Node's resolution whether the package is there at all.
    if (!isInstalled(packageName)) throw new MissingDependencyError(packageName, feature);
    throw err;
  }
}

/** True when Node finds the package from here (its exports map may hide package.json: still there). */
function isInstalled(packageName: string): boolean {
  try {
    createRequire(import.meta.url).resolve(`${packageName}/package.json`);
    return true;
  } catch (err) {
    return (err as { code?: string }).code !== 'MODULE_NOT_FOUND';
  }
}
