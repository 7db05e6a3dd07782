/**
 * Builds the fake libnvidia-ml (fake_nvml.c) for tests, and sets the environment it reads.
 *
 * The fake stands in for the GPU driver, which cannot run on a machine without a GPU. It is
 * compiled at test time with the system C compiler; a missing compiler is a test failure with a
 * message saying so, never a skip.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const FAKE_NVML_SOURCE = fileURLToPath(new URL('./fake_nvml.c', import.meta.url));

export interface FakeNvmlBuildOptions {
  /** File name of the library in `dir`; give each differently built copy its own name. */
  fileName?: string;
  /** Leave out the symbols R510 and newer drivers added, as an R470 libnvidia-ml.so.1 would. */
  oldDriver?: boolean;
  /** Also leave out the *RunningProcesses_v2 calls, as a driver before R450 would. */
  processV1Only?: boolean;
}

/** Compiles the fake into `dir` and returns the library's path. */
export function buildFakeNvml(dir: string, options: FakeNvmlBuildOptions = {}): string {
  const output = join(dir, options.fileName ?? 'libnvidia-ml-fake.so');
  const compiler = process.env.CC ?? 'cc';
  const args = ['-shared', '-fPIC', '-std=c11', '-O2', '-Wall', '-Wextra', '-Wl,-Bsymbolic', '-o', output];
  if (options.oldDriver) args.push('-DFAKE_NVML_OLD_DRIVER');
  if (options.processV1Only) args.push('-DFAKE_NVML_OLD_DRIVER', '-DFAKE_NVML_PROCESS_V1_ONLY');
  args.push(FAKE_NVML_SOURCE);
  const result = spawnSync(compiler, args, { encoding: 'utf8', timeout: 60_000 });
  if (result.error) {
    throw new Error(
      `cannot run the C compiler '${compiler}' (${result.error.message}): the NVML backend tests need it ` +
        'to build the fake libnvidia-ml; install gcc or set CC',
    );
  }
  if (result.status !== 0) {
    throw new Error(`building the fake libnvidia-ml failed (exit ${result.status}):\n${result.stderr}`);
  }
  return output;
}

/** Replaces every FAKE_NVML_* variable with `vars`; the fake reads them at nvmlInit_v2. */
export function setFakeNvmlEnv(vars: Record<string, string | number> = {}): void {
  clearFakeNvmlEnv();
  for (const [name, value] of Object.entries(vars)) process.env[name] = String(value);
}

export function clearFakeNvmlEnv(): void {
  for (const name of Object.keys(process.env)) {
    if (name.startsWith('FAKE_NVML_')) delete process.env[name];
  }
}
