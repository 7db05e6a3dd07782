/**
 * Value converters shared by the XML (`-q -x`) and CSV (`--query-gpu`) readers.
 *
 * nvidia-smi writes "N/A", "[N/A]", "[Not Supported]", "[Unknown Error]",
 * "Requested functionality has been deprecated" and similar placeholders where a value is missing.
 * Every converter here answers `undefined` for anything it cannot read as the expected type, so a
 * placeholder can never turn into a 0.
 */

/** Bytes in one MiB, the unit nvidia-smi reports memory in. */
export const MIB = 1_048_576;
/** Hertz in one MHz, the unit nvidia-smi reports clocks in. */
export const MHZ = 1_000_000;

const NUMBER_WITH_UNIT = /^(-?\d+(?:\.\d+)?)(?:\s*(\S+))?$/;

/** A free-text value (name, uuid, bus id), or undefined for nvidia-smi's placeholders. */
export function readText(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const value = raw.trim();
  if (value === '' || value === 'N/A' || value.startsWith('[')) return undefined;
  if (value === 'Requested functionality has been deprecated') return undefined;
  return value;
}

/**
 * A number, optionally followed by `unit` (XML and `--format=csv` carry units, `nounits` does not),
 * multiplied by `scale`. A different unit than the expected one reads as absent rather than as a
 * silently mis-scaled number.
 */
export function readNumber(raw: string | undefined, unit = '', scale = 1): number | undefined {
  if (raw === undefined) return undefined;
  const match = NUMBER_WITH_UNIT.exec(raw.trim());
  if (match === null) return undefined;
  const foundUnit = match[2];
  if (foundUnit !== undefined && foundUnit !== unit) return undefined;
  const value = Number(match[1]) * scale;
  return Number.isFinite(value) ? value : undefined;
}

/** A percentage ("33 %" or "33") as a 0..1 ratio. */
export function readPercentAsRatio(raw: string | undefined): number | undefined {
  const percent = readNumber(raw, '%');
  return percent === undefined ? undefined : percent / 100;
}

/** MiB ("20204 MiB" or "20204") as bytes. */
export function readMibAsBytes(raw: string | undefined): number | undefined {
  return readNumber(raw, 'MiB', MIB);
}

/** MHz ("1350 MHz" or "1350") as hertz. */
export function readMhzAsHertz(raw: string | undefined): number | undefined {
  return readNumber(raw, 'MHz', MHZ);
}

/** A non-negative whole number (an index, a pid, an instance id, a link generation). */
export function readCount(raw: string | undefined): number | undefined {
  const value = readNumber(raw);
  return value !== undefined && Number.isInteger(value) && value >= 0 ? value : undefined;
}

/**
 * A device counter (ECC errors, remapped rows, retired pages, replays): a whole number, kept even
 * when negative, so that the exporter's reading checks drop it and count it as impossible.
 */
export function readCounter(raw: string | undefined): number | undefined {
  const value = readNumber(raw);
  return value !== undefined && Number.isInteger(value) ? value : undefined;
}

/** Performance state "P0" … "P15" as its number. */
export function readPerformanceState(raw: string | undefined): number | undefined {
  const match = /^P(\d{1,2})$/.exec(raw?.trim() ?? '');
  return match === null ? undefined : Number(match[1]);
}

/** "Yes" / "No". */
export function readYesNo(raw: string | undefined): boolean | undefined {
  const value = raw?.trim();
  if (value === 'Yes') return true;
  if (value === 'No') return false;
  return undefined;
}

/** "Active" / "Not Active", as clock-event reasons are written. */
export function readActive(raw: string | undefined): boolean | undefined {
  const value = raw?.trim();
  if (value === 'Active') return true;
  if (value === 'Not Active') return false;
  return undefined;
}

/** A hexadecimal bitmask such as "0x00000000000001FF" (64 bits wide, hence bigint). */
export function readHexMask(raw: string | undefined): bigint | undefined {
  const value = raw?.trim() ?? '';
  if (!/^0x[0-9a-fA-F]{1,16}$/.test(value)) return undefined;
  return BigInt(value);
}

/**
 * Sum of the parts that are present; undefined only when every part is absent. A negative part
 * (an impossible count) makes the sum that part, so it is not hidden inside a plausible total.
 */
export function sumPresent(...parts: (number | undefined)[]): number | undefined {
  let total: number | undefined;
  for (const part of parts) {
    if (part !== undefined && part < 0) return part;
    if (part !== undefined) total = (total ?? 0) + part;
  }
  return total;
}
