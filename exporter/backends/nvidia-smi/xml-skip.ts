/**
 * Passing over the parts of `nvidia-smi -q -x` that we never read, without tokenising them.
 *
 * Two thirds of each `<gpu>` is in sections no reading uses (`<supported_clocks>` alone lists every
 * clock pair and is over half of it). Their content is cut out before the text reaches the XML
 * parser; their open and close tags still reach it, so the document structure is still checked
 * (though not the well-formedness of what is cut out). This more than halves the parse time of a
 * multi-GPU document.
 */

/**
 * Elements inside `<gpu>` that we never read, worth skipping because they are long or many-lined.
 * None of them may lie on a wanted path (a test checks this against xml-reading.ts).
 */
export const UNREAD_SECTIONS: readonly string[] = [
  'supported_clocks',
  'clocks_event_reasons_counters',
  'fabric',
  'module_power_readings',
  'platformInfo',
  'gpu_virtualization_mode',
  'max_clocks',
  'power_profiles',
  'inforom_version',
  'dram_encryption_mode',
  'encoder_stats',
  'fbc_stats',
  'gpu_memory_power_readings',
  'supported_gpu_target_temp',
  // Unread parts of sections that we do read.
  'pci_gpu_link_info',
  'pci_bridge_chip',
  'row_remapper_histogram',
  'aggregate_uncorrectable_sram_sources',
];

const UNREAD_OPEN_TAG = `<(${UNREAD_SECTIONS.join('|')})>`;
const GPU_CLOSE_TAG = '</gpu>';

/**
 * `text` without the content of its UNREAD_SECTIONS elements. A section is only emptied when its
 * close tag comes before the end of the enclosing `<gpu>`; anything else (truncated or malformed
 * input) is kept as it is for the parser to report. The result is one flat string, which the
 * parser scans faster than a series of slices.
 */
export function withoutUnreadSections(text: string): string {
  const openTag = new RegExp(UNREAD_OPEN_TAG, 'g');
  const pieces: string[] = [];
  let position = 0;
  let nextGpuClose = -1;
  for (let match = openTag.exec(text); match !== null; match = openTag.exec(text)) {
    const contentStart = match.index + match[0].length;
    const contentEnd = text.indexOf(`</${match[1]}>`, contentStart);
    if (contentEnd === -1) break;
    if (nextGpuClose < contentStart) nextGpuClose = text.indexOf(GPU_CLOSE_TAG, contentStart);
    if (nextGpuClose !== -1 && contentEnd > nextGpuClose) continue;
    pieces.push(text.slice(position, contentStart));
    position = contentEnd;
    openTag.lastIndex = contentEnd;
  }
  if (position === 0) return text;
  pieces.push(text.slice(position));
  return pieces.join('');
}
