/**
 * OpenPAI's layout.yaml: machine SKUs (with their computing devices) and the machine list.
 * gpuwatch reads it to know how many GPUs each node should have.
 */
import { z } from 'zod';
import { ConfigError, readYamlWith } from './yaml-file.js';

const computingDevice = z
  .object({
    type: z.string().min(1),
    model: z.string().optional(),
    count: z.number().int().nonnegative(),
  })
  .passthrough();

const sku = z
  .object({
    mem: z.union([z.string(), z.number()]).optional(),
    cpu: z.object({ vcore: z.number().int().positive() }).passthrough().optional(),
    'computing-device': computingDevice.optional(),
  })
  .passthrough();

const machine = z
  .object({
    hostname: z.string().min(1),
    hostip: z.string().min(1),
    'machine-type': z.string().min(1),
    'pai-master': z.union([z.boolean(), z.string()]).optional(),
    'pai-worker': z.union([z.boolean(), z.string()]).optional(),
  })
  .passthrough();

export const layoutSchema = z
  .object({
    'machine-sku': z.record(z.string(), sku),
    'machine-list': z.array(machine).min(1),
  })
  .passthrough()
  .superRefine((layout, ctx) => {
    layout['machine-list'].forEach((m, i) => {
      if (!(m['machine-type'] in layout['machine-sku'])) {
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: ['machine-list', i, 'machine-type'],
          message: `unknown machine-type "${m['machine-type']}" (machine-sku defines: ${Object.keys(layout['machine-sku']).join(', ')})`,
        });
      }
    });
  });

export type LayoutFile = z.output<typeof layoutSchema>;

export interface LayoutNode {
  hostname: string;
  hostip: string;
  sku: string;
  isWorker: boolean;
  /** GPUs the SKU declares (computing-device of an nvidia.com/* type), 0 when none. */
  expectedGpus: number;
  gpuModel?: string;
}

export interface Layout {
  file: string;
  nodes: LayoutNode[];
}

const truthy = (v: boolean | string | undefined): boolean => v === true || v === 'true';

export function layoutNodes(layout: LayoutFile): LayoutNode[] {
  return layout['machine-list'].map((m) => {
    const device = layout['machine-sku'][m['machine-type']]?.['computing-device'];
    const isGpu = device !== undefined && device.type.startsWith('nvidia.com/');
    return {
      hostname: m.hostname,
      hostip: m.hostip,
      sku: m['machine-type'],
      isWorker: truthy(m['pai-worker']),
      expectedGpus: isGpu ? device.count : 0,
      ...(isGpu && device.model !== undefined ? { gpuModel: device.model } : {}),
    };
  });
}

export async function loadLayout(file: string): Promise<Layout> {
  return { file, nodes: layoutNodes(await readYamlWith(file, layoutSchema)) };
}

/** The node's entry, matched by hostname or IP; a clear error when the node is not in the layout. */
export function findNode(layout: Layout, name: string): LayoutNode {
  const node = layout.nodes.find((n) => n.hostname === name || n.hostip === name);
  if (!node) {
    throw new ConfigError(`${layout.file}: node "${name}" is not in machine-list (known: ${layout.nodes.map((n) => n.hostname).join(', ')})`, layout.file);
  }
  return node;
}
