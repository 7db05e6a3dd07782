import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SourceError } from '../../types.js';
import { ReplayBackend } from './index.js';
import { parseCsvWithHeader } from './recording.js';

const FIXTURES = new URL('../../../test/fixtures/nvidia-smi/h100-80gb-hbm3-driver-580/', import.meta.url).pathname;
const MiB = 1024 * 1024;

async function scenario(yaml: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'gpuwatch-replay-'));
  const file = join(dir, 'scenario.yaml');
  await writeFile(file, `source: ${FIXTURES}q-busy.xml\n${yaml}`);
  return file;
}

describe('replay of recordings', () => {
  it('serves a recorded -q -x file as it was read', async () => {
    const replay = await ReplayBackend.open({ path: `${FIXTURES}q-busy.xml` });
    const { gpus } = await replay.collect();
    expect(gpus).toHaveLength(1);
    expect(gpus[0]?.uuid).toBe('GPU-46c48243-40b2-7121-5852-ddeebd67760c');
    expect(gpus[0]?.processes).toEqual([{ pid: 633, name: 'python3', usedMemoryBytes: 20204 * MiB }]);
  });

  it('serves a --format=csv recording with units, frame by frame', async () => {
    const replay = await ReplayBackend.open({ path: `${FIXTURES}query-gpu-busy.csv` });
    const { gpus } = await replay.collect();
    expect(gpus[0]?.utilizationRatio).toBeCloseTo(0.99, 10);
    expect(gpus[0]?.powerUsageWatts).toBeCloseTo(692.5, 10);
    expect(gpus[0]?.memoryUsedBytes).toBe(12457 * MiB);
  });

  it('groups CSV rows into frames when a GPU repeats', () => {
    const text = 'index, uuid, utilization.gpu [%]\n0, GPU-a, 10 %\n1, GPU-b, 20 %\n0, GPU-a, 30 %\n1, GPU-b, 40 %\n';
    const frames = parseCsvWithHeader(text);
    expect(frames.map((f) => f.map((g) => g.utilizationRatio))).toEqual([
      [0.1, 0.2],
      [0.3, 0.4],
    ]);
  });

  it('names a missing source', async () => {
    await expect(ReplayBackend.open({ path: '/nonexistent/q.xml' })).rejects.toThrow(/replay source \/nonexistent\/q\.xml does not exist/);
  });
});

describe('replay scenarios', () => {
  it('multiplies one recorded GPU into N with distinct uuids', async () => {
    const replay = await ReplayBackend.open({ path: await scenario('gpus: 8\n') });
    const { gpus } = await replay.collect();
    expect(gpus.map((g) => g.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(new Set(gpus.map((g) => g.uuid)).size).toBe(8);
    expect(new Set(gpus.map((g) => g.busId)).size).toBe(8);
  });

  it('injects faults over time: utilization drop, ECC rise, a GPU lost, a hang, garbage', async () => {
    let now = 0;
    const file = await scenario(`gpus: 4
events:
  - {at: 10s, until: 20s, gpus: [1], set: {utilizationRatio: 0}}
  - {at: 30s, gpus: [2], add: {ecc.uncorrectedVolatile: 2}}
  - {at: 40s, gpus: [3], remove: true}
  - {at: 50s, until: 60s, fault: garbage}
  - {at: 60s, until: 70s, fault: hang}
`);
    const replay = await ReplayBackend.open({ path: file, now: () => now });
    const at = async (s: number) => {
      now = s * 1000;
      return (await replay.collect()).gpus;
    };
    expect((await at(0))[1]?.utilizationRatio).toBe(1);
    expect((await at(15))[1]?.utilizationRatio).toBe(0);
    expect((await at(25))[1]?.utilizationRatio).toBe(1);
    expect((await at(29))[2]?.ecc?.uncorrectedVolatile).toBe(0);
    expect((await at(31))[2]?.ecc?.uncorrectedVolatile).toBe(2);
    expect((await at(45)).map((g) => g.index)).toEqual([0, 1, 2]);
    await expect(at(55)).rejects.toBeInstanceOf(SourceError);
    let settled = false;
    void at(65).finally(() => (settled = true));
    await new Promise((r) => setTimeout(r, 50));
    expect(settled).toBe(false);
    await replay.close();
    await new Promise((r) => setTimeout(r, 0));
    expect(settled).toBe(true);
  });

  it('places jobs on GPUs with one process each, attributed to the job', async () => {
    const replay = await ReplayBackend.open({
      path: await scenario('gpus: 4\njobs:\n  - {job: alice~train, vc: nlp, priority: prod, gpus: [0, 1], startedAgo: 1h}\n'),
      now: () => 7_200_000,
    });
    const snapshot = await replay.collect();
    expect(snapshot.gpus[2]?.processes).toEqual([]);
    const attribution = replay.attribution(snapshot);
    expect(attribution.allocations.map((a) => [a.uuid, a.identity.job, a.identity.user])).toEqual([
      [snapshot.gpus[0]?.uuid, 'alice~train', 'alice'],
      [snapshot.gpus[1]?.uuid, 'alice~train', 'alice'],
    ]);
    expect(attribution.allocations[0]?.identity.startTimeSeconds).toBe(3600);
    expect(attribution.processes.every((p) => p.identity?.job === 'alice~train')).toBe(true);
  });

  it('injects XID events, which count up and stay counted, and processes outside any job', async () => {
    let now = 0;
    const file = await scenario(`gpus: 4
jobs:
  - {job: alice~train, gpus: [0]}
events:
  - {at: 10s, gpus: [1], xid: 79}
  - {at: 20s, gpus: [1, 2], xid: 79}
  - {at: 20s, gpus: [2], xid: 13}
  - {at: 30s, until: 40s, gpus: [3], external: true}
`);
    const replay = await ReplayBackend.open({ path: file, now: () => now });
    const at = async (s: number) => {
      now = s * 1000;
      return replay.collect();
    };
    expect((await at(5)).xid).toBeUndefined();
    const first = await at(15);
    expect(first.xid).toEqual(new Map([[first.gpus[1]?.uuid, new Map([[79, 1]])]]));
    const later = await at(100);
    expect(later.xid).toEqual(
      new Map([
        [later.gpus[1]?.uuid, new Map([[79, 2]])],
        [
          later.gpus[2]?.uuid,
          new Map([
            [79, 1],
            [13, 1],
          ]),
        ],
      ]),
    );
    expect((await at(25)).gpus[3]?.processes).toEqual([]);
    const during = await at(35);
    expect(during.gpus[3]?.processes).toHaveLength(1);
    const external = replay.attribution(during).processes.filter((p) => p.identity === undefined);
    expect(external.map((p) => p.uuid)).toEqual([during.gpus[3]?.uuid]);
    expect(replay.attribution(during).processes.filter((p) => p.identity?.job === 'alice~train')).toHaveLength(1);
    expect((await at(45)).gpus[3]?.processes).toEqual([]);
  });

  it('refuses an XID event with an end: a counter cannot go back', async () => {
    const file = await scenario('events:\n  - {at: 1s, until: 2s, xid: 79}\n');
    await expect(ReplayBackend.open({ path: file })).rejects.toThrow(/events\.0\.until: an xid event happens once/);
  });

  it('rejects a scenario event that does two things, naming the line', async () => {
    const file = await scenario('events:\n  - {at: 1s, remove: true, fault: hang}\n');
    await expect(ReplayBackend.open({ path: file })).rejects.toThrow(/scenario\.yaml:3:5: events\.0: each event does exactly one of/);
  });
});
