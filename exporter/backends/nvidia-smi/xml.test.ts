import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { H100_RECORDED_BOARD } from '../../../test/h100-readings.js';
import { SourceError, type GpuReading } from '../../types.js';
import { parseSmiXml } from './xml.js';
import { GPU_ELEMENT_PATHS } from './xml-reading.js';
import { UNREAD_SECTIONS, withoutUnreadSections } from './xml-skip.js';

const FIXTURES = new URL('../../../test/fixtures/nvidia-smi/h100-80gb-hbm3-driver-580/', import.meta.url);
const fixture = (name: string) => readFileSync(new URL(name, FIXTURES), 'utf8');
const MIB = 1_048_576;

function expectParseError(text: string, messagePart?: string | RegExp): SourceError {
  let caught: unknown;
  try {
    parseSmiXml(text);
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(SourceError);
  const sourceError = caught as SourceError;
  expect(sourceError.reason).toBe('parse');
  if (messagePart !== undefined) expect(sourceError.message).toMatch(messagePart);
  return sourceError;
}

/** Values shared by all three H100 recordings. */
const H100_COMMON: Partial<GpuReading> = {
  index: 0,
  name: 'NVIDIA H100 80GB HBM3',
  busId: '00000000:00:06.0',
  driverVersion: '580.159.04',
  memoryTotalBytes: 81559 * MIB,
  powerLimitWatts: 700,
  memoryClockHertz: 2619e6,
  performanceState: 0,
  ecc: { correctedVolatile: 0, correctedAggregate: 0, uncorrectedVolatile: 0, uncorrectedAggregate: 0 },
  remappedRows: { correctable: 0, uncorrectable: 0, pending: false, failure: false },
  pcieReplays: 0,
  migMode: false,
  ...H100_RECORDED_BOARD,
};

const reasons = (active: string[]) => ({
  gpu_idle: active.includes('gpu_idle'),
  applications_clocks_setting: false,
  sw_power_cap: active.includes('sw_power_cap'),
  hw_slowdown: false,
  hw_thermal_slowdown: false,
  hw_power_brake_slowdown: false,
  sync_boost: false,
  sw_thermal_slowdown: false,
  display_clocks_setting: false,
});

describe('parseSmiXml on the recorded H100 documents', () => {
  it('reads q-idle.xml', () => {
    expect(parseSmiXml(fixture('q-idle.xml'))).toEqual([
      {
        ...H100_COMMON,
        uuid: 'GPU-46c48243-40b2-7121-5852-ddeebd67760c',
        utilizationRatio: 0,
        memoryUtilizationRatio: 0,
        memoryUsedBytes: 0,
        memoryFreeBytes: 81079 * MIB,
        temperatureCelsius: 36,
        memoryTemperatureCelsius: 36,
        powerUsageWatts: 122.41,
        smClockHertz: 1980e6,
        clockEventReasons: reasons(['gpu_idle']),
        processes: [],
      },
    ]);
  });

  it('reads q-busy.xml, including the listed compute process', () => {
    expect(parseSmiXml(fixture('q-busy.xml'))).toEqual([
      {
        ...H100_COMMON,
        uuid: 'GPU-46c48243-40b2-7121-5852-ddeebd67760c',
        utilizationRatio: 1,
        memoryUtilizationRatio: 0.33,
        memoryUsedBytes: 20213 * MIB,
        memoryFreeBytes: 60867 * MIB,
        temperatureCelsius: 55,
        memoryTemperatureCelsius: 46,
        // average_power_draw (699.50 W) is preferred over instant_power_draw (668.80 W).
        powerUsageWatts: 699.5,
        smClockHertz: 1350e6,
        clockEventReasons: reasons(['sw_power_cap']),
        processes: [{ pid: 633, name: 'python3', usedMemoryBytes: 20204 * MIB }],
      },
    ]);
  });

  it('reads q-busy-2.xml (the other machine)', () => {
    expect(parseSmiXml(fixture('q-busy-2.xml'))).toEqual([
      {
        ...H100_COMMON,
        uuid: 'GPU-965f6752-50c3-d610-d7ce-6a93e5f52882',
        utilizationRatio: 1,
        memoryUtilizationRatio: 0.31,
        memoryUsedBytes: 12457 * MIB,
        memoryFreeBytes: 68623 * MIB,
        temperatureCelsius: 65,
        memoryTemperatureCelsius: 58,
        powerUsageWatts: 692.83,
        smClockHertz: 1485e6,
        clockEventReasons: reasons(['sw_power_cap']),
        processes: [{ pid: 408, name: 'python3', usedMemoryBytes: 12448 * MIB }],
      },
    ]);
  });

  it('leaves N/A retired pages absent instead of 0 (H100 uses row remapping)', () => {
    const [gpu] = parseSmiXml(fixture('q-busy.xml'));
    expect(fixture('q-busy.xml')).toContain('<retired_count>N/A</retired_count>');
    expect(gpu).not.toHaveProperty('retiredPages');
    expect(gpu).not.toHaveProperty('energyJoules');
  });
});

/** A two-GPU document in the pre-R535 layout (hand-written after that layout, not recorded). */
const OLD_LAYOUT = `<?xml version="1.0" ?>
<!DOCTYPE nvidia_smi_log SYSTEM "nvsmi_device_v11.dtd">
<nvidia_smi_log>
	<timestamp>Mon Mar  6 10:00:00 2023</timestamp>
	<driver_version>470.182.03</driver_version>
	<attached_gpus>2</attached_gpus>
	<gpu id="00000000:3B:00.0">
		<product_name>Tesla V100-SXM2-32GB</product_name>
		<uuid>GPU-11111111-2222-3333-4444-555555555555</uuid>
		<minor_number>1</minor_number>
		<pci>
			<pci_bus_id>00000000:3B:00.0</pci_bus_id>
			<replay_counter>7</replay_counter>
			<replay_rollover_counter>0</replay_rollover_counter>
		</pci>
		<performance_state>P2</performance_state>
		<clocks_throttle_reasons>
			<clocks_throttle_reason_gpu_idle>Not Active</clocks_throttle_reason_gpu_idle>
			<clocks_throttle_reason_applications_clocks_setting>Not Active</clocks_throttle_reason_applications_clocks_setting>
			<clocks_throttle_reason_sw_power_cap>Active</clocks_throttle_reason_sw_power_cap>
			<clocks_throttle_reason_hw_slowdown>Not Active</clocks_throttle_reason_hw_slowdown>
			<clocks_throttle_reason_hw_thermal_slowdown>Not Active</clocks_throttle_reason_hw_thermal_slowdown>
			<clocks_throttle_reason_hw_power_brake_slowdown>Not Active</clocks_throttle_reason_hw_power_brake_slowdown>
			<clocks_throttle_reason_sync_boost>Not Active</clocks_throttle_reason_sync_boost>
			<clocks_throttle_reason_sw_thermal_slowdown>Active</clocks_throttle_reason_sw_thermal_slowdown>
			<clocks_throttle_reason_display_clocks_setting>Not Active</clocks_throttle_reason_display_clocks_setting>
		</clocks_throttle_reasons>
		<fb_memory_usage>
			<total>32510 MiB</total>
			<used>1024 MiB</used>
			<free>31486 MiB</free>
		</fb_memory_usage>
		<utilization>
			<gpu_util>87 %</gpu_util>
			<memory_util>45 %</memory_util>
		</utilization>
		<ecc_errors>
			<volatile>
				<single_bit>
					<device_memory>3</device_memory>
					<register_file>2</register_file>
					<texture_memory>N/A</texture_memory>
					<total>5</total>
				</single_bit>
				<double_bit>
					<device_memory>1</device_memory>
					<register_file>0</register_file>
					<total>1</total>
				</double_bit>
			</volatile>
			<aggregate>
				<single_bit>
					<total>12</total>
				</single_bit>
				<double_bit>
					<total>2</total>
				</double_bit>
			</aggregate>
		</ecc_errors>
		<retired_pages>
			<multiple_single_bit_retirement>
				<retired_count>2</retired_count>
				<retired_pagelist>
					<retired_page_address>0x00000000000a1b2c</retired_page_address>
				</retired_pagelist>
			</multiple_single_bit_retirement>
			<double_bit_retirement>
				<retired_count>1</retired_count>
				<retired_pagelist>N/A</retired_pagelist>
			</double_bit_retirement>
			<pending_blacklist>Yes</pending_blacklist>
		</retired_pages>
		<remapped_rows>N/A</remapped_rows>
		<temperature>
			<gpu_temp>61 C</gpu_temp>
			<gpu_temp_max_threshold>90 C</gpu_temp_max_threshold>
			<memory_temp>N/A</memory_temp>
		</temperature>
		<power_readings>
			<power_state>P2</power_state>
			<power_management>Supported</power_management>
			<power_draw>250.31 W</power_draw>
			<power_limit>300.00 W</power_limit>
			<default_power_limit>300.00 W</default_power_limit>
			<enforced_power_limit>290.00 W</enforced_power_limit>
		</power_readings>
		<clocks>
			<graphics_clock>1530 MHz</graphics_clock>
			<sm_clock>1530 MHz</sm_clock>
			<mem_clock>877 MHz</mem_clock>
		</clocks>
		<processes>
			<process_info>
				<pid>4242</pid>
				<type>C</type>
				<process_name>/usr/bin/python3</process_name>
				<used_memory>1020 MiB</used_memory>
			</process_info>
			<process_info>
				<pid>4243</pid>
				<type>C</type>
				<process_name>worker</process_name>
				<used_memory>N/A</used_memory>
			</process_info>
		</processes>
	</gpu>
	<gpu id="00000000:86:00.0">
		<product_name>A100-SXM4-40GB</product_name>
		<uuid>GPU-66666666-7777-8888-9999-000000000000</uuid>
		<minor_number>0</minor_number>
		<ecc_errors>
			<volatile>
				<sram_correctable>1</sram_correctable>
				<sram_uncorrectable>0</sram_uncorrectable>
				<dram_correctable>4</dram_correctable>
				<dram_uncorrectable>2</dram_uncorrectable>
			</volatile>
			<aggregate>
				<sram_correctable>N/A</sram_correctable>
				<sram_uncorrectable>N/A</sram_uncorrectable>
				<dram_correctable>N/A</dram_correctable>
				<dram_uncorrectable>N/A</dram_uncorrectable>
			</aggregate>
		</ecc_errors>
		<remapped_rows>
			<correctable_rows>3</correctable_rows>
			<uncorrectable_rows>1</uncorrectable_rows>
			<pending>Yes</pending>
			<remapping_failure_occurred>No</remapping_failure_occurred>
		</remapped_rows>
		<power_readings>
			<power_state>P0</power_state>
			<power_draw>N/A</power_draw>
			<power_limit>400.00 W</power_limit>
		</power_readings>
		<processes>
		</processes>
	</gpu>
</nvidia_smi_log>
`;

describe('parseSmiXml on the older layout', () => {
  const [v100, a100] = parseSmiXml(OLD_LAYOUT);

  it('numbers GPUs by document order, not by minor_number', () => {
    expect(v100?.index).toBe(0);
    expect(a100?.index).toBe(1);
  });

  it('maps clocks_throttle_reasons, single/double-bit ECC, retired pages and power_readings', () => {
    expect(v100).toEqual({
      index: 0,
      uuid: 'GPU-11111111-2222-3333-4444-555555555555',
      name: 'Tesla V100-SXM2-32GB',
      busId: '00000000:3B:00.0',
      driverVersion: '470.182.03',
      utilizationRatio: 0.87,
      memoryUtilizationRatio: 0.45,
      memoryTotalBytes: 32510 * MIB,
      memoryUsedBytes: 1024 * MIB,
      memoryFreeBytes: 31486 * MIB,
      temperatureCelsius: 61,
      powerUsageWatts: 250.31,
      powerLimitWatts: 290,
      powerDefaultLimitWatts: 300,
      smClockHertz: 1530e6,
      memoryClockHertz: 877e6,
      performanceState: 2,
      clockEventReasons: {
        gpu_idle: false,
        applications_clocks_setting: false,
        sw_power_cap: true,
        hw_slowdown: false,
        hw_thermal_slowdown: false,
        hw_power_brake_slowdown: false,
        sync_boost: false,
        sw_thermal_slowdown: true,
        display_clocks_setting: false,
      },
      ecc: { correctedVolatile: 5, uncorrectedVolatile: 1, correctedAggregate: 12, uncorrectedAggregate: 2 },
      retiredPages: { singleBit: 2, doubleBit: 1, pending: true },
      pcieReplays: 7,
      processes: [
        { pid: 4242, name: '/usr/bin/python3', usedMemoryBytes: 1020 * MIB },
        { pid: 4243, name: 'worker' },
      ],
    });
  });

  it('sums SRAM and DRAM ECC parts, and leaves a scope absent when every part is N/A', () => {
    expect(a100?.ecc).toEqual({ correctedVolatile: 5, uncorrectedVolatile: 2 });
  });

  it('reads the older remapped-row names and falls back to power_limit', () => {
    expect(a100?.remappedRows).toEqual({ correctable: 3, uncorrectable: 1, pending: true, failure: false });
    expect(a100?.powerLimitWatts).toBe(400);
    expect(a100?.powerUsageWatts).toBeUndefined();
    expect(a100?.performanceState).toBe(0);
    expect(a100?.processes).toEqual([]);
  });
});

describe('parseSmiXml layout variants', () => {
  const withGpu = (body: string) =>
    `<nvidia_smi_log><driver_version>535.104.05</driver_version><gpu id="0000:01:00.0"><uuid>GPU-x</uuid>${body}</gpu></nvidia_smi_log>`;

  it('reads R535-style gpu_power_readings with power_draw and current_power_limit', () => {
    const [gpu] = parseSmiXml(
      withGpu(
        '<gpu_power_readings><power_state>P8</power_state><power_draw>61.20 W</power_draw>' +
          '<current_power_limit>450.00 W</current_power_limit></gpu_power_readings>',
      ),
    );
    expect(gpu).toMatchObject({ powerUsageWatts: 61.2, powerLimitWatts: 450, performanceState: 8 });
  });

  it('splits SRAM uncorrectable into parity and SEC-DED without double counting', () => {
    const [gpu] = parseSmiXml(
      withGpu(
        '<ecc_errors><volatile><sram_uncorrectable>9</sram_uncorrectable>' +
          '<sram_uncorrectable_parity>1</sram_uncorrectable_parity>' +
          '<sram_uncorrectable_secded>2</sram_uncorrectable_secded>' +
          '<dram_uncorrectable>4</dram_uncorrectable></volatile></ecc_errors>',
      ),
    );
    expect(gpu?.ecc).toEqual({ uncorrectedVolatile: 7 });
  });

  it('treats a placeholder <processes> as an unknown list, an absent one as not listed', () => {
    expect(parseSmiXml(withGpu('<processes>N/A</processes>'))[0]).not.toHaveProperty('processes');
    expect(parseSmiXml(withGpu(''))[0]).not.toHaveProperty('processes');
  });

  it('ignores wanted element names met at other places and unknown elements', () => {
    const [gpu] = parseSmiXml(withGpu('<future><uuid>GPU-other</uuid><gpu_util>5 %</gpu_util></future><utilization><gpu_util>5 %</gpu_util></utilization>'));
    expect(gpu).toEqual({ index: 0, uuid: 'GPU-x', busId: '0000:01:00.0', driverVersion: '535.104.05', utilizationRatio: 0.05 });
  });

  it('decodes entities and CDATA in text', () => {
    const [gpu] = parseSmiXml(
      withGpu(
        '<product_name>A &amp; B</product_name><processes><process_info><pid>1</pid>' +
          '<process_name><![CDATA[a<b]]></process_name></process_info></processes>',
      ),
    );
    expect(gpu?.name).toBe('A & B');
    expect(gpu?.processes).toEqual([{ pid: 1, name: 'a<b' }]);
  });

  it('accepts a document without GPUs', () => {
    expect(parseSmiXml('<?xml version="1.0" ?>\n<nvidia_smi_log><attached_gpus>0</attached_gpus></nvidia_smi_log>\n')).toEqual([]);
  });
});

describe('parseSmiXml failures', () => {
  it('rejects a truncated recording', () => {
    const text = fixture('q-busy.xml');
    expectParseError(text.slice(0, text.length / 2), /malformed or truncated.*unclosed tag/);
    // Cut inside <supported_clocks>, the section the parser passes over unread.
    expectParseError(text.slice(0, text.indexOf('<supported_graphics_clock>1500 MHz')), /unclosed tag/);
  });

  it('rejects empty output and a foreign root element', () => {
    expectParseError('', /root element/);
    expectParseError("NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.");
    expectParseError('<html><body>no</body></html>', /unexpected root element <html>/);
    expect(parseSmiXml('<nvidia_smi_log><gpu id="x"><uuid>N/A</uuid></gpu></nvidia_smi_log>')).toEqual([]);
  });

  it('rejects mismatched tags, even inside sections it does not read', () => {
    expectParseError('<nvidia_smi_log><gpu><uuid>GPU-1</uuid></gpu></nvidia_smi_log><extra/>', /only one root/);
    expectParseError('<nvidia_smi_log><gpu><uuid>GPU-1</gpu></uuid></nvidia_smi_log>');
    expectParseError('<nvidia_smi_log><gpu><uuid>GPU-1</uuid><fabric><state>N/A</state></gpu></nvidia_smi_log>');
  });
});

describe('the unread sections', () => {
  it('never lie on a path the reader needs', () => {
    for (const path of GPU_ELEMENT_PATHS) {
      for (const step of path.split('/')) expect(UNREAD_SECTIONS).not.toContain(step);
    }
  });

  it('are emptied only when they close inside their <gpu>', () => {
    expect(withoutUnreadSections('<gpu><fabric><state>N/A</state></fabric><uuid>u</uuid></gpu>')).toBe('<gpu><fabric></fabric><uuid>u</uuid></gpu>');
    const straddling = '<gpu><fabric><state>N/A</state></gpu><gpu><fabric></fabric></gpu>';
    expect(withoutUnreadSections(straddling)).toBe(straddling);
    const unclosed = '<gpu><supported_clocks><value>1 MHz</value>';
    expect(withoutUnreadSections(unclosed)).toBe(unclosed);
    const busy = fixture('q-busy.xml');
    expect(withoutUnreadSections(busy).length).toBeLessThan(busy.length / 2);
  });

  it('make no difference to the result', () => {
    const text = fixture('q-busy.xml');
    // Renaming the open/close tags turns the skipping off for those sections.
    let unskipped = text;
    for (const name of UNREAD_SECTIONS) {
      unskipped = unskipped.replaceAll(`<${name}>`, `<${name}_x>`).replaceAll(`</${name}>`, `</${name}_x>`);
    }
    expect(unskipped).not.toBe(text);
    expect(parseSmiXml(unskipped)).toEqual(parseSmiXml(text));
  });
});
