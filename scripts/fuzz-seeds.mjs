// fuzz-seeds.mjs — seed corpora for the parser fuzzers (scripts/fuzz-parsers.sh) from the
// checkpoints the repo and ../shared hold: each config.json as it is (plus a K2.5-style wrapper of
// it), each index cut to a few entries, and per safetensors file a small complete file of its
// smallest tensors plus that file's header alone. Seeds stay small (the fuzzers' inputs are
// capped at a few KiB so a million runs take minutes) and valid (mutations start from inputs the
// parsers accept).
// Usage: node scripts/fuzz-seeds.mjs OUT_DIR MODEL_DIR...
import fs from 'node:fs';
import path from 'node:path';

// Tensors kept per small complete seed, and the most data bytes they may hold together.
const SMALL_SEED_TENSORS = 6;
const SMALL_SEED_MAX_DATA = 4 << 10;
// weight_map entries kept per index seed (taken across all its shards).
const INDEX_SEED_ENTRIES = 24;

const [outDir, ...modelDirs] = process.argv.slice(2);
if (!outDir || modelDirs.length === 0) {
  console.error('usage: node scripts/fuzz-seeds.mjs OUT_DIR MODEL_DIR...');
  process.exit(2);
}
const dirs = { config: 'config_json', index: 'safetensors_index', st: 'safetensors_header' };
for (const d of Object.values(dirs)) fs.mkdirSync(path.join(outDir, d), { recursive: true });
const put = (kind, name, bytes) => fs.writeFileSync(path.join(outDir, dirs[kind], name), bytes);

function safetensors(header, data) {
  const h = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(h.length));
  return Buffer.concat([len, h, data]);
}

let n = 0;
for (const dir of modelDirs) {
  if (!fs.existsSync(dir)) { console.error(`fuzz-seeds: no ${dir}, skipped`); continue; }
  const tag = path.basename(dir);
  for (const file of fs.readdirSync(dir).sort()) {
    const full = path.join(dir, file);
    if (file === 'config.json') {
      const text = fs.readFileSync(full);
      put('config', `${tag}-config.json`, text);
      const wrapped = { model_type: 'kimi_k25', architectures: ['KimiK25ForConditionalGeneration'],
                        text_config: JSON.parse(text.toString()) };
      put('config', `${tag}-config-k25.json`, JSON.stringify(wrapped));
      n += 2;
    } else if (file.endsWith('.index.json')) {
      const index = JSON.parse(fs.readFileSync(full, 'utf8'));
      const entries = Object.entries(index.weight_map).sort(([a], [b]) => (a < b ? -1 : 1));
      const step = Math.max(1, Math.floor(entries.length / INDEX_SEED_ENTRIES));
      const weight_map = Object.fromEntries(entries.filter((_, i) => i % step === 0).slice(0, INDEX_SEED_ENTRIES));
      put('index', `${tag}-${file}`, JSON.stringify({ ...index, weight_map }, null, 1));
      n += 1;
    } else if (file.endsWith('.safetensors')) {
      const fd = fs.openSync(full, 'r');
      const len = Buffer.alloc(8);
      fs.readSync(fd, len, 0, 8, 0);
      const hlen = Number(len.readBigUInt64LE());
      const hbuf = Buffer.alloc(hlen);
      fs.readSync(fd, hbuf, 0, hlen, 8);
      const header = JSON.parse(hbuf.toString());
      const small = Object.entries(header)
        .filter(([k]) => k !== '__metadata__')
        .map(([k, v]) => ({ k, v, bytes: v.data_offsets[1] - v.data_offsets[0] }))
        .sort((a, b) => a.bytes - b.bytes || (a.k < b.k ? -1 : 1));
      const keep = {};
      if (header.__metadata__) keep.__metadata__ = header.__metadata__;
      const parts = [];
      let off = 0;
      for (const t of small.slice(0, SMALL_SEED_TENSORS)) {
        if (off + t.bytes > SMALL_SEED_MAX_DATA) break;
        const b = Buffer.alloc(t.bytes);
        fs.readSync(fd, b, 0, t.bytes, 8 + hlen + t.v.data_offsets[0]);
        keep[t.k] = { ...t.v, data_offsets: [off, off + t.bytes] };
        parts.push(b);
        off += t.bytes;
      }
      fs.closeSync(fd);
      put('st', `${tag}-${file}-small`, safetensors(keep, Buffer.concat(parts)));
      put('st', `${tag}-${file}-small-header`, safetensors(keep, Buffer.alloc(0)));
      n += 2;
    }
  }
}
console.log(`fuzz-seeds: ${n} seeds in ${outDir}`);
