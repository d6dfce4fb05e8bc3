// A ZIP archive of stored (uncompressed) files: the page's "download" hands over a whole run folder
// in one file (browsers ask before a page starts several downloads at once). Safetensors weights
// barely compress, so storing costs little. `readZip` reads such archives back (the browser test
// unpacks the download with it).

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(b: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < b.length; i++) c = CRC_TABLE[(c ^ b[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** Files (paths with '/') → the bytes of a ZIP archive holding them stored. */
export function zipStore(files: { name: string; bytes: Uint8Array }[]): Uint8Array<ArrayBuffer> {
  const enc = new TextEncoder();
  const parts: Uint8Array[] = [], central: Uint8Array[] = [];
  let offset = 0;
  for (const f of files) {
    const name = enc.encode(f.name), crc = crc32(f.bytes), n = f.bytes.length;
    const local = new Uint8Array(30 + name.length), v = new DataView(local.buffer);
    v.setUint32(0, 0x04034b50, true);
    v.setUint16(4, 20, true); // version needed: 2.0
    v.setUint16(6, 0x0800, true); // UTF-8 names
    v.setUint16(8, 0, true); // stored
    v.setUint32(14, crc, true);
    v.setUint32(18, n, true);
    v.setUint32(22, n, true);
    v.setUint16(26, name.length, true);
    local.set(name, 30);
    const cd = new Uint8Array(46 + name.length), w = new DataView(cd.buffer);
    w.setUint32(0, 0x02014b50, true);
    w.setUint16(4, 20, true);
    w.setUint16(6, 20, true);
    w.setUint16(8, 0x0800, true);
    w.setUint32(16, crc, true);
    w.setUint32(20, n, true);
    w.setUint32(24, n, true);
    w.setUint16(28, name.length, true);
    w.setUint32(42, offset, true);
    cd.set(name, 46);
    parts.push(local, f.bytes);
    central.push(cd);
    offset += local.length + n;
  }
  const cdSize = central.reduce((a, c) => a + c.length, 0);
  const end = new Uint8Array(22), e = new DataView(end.buffer);
  e.setUint32(0, 0x06054b50, true);
  e.setUint16(8, files.length, true);
  e.setUint16(10, files.length, true);
  e.setUint32(12, cdSize, true);
  e.setUint32(16, offset, true);
  const out = new Uint8Array(offset + cdSize + end.length);
  let at = 0;
  for (const p of [...parts, ...central, end]) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** The stored files of a ZIP archive written by zipStore (checks each CRC). */
export function readZip(zip: Uint8Array): { name: string; bytes: Uint8Array }[] {
  const v = new DataView(zip.buffer, zip.byteOffset, zip.byteLength), dec = new TextDecoder();
  const out: { name: string; bytes: Uint8Array }[] = [];
  let at = 0;
  while (at + 4 <= zip.length && v.getUint32(at, true) === 0x04034b50) {
    if (v.getUint16(at + 8, true) !== 0) throw new Error('readZip: only stored (uncompressed) entries are supported.');
    const crc = v.getUint32(at + 14, true), n = v.getUint32(at + 18, true);
    const nameLen = v.getUint16(at + 26, true), extra = v.getUint16(at + 28, true);
    const name = dec.decode(zip.subarray(at + 30, at + 30 + nameLen));
    const bytes = zip.subarray(at + 30 + nameLen + extra, at + 30 + nameLen + extra + n);
    if (crc32(bytes) !== crc) throw new Error(`readZip: ${name} is damaged (CRC mismatch).`);
    out.push({ name, bytes });
    at += 30 + nameLen + extra + n;
  }
  return out;
}
