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
  'pci_bridge_chip',
  'row_remapper_histogram',
  'aggregate_uncorrectable_sram_sources',
];

/** An unread section's open or close tag, or the end of a `<gpu>`. */
const SECTION_TAG = new RegExp(`<(/?)(${UNREAD_SECTIONS.join('|')})>|</gpu>`, 'g');

/**
 * `text` without the content of its UNREAD_SECTIONS elements. A section is only emptied when its
 * close tag comes before the end of the enclosing `<gpu>`; anything else (truncated or malformed
 * input) is kept as it is for the parser to report. One pass over the text, however malformed:
 * each tag is looked at once, and nothing is searched for again. The result is one flat string,
 * which the parser scans faster than a series of slices.
 */
export function withoutUnreadSections(text: string): string {
  const tags = new RegExp(SECTION_TAG.source, 'g');
  const pieces: string[] = [];
  let position = 0;
  /** The unread section whose close tag we are looking for, and where its content starts. */
  let open: { name: string; contentStart: number } | undefined;
  for (let match = tags.exec(text); match !== null; match = tags.exec(text)) {
    const [tag, slash, name] = match;
    if (name === undefined) {
      open = undefined; // `</gpu>` came first: that section stays as it is
    } else if (open === undefined) {
      if (slash === '') open = { name, contentStart: match.index + tag.length };
    } else if (slash === '/' && name === open.name) {
      pieces.push(text.slice(position, open.contentStart));
      position = match.index;
      open = undefined;
    }
  }
  if (position === 0) return text;
  pieces.push(text.slice(position));
  return pieces.join('');
}
