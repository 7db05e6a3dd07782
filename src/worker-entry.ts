/**
 * The entry file of a worker thread that lives next to `moduleUrl`: the compiled `<name>.js` in a
 * build; under tsx or vitest (TypeScript source) a small `<name>-tsx.mjs` bootstrap that registers
 * tsx inside the worker first, because a worker does not inherit the main thread's TypeScript loader
 * (Node 20 ignores module hooks passed in a Worker's execArgv).
 */
export function workerEntry(moduleUrl: string, name: string): URL {
  const fromSource = new URL(moduleUrl).pathname.endsWith('.ts');
  return new URL(fromSource ? `./${name}-tsx.mjs` : `./${name}.js`, moduleUrl);
}
