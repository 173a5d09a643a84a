// `keel bench` and `keel chaos` live in their own packages so that a plain install of the CLI stays
// small. When one is missing, the command says what to install instead of printing a module error.

/** Thrown when an optional tool package is not installed beside the CLI. */
export class MissingToolError extends Error {
  constructor(
    readonly packageName: string,
    readonly command: string,
  ) {
    super(
      `'keel ${command}' needs the ${packageName} package, which is not installed beside the CLI; ` +
        `install it the way you installed keel (e.g. npm install -g ${packageName}, or ` +
        `npx -p @keel/cli -p ${packageName} keel ${command})`,
    );
    this.name = 'MissingToolError';
  }
}

/** True when `error` says that `specifier` itself (not one of its imports) could not be found. */
export function isMissingPackage(error: unknown, specifier: string): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  return code === 'ERR_MODULE_NOT_FOUND' && error.message.includes(`'${specifier}'`);
}

/** Imports an optional tool package, turning "not installed" into a {@link MissingToolError}. */
export async function loadTool<T>(packageName: string, command: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (error) {
    if (isMissingPackage(error, packageName)) throw new MissingToolError(packageName, command);
    throw error;
  }
}
