// Byte helpers shared by the driver and the redactor.

// One array of the chunks' bytes, in order (the chunk itself when alone).
export function concat(chunks) {
  if (chunks.length === 1) return chunks[0];
  let size = 0;
  for (const c of chunks) size += c.byteLength;
  const out = new Uint8Array(size);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.byteLength;
  }
  return out;
}
