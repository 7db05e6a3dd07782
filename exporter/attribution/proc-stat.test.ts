import { describe, expect, it } from 'vitest';
import { parseBootTimeSeconds, parseStartTimeTicks, startTimeSeconds } from './proc-stat.js';

/** A /proc/<pid>/stat line with the given command name and start ticks (field 22). */
function statLine(comm: string, startTicks: number): string {
  const afterComm = ['S', '1', '4242', '4242', '0', '-1', '4194560', '96523', '0', '12', '0', '8123', '1890', '0', '0', '20', '0', '24'];
  const rest = ['0', String(startTicks), '35127394304', '1234567', '18446744073709551615', '1', '1', '0', '0', '0', '0', '0', '16781312', '17642'];
  // afterComm has fields 3..20; field 21 (itrealvalue) is rest[0], field 22 is rest[1].
  return `4242 (${comm}) ${[...afterComm, ...rest].join(' ')}\n`;
}

describe('parseStartTimeTicks', () => {
  it('reads field 22', () => {
    expect(parseStartTimeTicks(statLine('python', 8812345))).toBe(8812345);
  });

  it('copes with spaces and parentheses in the command name', () => {
    expect(parseStartTimeTicks(statLine('pt_main_thread (rank 0) x', 77))).toBe(77);
    expect(parseStartTimeTicks(statLine(') ) (', 5))).toBe(5);
  });

  it('is undefined for a truncated or garbled line', () => {
    expect(parseStartTimeTicks('4242 (python) S 1 4242')).toBeUndefined();
    expect(parseStartTimeTicks('')).toBeUndefined();
    expect(parseStartTimeTicks(statLine('python', 1).replace(' 1 35127394304', ' x 35127394304'))).toBeUndefined();
  });
});

describe('parseBootTimeSeconds', () => {
  it('reads btime from /proc/stat', () => {
    const procStat = [
      'cpu  10132153 290696 3084719 46828483 16683 0 25195 0 0 0',
      'cpu0 1393280 32966 572056 13343292 6130 0 17875 0 0 0',
      'intr 199292 0 0 0',
      'ctxt 1990473',
      'btime 1718000000',
      'processes 2915',
      'procs_running 1',
      '',
    ].join('\n');
    expect(parseBootTimeSeconds(procStat)).toBe(1718000000);
  });

  it('is undefined without a btime line', () => {
    expect(parseBootTimeSeconds('cpu 1 2 3\n')).toBeUndefined();
  });
});

describe('startTimeSeconds', () => {
  it('adds ticks at 100 per second to the boot time', () => {
    expect(startTimeSeconds(1718000000, 12345)).toBe(1718000123.45);
  });
});
