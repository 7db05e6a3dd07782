/**
 * The generated Alertmanager command lines, run as generated (Debian names the binary
 * prometheus-alertmanager): both Alertmanagers start on their URLs with the generated config and
 * find each other by gossip on the generated ports.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { scalePortCount } from '../../src/config/scale.js';
import { findOnPath, stopChild } from '../../stack/external.js';
import { freePort, freePortRange } from '../../test/ports.js';
import { eventually } from '../../src/testing/eventually.js';
import { generatedIn, scaleExampleCopy, topologyOf } from '../testing/scale-support.js';
import { writeArtifacts } from '../testing/test-support.js';

const children: ChildProcess[] = [];

afterAll(async () => {
  await Promise.all(children.map((c) => stopChild(c, 5_000)));
});

describe('the generated Alertmanager processes', () => {
  it('start with the generated flags and gossip with each other', async () => {
    const binary = await findOnPath(['prometheus-alertmanager', 'alertmanager']);
    expect(binary, 'prometheus-alertmanager is installed').toBeDefined();
    const urls = [`http://127.0.0.1:${await freePort()}`, `http://127.0.0.1:${await freePort()}`];
    const basePort = await freePortRange(scalePortCount({ shards: 1, routers: 1, alertmanagers: urls }));
    const files = await generatedIn(await scaleExampleCopy({ scale: { engine: 'victoriametrics', shards: 1, routers: 1, alertmanagers: urls, basePort } }));
    const out = await writeArtifacts(files);
    const alertmanagers = topologyOf(files).processes.filter((p) => p.role === 'alertmanager');
    expect(alertmanagers.map((p) => p.command)).toEqual(['alertmanager', 'alertmanager']);
    for (const p of alertmanagers) {
      const child = spawn(binary ?? 'alertmanager', p.args, { cwd: out, stdio: ['ignore', 'ignore', 'pipe'] });
      child.stderr?.resume();
      children.push(child);
    }
    for (const url of urls) {
      const peers = await eventually(
        async () => {
          const status = (await (await fetch(`${url}/api/v2/status`)).json()) as { cluster: { status: string; peers: { address: string }[] } };
          return status.cluster.peers.length === 2 ? status.cluster.peers.map((x) => x.address).sort() : undefined;
        },
        30_000,
        `${url} seeing both peers`,
      );
      expect(peers).toEqual(alertmanagers.map((p) => p.args.find((a) => a.startsWith('--cluster.listen-address='))?.split('=')[1]).sort());
    }
  }, 45_000);
});
