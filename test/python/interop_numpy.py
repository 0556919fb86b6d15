#!/usr/bin/env python3
"""The official `safetensors` library (NumPy flavour) against lstm-vae's files; run by
test/interop-python.test.ts. Needs only numpy and safetensors (no torch).

    python3 test/python/interop_numpy.py check DIR   reads every DIR/*.safetensors lstm-vae wrote and checks
                                                     it against the SPEC (keys and shapes computed here from
                                                     the config, F32, metadata) and DIR/<file>.expect.json
                                                     (values); prints one JSON line per file
    python3 test/python/interop_numpy.py write DIR   writes DIR/np-<case>.safetensors with safetensors.numpy
                                                     .save_file (the SPEC's keys, no metadata) and
                                                     DIR/np-<case>.json (config and values) for the JS side
"""

import json
import os
import sys

try:
    import numpy as np
    import safetensors
    from safetensors import safe_open
    from safetensors.numpy import load_file, save_file
except ImportError as e:
    print(f'MISSING: {e}', file=sys.stderr)
    sys.exit(3)


# ---- the SPEC's state-dict table, written out here independently of the package ----------------

def lstm_keys(prefix, I, H, L):
    out = []
    for k in range(L):
        out += [(f'{prefix}weight_ih_l{k}', (4 * H, I if k == 0 else H)), (f'{prefix}weight_hh_l{k}', (4 * H, H)),
                (f'{prefix}bias_ih_l{k}', (4 * H,)), (f'{prefix}bias_hh_l{k}', (4 * H,))]
    return out


def spec_keys(c):
    H, Z, L = c['hidden'], c['latent'], c.get('layers', 1)
    heads = [('encoder.fc_mu.weight', (Z, H)), ('encoder.fc_mu.bias', (Z,)),
             ('encoder.fc_logvar.weight', (Z, H)), ('encoder.fc_logvar.bias', (Z,))]
    if c.get('mode', 'continuous') == 'continuous':
        D = c['features']
        dec_in = Z if c.get('decoder', 'repeat') == 'repeat' else D + Z
        return (lstm_keys('encoder.lstm.', D, H, L) + heads + lstm_keys('decoder.lstm.', dec_in, H, L)
                + [('decoder.fc_out.weight', (D, H)), ('decoder.fc_out.bias', (D,))])
    V, E = c['vocabSize'], c['embedding']
    return ([('embedding.weight', (V, E))] + lstm_keys('encoder.lstm.', E, H, L) + heads
            + [('decoder.fc_init.weight', (2 * L * H, Z)), ('decoder.fc_init.bias', (2 * L * H,))]
            + lstm_keys('decoder.lstm.', E + Z, H, L) + [('decoder.fc_out.weight', (V, H)), ('decoder.fc_out.bias', (V,))])


def slots(opt):
    """The optimizer's state slots (torch.optim's names)."""
    name, momentum = opt.get('name'), opt.get('options', {}).get('momentum', 0)
    if name in ('adam', 'adamw'):
        return ['exp_avg', 'exp_avg_sq']
    if name == 'rmsprop':
        return ['square_avg'] + (['momentum_buffer'] if momentum > 0 else [])
    return ['momentum_buffer'] if momentum > 0 else []


def check(path, expect):
    problems = []
    def need(cond, msg):
        if not cond:
            problems.append(msg)

    arrays = load_file(path)
    with safe_open(path, framework='np') as f:
        meta = f.metadata() or {}
        keys = set(f.keys())
    need(keys == set(arrays), 'safe_open and load_file disagree on the keys')
    need(meta.get('format') == 'lstm-vae', f'format {meta.get("format")!r}')
    need(meta.get('format_version') == '1', f'format_version {meta.get("format_version")!r}')
    config = json.loads(meta['config'])
    for k, v in expect['config'].items():
        need(config.get(k) == v, f'config.{k} = {config.get(k)!r}, expected {v!r}')
    want = dict(spec_keys(config))
    if 'optimizer' in meta:
        opt = json.loads(meta['optimizer'])
        need(isinstance(opt.get('step'), int) and opt['step'] > 0, f'optimizer step {opt.get("step")!r}')
        need(isinstance(opt.get('options'), dict) and isinstance(opt['options'].get('lr'), float), 'optimizer options.lr')
        for slot in slots(opt):
            for k, shape in list(spec_keys(config)):
                want[f'optimizer.{k}.{slot}'] = shape
        if 'trainer' in meta:
            tr = json.loads(meta['trainer'])
            need(tr.get('version') == 1, 'trainer.version')
            need(tr.get('step') == opt['step'], f'trainer.step {tr.get("step")} != optimizer step {opt["step"]}')
            need(isinstance(tr.get('rng'), list) and len(tr['rng']) == 4, 'trainer.rng')
            for field in ('epoch', 'batch', 'samples', 'batchSize', 'history', 'epochRng', 'sums'):
                need(field in tr, f'trainer.{field} missing')
            if expect.get('bestWeights'):
                for k, shape in spec_keys(config):
                    want[f'trainer.best.{k}'] = shape
    for k, v in expect.get('metadata', {}).items():
        need(meta.get(k) == v, f'__metadata__.{k} = {meta.get(k)!r}, expected {v!r}')
    need(set(arrays) == set(want), f'keys: missing {sorted(set(want) - set(arrays))}, unexpected {sorted(set(arrays) - set(want))}')
    for k, a in arrays.items():
        need(a.dtype == np.float32, f'{k}: dtype {a.dtype}')
        if k in want:
            need(tuple(a.shape) == tuple(want[k]), f'{k}: shape {a.shape}, SPEC {want[k]}')
        if k in expect['values']:
            need(np.array_equal(a.reshape(-1), np.asarray(expect['values'][k], dtype=np.float32)), f'{k}: values differ')
    need(set(expect['values']) <= set(arrays), 'some expected tensors are absent')
    return {'file': os.path.basename(path), 'tensors': len(arrays), 'metadata': sorted(meta), 'problems': problems}


CASES = [
    ('continuous', {'mode': 'continuous', 'features': 3, 'hidden': 5, 'latent': 2, 'layers': 1, 'decoder': 'repeat'}),
    ('autoregressive', {'mode': 'continuous', 'features': 2, 'hidden': 4, 'latent': 3, 'layers': 2, 'decoder': 'autoregressive'}),
    ('tokens', {'mode': 'tokens', 'vocabSize': 11, 'embedding': 3, 'hidden': 4, 'latent': 2, 'layers': 1}),
]


def write(d):
    rng = np.random.default_rng(20240611)
    out = []
    for name, c in CASES:
        tensors = {k: (rng.standard_normal(shape) * 0.3).astype(np.float32) for k, shape in spec_keys(c)}
        path = os.path.join(d, f'np-{name}.safetensors')
        save_file(tensors, path)
        with open(os.path.join(d, f'np-{name}.json'), 'w') as f:
            json.dump({'config': c, 'values': {k: v.reshape(-1).tolist() for k, v in tensors.items()},
                       'shapes': {k: list(v.shape) for k, v in tensors.items()}}, f)
        out.append(os.path.basename(path))
    print(json.dumps({'wrote': out, 'safetensors': safetensors.__version__, 'numpy': np.__version__}))


def main():
    cmd, d = sys.argv[1], sys.argv[2]
    if cmd == 'write':
        write(d)
        return 0
    results = []
    for name in sorted(os.listdir(d)):
        if name.endswith('.safetensors') and not name.startswith('np-'):
            with open(os.path.join(d, name[: -len('.safetensors')] + '.expect.json')) as f:
                expect = json.load(f)
            try:
                results.append(check(os.path.join(d, name), expect))
            except Exception as e:  # the official reader refused the file, or a check crashed
                results.append({'file': name, 'problems': [f'{type(e).__name__}: {e}']})
    print(json.dumps({'results': results, 'safetensors': safetensors.__version__}))
    return 0


if __name__ == '__main__':
    sys.exit(main())
