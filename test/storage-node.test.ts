// The browser storage functions in Node: Blob / File round trips work (Node has Blob and File), the
// IndexedDB ones say that there is no IndexedDB here, and importing the package touches no browser global.
import { beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import {
  init,
  LstmVae,
  modelToBlob,
  modelFromBlob,
  modelFromFile,
  saveToIndexedDB,
  loadFromIndexedDB,
  listModels,
  deleteModel,
  IOError,
  FormatError,
  ConfigError,
} from '../dist/index.node.js';
import { sameBits } from './shared/numeric.js';

beforeAll(async () => {
  await init();
});

describe('browser storage API in Node', () => {
  it('modelToBlob / modelFromBlob / modelFromFile round trip bit for bit', async () => {
    const m = new LstmVae({ features: 2, hidden: 4, latent: 2, seed: 3 });
    const blob = modelToBlob(m);
    expect(blob.type).toBe('application/octet-stream');
    const a = await modelFromBlob(blob);
    expect(sameBits(a.toSafetensors(), m.toSafetensors())).toBe(true);
    const b = await modelFromFile(new File([await blob.arrayBuffer()], 'm.safetensors'));
    expect(sameBits(b.toSafetensors(), m.toSafetensors())).toBe(true);
    await expect(modelFromBlob(new Blob([new Uint8Array(20)]))).rejects.toThrowError(FormatError);
    await expect(modelFromBlob('m.safetensors' as never)).rejects.toThrowError(ConfigError);
    expect(() => modelToBlob({} as never)).toThrowError(ConfigError);
    m.dispose();
    a.dispose();
    b.dispose();
  });

  it('the IndexedDB functions give an IOError saying there is no IndexedDB', async () => {
    const m = new LstmVae({ features: 2, hidden: 4, latent: 2 });
    await expect(saveToIndexedDB(m, 'x')).rejects.toThrowError(IOError);
    await expect(saveToIndexedDB(m, 'x')).rejects.toThrowError(/IndexedDB is not available.*saveModel/);
    await expect(loadFromIndexedDB('x')).rejects.toThrowError(IOError);
    await expect(listModels()).rejects.toThrowError(IOError);
    await expect(deleteModel('x')).rejects.toThrowError(IOError);
    m.dispose();
  });

  it('importing either entry in Node touches no IndexedDB (or other browser storage) global', () => {
    for (const entry of ['dist/index.node.js', 'dist/index.node.cjs']) {
      const probe = `
        for (const name of ['indexedDB', 'IDBKeyRange', 'IDBFactory', 'localStorage', 'window']) {
          try { Object.defineProperty(globalThis, name, { configurable: true, get() { throw new Error('read ' + name); } }); } catch {}
        }
        const m = ${entry.endsWith('.cjs') ? `require(${JSON.stringify(resolve(entry))})` : `await import(${JSON.stringify(resolve(entry))})`};
        if (typeof m.saveToIndexedDB !== 'function') throw new Error('not exported');
        console.log('ok');`;
      const cjs = `(async () => {${probe.replace('await import', 'require')}})().catch((e) => { console.error(e.message); process.exit(1); })`;
      const args = entry.endsWith('.cjs') ? ['-e', cjs] : ['--input-type=module', '-e', probe];
      const r = spawnSync(process.execPath, args, { encoding: 'utf8' });
      expect(r.stderr + r.stdout, entry).toContain('ok');
      expect(r.status, r.stderr).toBe(0);
    }
  });
});
