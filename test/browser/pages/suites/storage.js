// Models as Blobs / Files and in IndexedDB (modelToBlob, modelFromBlob, modelFromFile,
// saveToIndexedDB, loadFromIndexedDB, listModels, deleteModel) with the built package.
import * as lv from '/dist/index.js';
import { assert, assertEq, assertRejects } from '../harness.js';

export const name = 'model storage';

function sameBytes(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Puts a raw value under a key of the package's IndexedDB store (to simulate a damaged entry). */
function putRaw(key, value) {
  return new Promise((resolve, reject) => {
    const open = indexedDB.open('lstm-vae');
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const tx = open.result.transaction('models', 'readwrite');
      tx.objectStore('models').put(value, key);
      tx.oncomplete = () => {
        open.result.close();
        resolve();
      };
      tx.onerror = () => reject(tx.error);
    };
  });
}

export default function (test, ctx) {
  const p = `${ctx.where}-`; // one origin's IndexedDB is shared by the page and its Workers
  const x = { data: Float32Array.from({ length: 2 * 5 * 3 }, (_, i) => Math.sin(i)), shape: [2, 5, 3] };

  test('modelToBlob / modelFromBlob / modelFromFile round trip bit for bit', async () => {
    await lv.init();
    const m = new lv.LstmVae({ features: 3, hidden: 6, latent: 2, layers: 2, seed: 4 });
    m.metadata = { threshold: 1.5 };
    const bytes = m.toSafetensors();
    const blob = lv.modelToBlob(m);
    assert(blob instanceof Blob, 'a Blob');
    assertEq(blob.type, 'application/octet-stream', 'Blob type');
    assertEq(blob.size, bytes.length, 'Blob size');
    const a = await lv.modelFromBlob(blob);
    assert(sameBytes(a.toSafetensors(), bytes), 'modelFromBlob gives the same file');
    assertEq(JSON.stringify(a.metadata), '{"threshold":1.5}', 'metadata');
    const file = new File([await blob.arrayBuffer()], 'model.safetensors', { type: 'application/octet-stream' });
    const b = await lv.modelFromFile(file);
    assert(sameBytes(b.toSafetensors(), bytes), 'modelFromFile gives the same file');
    const ya = b.reconstruct(x),
      ym = m.reconstruct(x);
    for (let i = 0; i < ya.length; i++) assert(Object.is(ya[i], ym[i]), `reconstruction ${i} identical`);
    m.dispose();
    a.dispose();
    b.dispose();
  });

  test('modelFromBlob: FormatError for a damaged file, ConfigError for a non-Blob', async () => {
    await lv.init();
    const m = new lv.LstmVae({ features: 2, hidden: 4, latent: 2 });
    const bytes = m.toSafetensors();
    await assertRejects(lv.modelFromBlob(new Blob([bytes.subarray(0, bytes.length - 9)])), 'FormatError');
    await assertRejects(lv.modelFromBlob(new Blob([new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9])])), 'FormatError');
    await assertRejects(lv.modelFromFile(new File([], 'empty.safetensors')), 'FormatError', /too short/);
    await assertRejects(lv.modelFromBlob('model.safetensors'), 'ConfigError', /Blob or a File/);
    m.dispose();
  });

  test('saveToIndexedDB / listModels / loadFromIndexedDB / deleteModel', async () => {
    await lv.init();
    for (const info of await lv.listModels()) if (info.name.startsWith(p)) await lv.deleteModel(info.name);
    const a = new lv.LstmVae({ features: 3, hidden: 6, latent: 2, seed: 1 });
    const tok = lv.CharTokenizer.fit(['ada', 'bob', 'cyd']);
    const b = new lv.LstmVae({ mode: 'tokens', vocabSize: tok.vocabSize, embedding: 3, hidden: 5, latent: 2, seed: 2 });
    b.tokenizer = tok;
    const t0 = Date.now();
    await lv.saveToIndexedDB(a, `${p}sensor`);
    await lv.saveToIndexedDB(b, `${p}names/ünïcode ✓`);
    const list = (await lv.listModels()).filter((i) => i.name.startsWith(p));
    assertEq(JSON.stringify(list.map((i) => i.name)), JSON.stringify([`${p}names/ünïcode ✓`, `${p}sensor`]), 'names, sorted');
    const sensor = list.find((i) => i.name === `${p}sensor`);
    assertEq(sensor.bytes, a.toSafetensors().length, 'stored size');
    assertEq(sensor.config.hidden, 6, 'stored config');
    assert(sensor.savedAt >= t0 && sensor.savedAt <= Date.now(), 'savedAt');
    const a2 = await lv.loadFromIndexedDB(`${p}sensor`);
    assert(sameBytes(a2.toSafetensors(), a.toSafetensors()), 'the loaded model is the saved one');
    const ya = a2.reconstruct(x),
      y = a.reconstruct(x);
    for (let i = 0; i < y.length; i++) assert(Object.is(ya[i], y[i]), `reconstruction ${i} identical`);
    const b2 = await lv.loadFromIndexedDB(`${p}names/ünïcode ✓`);
    assertEq(b2.tokenizer.decode(b2.tokenizer.encode('bob')), 'bob', 'the tokenizer comes back');
    // saving under an existing name replaces the model
    const c = new lv.LstmVae({ features: 2, hidden: 3, latent: 1, seed: 3 });
    await lv.saveToIndexedDB(c, `${p}sensor`);
    const c2 = await lv.loadFromIndexedDB(`${p}sensor`);
    assertEq(c2.config.hidden, 3, 'replaced');
    assertEq((await lv.listModels()).filter((i) => i.name.startsWith(p)).length, 2, 'still two models');
    assertEq(await lv.deleteModel(`${p}sensor`), true, 'deleted');
    assertEq(await lv.deleteModel(`${p}sensor`), false, 'nothing left to delete');
    await assertRejects(lv.loadFromIndexedDB(`${p}sensor`), 'IOError', /no model named/);
    assertEq(
      JSON.stringify((await lv.listModels()).filter((i) => i.name.startsWith(p)).map((i) => i.name)),
      JSON.stringify([`${p}names/ünïcode ✓`]),
      'one left',
    );
    await lv.deleteModel(`${p}names/ünïcode ✓`);
    for (const m of [a, b, a2, b2, c, c2]) m.dispose();
  });

  test('bad names give ConfigError; a damaged stored entry gives FormatError', async () => {
    await lv.init();
    const m = new lv.LstmVae({ features: 2, hidden: 4, latent: 2 });
    await assertRejects(lv.saveToIndexedDB(m, ''), 'ConfigError', /name/);
    await assertRejects(lv.loadFromIndexedDB(42), 'ConfigError', /name/);
    await assertRejects(lv.saveToIndexedDB({}, 'x'), 'ConfigError', /LstmVae/);
    await lv.saveToIndexedDB(m, `${p}damaged`);
    const bytes = m.toSafetensors();
    await putRaw(`model:${p}damaged`, bytes.subarray(0, 40));
    await assertRejects(lv.loadFromIndexedDB(`${p}damaged`), 'FormatError');
    await putRaw(`model:${p}damaged`, 'not bytes');
    await assertRejects(lv.loadFromIndexedDB(`${p}damaged`), 'FormatError', /not a model file/);
    assertEq(await lv.deleteModel(`${p}damaged`), true, 'deleted');
    m.dispose();
  });
}
