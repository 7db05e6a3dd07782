import { describe, expect, it } from 'vitest';
import { groupOf } from './grouping.js';

describe('groupOf', () => {
  it('groups a GPU alert that names the job holding the GPU by its node, a job alert by its job', () => {
    const ecc = groupOf({
      alertname: 'GpuEccUncorrectable',
      cluster: 'c1',
      node: 'w0',
      gpu: '3',
      uuid: 'GPU-1',
      job: 'erin~vit-huge',
      user: 'erin',
      vc: 'vision',
    });
    expect([ecc.scope, ecc.subject]).toEqual(['node', 'w0']);
    const idle = groupOf({ alertname: 'GpuJobLowUtilization', cluster: 'c1', job: 'erin~vit-huge', user: 'erin', action: 'notify' });
    expect([idle.scope, idle.subject]).toEqual(['job', 'erin~vit-huge']);
  });
});
