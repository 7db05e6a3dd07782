/** Helpers the rules-gen tests share: temporary config directories and running promtool/amtool. */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { ArtifactFiles } from '../types.js';

export const EXAMPLE_CONFIG = new URL('../../examples/gpuwatch.yaml', import.meta.url).pathname;

export const SMALL_LAYOUT = `machine-sku:
  gpu8:
    computing-device: {type: nvidia.com/gpu, model: H100, count: 8}
machine-list:
  - {hostname: w0, hostip: 10.0.0.1, machine-type: gpu8, pai-worker: "true"}
  - {hostname: w1, hostip: 10.0.0.2, machine-type: gpu8, pai-worker: "true"}
`;

/** A temporary directory holding the given files; returns its path. */
export async function tempDirWith(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'gpuwatch-rules-gen-'));
  for (const [name, text] of Object.entries(files)) {
    await mkdir(dirname(join(dir, name)), { recursive: true });
    await writeFile(join(dir, name), text);
  }
  return dir;
}

export async function writeArtifacts(files: ArtifactFiles): Promise<string> {
  return tempDirWith(Object.fromEntries(files));
}

export interface ToolResult {
  code: number;
  output: string;
}

export function runTool(cmd: string, args: string[], cwd: string, timeoutMs = 60_000): Promise<ToolResult> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, output: `${stdout}${stderr}` });
    });
  });
}
