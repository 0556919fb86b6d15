#!/usr/bin/env python3
"""Continue training an lstm-vae model with PyTorch DistributedDataParallel (CPU, gloo), and save it back.

    torchrun --nproc_per_node 2 scripts/interop-ddp/train_ddp.py \\
        --model checkpoint.safetensors --data windows.safetensors --out model-ddp.safetensors \\
        [--epochs 5] [--batch-size 32] [--lr LR] [--beta 1] [--kl-annealing '{"type":"linear","steps":400}'] \\
        [--free-bits 0] [--clip-norm 5] [--seed 0] [--probe probe.json] [--history ddp.json] [--step-check steps.safetensors]

    python3 scripts/interop-ddp/train_ddp.py --model checkpoint.safetensors --plan
        what would carry over and how the optimizer state maps (needs only numpy and safetensors)

--model   a continuous lstm-vae file (a model file, a detector, or a training checkpoint from
          `model.checkpoint(optimizer, history.trainerState)` / `checkpointEvery`).
--data    the training windows, already scaled as the model was trained: a safetensors file with a
          tensor `x` [N, T, D] (float32), or a .npy file of that shape.
--series  instead of --data, for an anomaly detector (AnomalyDetector.fit, `lstm-vae train`): the series
          (a CSV file with a header, or a .npy file [N, D]); the windows are made as the detector makes
          them (missing values interpolated, rows aggregated, scaled with the plan's centre and scale,
          every window of the plan's length centred on its own mean). Irregular timestamps are not put on
          a grid here: the rows are used as they are. Without --beta / --clip-norm / --lr the detector's
          defaults apply (0.1, 5, 3e-3).

The loss is the package's (SPEC; src/model/loss.ts, src/train/fit.ts):
    recon = (1/B) sum_b sum_t sum_d (x - y)^2
    kl_j  = (1/B) sum_b -1/2 (1 + logvar_bj - mu_bj^2 - exp(logvar_bj))       per latent dimension
    kl    = sum_j max(lambda, kl_j)   (free bits lambda; a dimension with kl_j < lambda gets no gradient)
    loss  = recon + beta(step) * kl,  beta(step) as src/train/annealing.ts (constant, linear, logistic, cyclical)
with B the GLOBAL batch: every rank computes its part of the sums, the per-dimension KL means (for free
bits) are all-reduced before the clamp, and each rank's loss is scaled by world_size / B so that DDP's
gradient average is exactly the gradient of the global batch's loss. Gradient clipping (--clip-norm) is
clip_grad_norm_, the package's rule. Learning rate: constant (the package's other schedules are not mapped).

Optimizer state: a checkpoint's Adam / AdamW moments (`optimizer.<key>.exp_avg`, `.exp_avg_sq`) and step
(`__metadata__.optimizer`) become torch.optim.Adam / AdamW's state (same names, same formulas), so Adam
continues; the KL annealing continues from that step too. Without them (a plain model file, or SGD / RMSProp)
Adam restarts at step 0 (said on start). The output file has the same tensor names and the same
`config` and `metadata` (normalizer, threshold, detector plan: copied verbatim; a detector's other models,
`detector.member<j>.*`, are written back unchanged: only its first model is continued), the Adam state
(as a checkpoint without trainer state: `fit(data, { resumeFrom })` continues from it) and, with --probe, a
JSON file with a fixed input (the first 4 windows, a fixed eps) and this model's outputs for it in float64.
"""

import argparse
import json
import math
import os
import struct
import sys
import time

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))  # scripts/: reference_model.py

ADAM_SLOTS = ('exp_avg', 'exp_avg_sq')
PROBE_WINDOWS = 4


def fail(msg, code=2):
    print(f'train_ddp: {msg}', file=sys.stderr)
    sys.exit(code)


# ---------------------------------------------------------------------------------------------------------
# The file (no torch needed)

def read_header(path):
    """(metadata dict, {key: (dtype, shape)}) of a safetensors file, read with the standard library."""
    if not os.path.isfile(path):
        fail(f'{path}: no such file')
    with open(path, 'rb') as f:
        raw = f.read(8)
        if len(raw) != 8:
            fail(f'{path} is not a safetensors file (shorter than 8 bytes)')
        (n,) = struct.unpack('<Q', raw)
        if n > 64 << 20:
            fail(f'{path}: header of {n} bytes; not a safetensors file?')
        try:
            header = json.loads(f.read(n))
        except ValueError as e:
            fail(f'{path}: the header is not JSON ({e}); not a safetensors file?')
    meta = header.pop('__metadata__', None) or {}
    return meta, {k: (v['dtype'], v['shape']) for k, v in header.items()}


def plan_of(path):
    """What the file holds and how it maps to PyTorch: config, metadata, model keys, optimizer mapping."""
    meta, tensors = read_header(path)
    if meta.get('format') not in (None, 'lstm-vae', 'pt', 'np'):
        fail(f'{path} is not an lstm-vae file (format {meta.get("format")!r})')
    if 'config' not in meta:
        fail(f'{path} has no __metadata__.config; write it with lstm-vae (model.toSafetensors or model.checkpoint)')
    config = json.loads(meta['config'])
    if config.get('mode', 'continuous') != 'continuous':
        fail(f'{path} is a token model; this script continues continuous models')
    # a detector of several models (plan.members) holds the others as detector.member<j>.*: this script continues
    # the first model and writes the others back unchanged
    member_keys = [k for k in tensors if k.startswith('detector.')]
    model_keys = [k for k in tensors if not k.startswith(('optimizer.', 'trainer.', 'detector.'))]
    opt = json.loads(meta['optimizer']) if 'optimizer' in meta else None
    mapping, why = {}, None
    if opt is None:
        why = 'the file has no optimizer state (a model file, not a checkpoint)'
    elif opt.get('name') not in ('adam', 'adamw'):
        why = f"its optimizer is {opt.get('name')!r}; only Adam / AdamW state is mapped"
    else:
        missing = [f'optimizer.{k}.{s}' for k in model_keys for s in ADAM_SLOTS if f'optimizer.{k}.{s}' not in tensors]
        if opt.get('step', 0) > 0 and missing:
            why = f'the checkpoint lacks {len(missing)} optimizer tensors (e.g. {missing[0]})'
        else:
            mapping = {k: {s: f'optimizer.{k}.{s}' for s in ADAM_SLOTS} for k in model_keys}
    trainer = json.loads(meta['trainer']) if 'trainer' in meta else None
    return {
        'config': config,
        'metadata': json.loads(meta['metadata']) if 'metadata' in meta else None,
        'model_keys': model_keys,
        'member_keys': member_keys,
        'optimizer': opt,
        'adam_state': bool(mapping),
        'restart_reason': why,
        'mapping': mapping,
        'step': opt['step'] if mapping else 0,
        'trainer': {k: trainer[k] for k in ('epoch', 'batch', 'step', 'batchSize', 'learningRate', 'beta') if k in trainer} if trainer else None,
        'raw_meta': meta,
    }


def beta_at(beta, step, a):
    """src/train/annealing.ts betaAt."""
    if not a or a.get('type') == 'constant':
        return beta
    t = a['type']
    if t == 'linear':
        return beta * min(1.0, step / a['steps'])
    if t == 'logistic':
        return beta / (1 + math.exp(-(a.get('k', 0.0025)) * (step - a['x0'])))
    if t == 'cyclical':
        ratio = a.get('ratio', 0.5)
        pos = (step % a['period']) / a['period']
        return beta * min(1.0, pos / ratio)
    fail(f'unknown klAnnealing type {t!r}')


def probe_eps(n):
    """The fixed eps of the probe (the same formula as scripts/interop-node.mjs)."""
    return [math.sin(1.7 * i + 0.3) * 1.2 for i in range(n)]


# ---------------------------------------------------------------------------------------------------------
# Training (torch)

def load_windows(path, torch):
    if path.endswith('.npy'):
        import numpy as np
        x = torch.from_numpy(np.load(path).astype('float32'))
    else:
        from safetensors.torch import load_file
        t = load_file(path)
        if 'x' not in t:
            fail(f'{path} has no tensor x (the windows [N, T, D]); it has {sorted(t)[:5]}')
        x = t['x'].float()
    if x.dim() != 3:
        fail(f'{path}: x has shape {list(x.shape)}; windows are [N, T, D]')
    return x.contiguous()


def detector_windows(path, det, cli_input, np):
    """The windows an AnomalyDetector makes of a series (src/detect/detector.ts, preprocess.ts), all of them (stride 1)."""
    d = det['features']
    if path.endswith('.npy'):
        x = np.asarray(np.load(path), dtype=np.float64)
        x = x[:, None] if x.ndim == 1 else x
    else:
        import csv
        with open(path, newline='') as f:
            rows = list(csv.reader(f))
        if not rows:
            fail(f'{path} is empty')
        header, body = rows[0], [r for r in rows[1:] if any(c.strip() for c in r)]
        want = det.get('columns') or (cli_input or {}).get('columns')
        if want and all(c in header for c in want):
            cols = [header.index(c) for c in want]
        else:
            skip = {(cli_input or {}).get('timestamp')}
            cols = [i for i, h in enumerate(header) if h not in skip]
            if len(cols) != d:  # drop columns that are not numbers (e.g. a timestamp)
                def numeric(i):
                    try:
                        float(body[0][i])
                        return True
                    except (ValueError, IndexError):
                        return False
                cols = [i for i in cols if numeric(i)]
        if len(cols) != d:
            fail(f'{path}: found {len(cols)} value columns ({[header[i] for i in cols]}); the detector takes {d}')

        def num(v):
            v = v.strip()
            return float(v) if v not in ('', 'NaN', 'nan', 'NA', 'null') else float('nan')
        x = np.array([[num(r[i]) for i in cols] for r in body], dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != d:
        fail(f'{path}: a series of shape {list(x.shape)}; the detector takes [N, {d}]')
    if (cli_input or {}).get('interval'):
        print('note: the detector put irregular timestamps on a grid; here the rows are used as they are')
    n = x.shape[0]
    for j in range(d):  # fillMissing: linear between values, the nearest value at the ends
        ok = ~np.isnan(x[:, j])
        if not ok.any():
            fail(f'{path}: column {j} has no values')
        x[:, j] = np.interp(np.arange(n), np.flatnonzero(ok), x[ok, j])
    f, w = det['aggregate'], det['window']
    m = n // f
    x = x[:m * f].reshape(m, f, d).mean(axis=1)
    xs = (x - np.asarray(det['center'])) / np.asarray(det['scale'])
    if m < w:
        fail(f'{path}: {n} rows, fewer than one window of {w * f} rows')
    win = np.lib.stride_tricks.sliding_window_view(xs, w, axis=0).transpose(0, 2, 1)  # [m - w + 1, w, d]
    return (win - win.mean(axis=1, keepdims=True)).astype(np.float32)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--model', required=True)
    ap.add_argument('--plan', action='store_true', help='print what carries over and how the optimizer maps, as JSON; no torch needed')
    ap.add_argument('--data')
    ap.add_argument('--series', help='an anomaly detector\'s series (CSV or .npy [N, D]) instead of --data')
    ap.add_argument('--out')
    ap.add_argument('--epochs', type=int, default=5)
    ap.add_argument('--batch-size', type=int, help="global batch (all ranks); default: the checkpoint's, else 32")
    ap.add_argument('--lr', type=float, help="default: the checkpoint's, else 1e-3")
    ap.add_argument('--beta', type=float, help='default 1 (a detector: 0.1)')
    ap.add_argument('--kl-annealing', type=json.loads, help='as FitOptions.klAnnealing, JSON')
    ap.add_argument('--free-bits', type=float, default=0.0)
    ap.add_argument('--clip-norm', type=float)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--dump-windows', help='with --series: write the windows as raw float32 to this file, print their shape, exit (numpy only)')
    ap.add_argument('--step-check', help='first save to this file the model after a few steps on the first batches with eps = 0 '
                    '(deterministic: for comparing with the same steps elsewhere), then train from the file\'s state as usual')
    ap.add_argument('--step-check-steps', type=int, default=3)
    ap.add_argument('--probe', help='write the probe input and this model\'s outputs (float64) to this JSON file')
    ap.add_argument('--history', help='write the training history (JSON) here')
    args = ap.parse_args()

    plan = plan_of(args.model)
    if args.plan:
        out = {k: v for k, v in plan.items() if k != 'raw_meta'}
        print(json.dumps(out))
        return 0
    if args.dump_windows:
        if not args.series or not (plan['metadata'] or {}).get('detector'):
            fail('--dump-windows goes with --series and a detector file')
        import numpy as np
        w = detector_windows(args.series, plan['metadata']['detector'], plan['metadata'].get('cliInput'), np)
        w.astype('<f4').tofile(args.dump_windows)
        print(json.dumps({'shape': list(w.shape)}))
        return 0
    if not (args.data or args.series) or not args.out:
        fail('--data (or --series for a detector) and --out are needed to train (or --plan)')
    det = (plan['metadata'] or {}).get('detector')
    if args.series and not det:
        fail(f'--series goes with an anomaly detector file; {args.model} has no detector plan: give the windows with --data')
    if det:  # AnomalyDetector's training defaults
        args.beta = 0.1 if args.beta is None else args.beta
        args.clip_norm = 5.0 if args.clip_norm is None else args.clip_norm
        if args.lr is None and not plan['adam_state']:
            args.lr = 3e-3
    args.beta = 1.0 if args.beta is None else args.beta

    try:
        import torch
        import torch.distributed as dist
        from safetensors.torch import load_file, save_file
        from torch.nn.parallel import DistributedDataParallel as DDP
    except ImportError as e:
        fail(f'{e}: continuing training needs torch and safetensors (pip install torch safetensors)')
    import reference_model as rm

    torch.set_num_threads(1)
    distributed = 'RANK' in os.environ and 'WORLD_SIZE' in os.environ
    if distributed:
        dist.init_process_group('gloo')
        rank, world = dist.get_rank(), dist.get_world_size()
    else:
        rank, world = 0, 1
    say = print if rank == 0 else (lambda *a, **k: None)

    c = plan['config']
    D, H, Z, L, dec = c['features'], c['hidden'], c['latent'], c.get('layers', 1), c.get('decoder', 'repeat')
    tensors = load_file(args.model)
    model = rm.ContinuousVAE(D, H, Z, L, dec)
    model.load_state_dict({k: tensors[k] for k in plan['model_keys']}, strict=True)
    names = [k for k, _ in model.named_parameters()]

    if args.series:
        import numpy as np
        x_all = torch.from_numpy(detector_windows(args.series, det, (plan['metadata'] or {}).get('cliInput'), np))
        say(f'the detector\'s windows of {args.series}: {x_all.shape[0]} of {det["window"]} points (aggregate {det["aggregate"]})')
    else:
        x_all = load_windows(args.data, torch)
    N, T, D2 = x_all.shape
    if D2 != D:
        fail(f'{args.data}: windows have {D2} features, the model takes {D}')
    if N < world:
        fail(f'{args.data}: {N} windows for {world} processes')

    opt_meta = plan['optimizer'] or {}
    o = opt_meta.get('options', {}) if plan['adam_state'] else {}
    lr = args.lr if args.lr is not None else o.get('lr', 1e-3)
    betas = tuple(o.get('betas', (0.9, 0.999)))
    eps = o.get('eps', 1e-8)
    wd = o.get('weightDecay', 0.0)
    name = opt_meta.get('name') if plan['adam_state'] else 'adam'
    cls = torch.optim.AdamW if name == 'adamw' else torch.optim.Adam
    opt = cls(model.parameters(), lr=lr, betas=betas, eps=eps, weight_decay=wd, foreach=False)
    step = plan['step']
    if plan['adam_state']:
        sd = opt.state_dict()
        sd['state'] = {
            i: {'step': torch.tensor(float(step)), **{s: tensors[plan['mapping'][k][s]].clone() for s in ADAM_SLOTS}}
            for i, k in enumerate(names)
        } if step > 0 else {}
        opt.load_state_dict(sd)
        say(f'optimizer: {name} state mapped from the checkpoint (exp_avg, exp_avg_sq of {len(names)} tensors, step {step}); lr {lr:g}')
    else:
        say(f'optimizer: Adam restarts at step 0 ({plan["restart_reason"]}); lr {lr:g}')

    trainer = plan['trainer'] or {}
    batch = args.batch_size or trainer.get('batchSize', 32)
    if batch < world:
        fail(f'--batch-size {batch} is smaller than the {world} processes')
    ddp = DDP(model) if distributed else model
    g = torch.Generator().manual_seed(args.seed)  # the same order on every rank
    noise = torch.Generator().manual_seed(args.seed * 1000 + 17 + rank)  # each rank its own eps
    lam = args.free_bits
    say(f'training {N} windows of {T} x {D} on {world} process{"es" if world > 1 else ""} (gloo, CPU), global batch {batch} '
        f'({batch // world}{"+" if batch % world else ""} per process), {args.epochs} epochs, from step {step}; '
        f'beta {args.beta:g}{" annealed " + json.dumps(args.kl_annealing) if args.kl_annealing else ""}'
        f'{f", free bits {lam:g}" if lam > 0 else ""}{f", clip norm {args.clip_norm:g}" if args.clip_norm else ""}')
    log = {'world_size': world, 'start_step': step, 'optimizer': 'mapped' if plan['adam_state'] else 'restarted',
           'restart_reason': plan['restart_reason'], 'torch': torch.__version__.split('+')[0], 'epochs': []}

    def train_step(idx, step, zero_eps=False):
        """One optimizer step on the global batch idx (this rank takes every world-th); (loss, recon, kl) of the batch."""
        Bg = len(idx)
        x = x_all[idx[rank::world]]
        beta_now = beta_at(args.beta, step, args.kl_annealing)
        e = torch.zeros(x.shape[0], Z) if zero_eps else torch.randn(x.shape[0], Z, generator=noise)
        _, _, _, mu, logvar, y = ddp(x, e, beta_now)
        recon_sum = (x - y).pow(2).sum()
        kl_sum = (-0.5 * (1 + logvar - mu.pow(2) - logvar.exp())).sum(0)  # [Z], summed over this rank's sequences
        stats = torch.cat([recon_sum.detach().view(1), kl_sum.detach()]).double()
        if distributed:
            dist.all_reduce(stats)
        recon_g, kl_j = stats[0].item() / Bg, stats[1:] / Bg
        active = (kl_j >= lam) if lam > 0 else torch.ones(Z, dtype=torch.bool)
        kl_g = float(torch.where(active, kl_j, torch.full_like(kl_j, lam)).sum())
        loss_g = recon_g + beta_now * kl_g
        if not math.isfinite(loss_g):
            fail(f'training diverged: the loss is {loss_g} at step {step}; lower --lr or set --clip-norm', 1)
        local = (recon_sum + beta_now * (kl_sum * active.to(kl_sum.dtype)).sum()) * (world / Bg)
        opt.zero_grad(set_to_none=False)
        local.backward()  # DDP averages the gradients over the ranks: the global batch's gradient
        if args.clip_norm:
            torch.nn.utils.clip_grad_norm_(model.parameters(), args.clip_norm)
        opt.step()
        return loss_g, recon_g, kl_g

    def save(path, step):
        """Our format: the weights, the file's config and metadata, Adam's state as a checkpoint's (no trainer state)."""
        out = {k: v.detach().float().contiguous() for k, v in model.state_dict().items()}
        for k in plan['member_keys']:
            out[k] = tensors[k].float().contiguous()  # a detector's other models, unchanged
        meta = {k: v for k, v in plan['raw_meta'].items() if k in ('format', 'format_version', 'config', 'metadata', 'tokenizer')}
        meta['format'], meta['format_version'] = 'lstm-vae', meta.get('format_version', '1')
        st = opt.state_dict()['state']
        for i, k in enumerate(names):
            for s in ADAM_SLOTS if i in st else ():
                out[f'optimizer.{k}.{s}'] = st[i][s].detach().float().contiguous()
        options = dict(opt_meta.get('options', {})) if plan['adam_state'] else {}
        options.update({'lr': lr, 'betas': list(betas), 'eps': eps, 'weightDecay': wd})
        meta['optimizer'] = json.dumps({'name': name, 'options': options, 'step': step})
        tmp = path + f'.{os.getpid()}.tmp'
        save_file(out, tmp, metadata=meta)
        os.replace(tmp, path)

    if args.step_check:
        # a few steps on the first batches in file order with eps = 0 (deterministic), saved, then undone
        import copy
        before = copy.deepcopy(model.state_dict()), copy.deepcopy(opt.state_dict())
        k = args.step_check_steps
        for j in range(k):
            train_step(torch.arange(j * batch, min(N, (j + 1) * batch)), step + j, zero_eps=True)
        if rank == 0:
            save(args.step_check, step + k)
            say(f'wrote {args.step_check}: {k} steps from the file\'s state on the first batches with eps = 0 (for checks)')
        model.load_state_dict(before[0])
        opt.load_state_dict(before[1])

    for epoch in range(args.epochs):
        t0 = time.time()
        order = torch.randperm(N, generator=g)
        sums = [0.0, 0.0, 0.0, 0]
        for s in range(0, N, batch):
            idx = order[s:s + batch]
            if len(idx) < world:
                continue  # a last batch smaller than the world: every rank needs data
            loss_g, recon_g, kl_g = train_step(idx, step)
            step += 1
            sums[0] += loss_g * len(idx)
            sums[1] += recon_g * len(idx)
            sums[2] += kl_g * len(idx)
            sums[3] += len(idx)
        row = {'epoch': epoch, 'step': step, 'loss': sums[0] / sums[3], 'recon': sums[1] / sums[3], 'kl': sums[2] / sums[3],
               'beta': beta_at(args.beta, step - 1, args.kl_annealing), 'seconds': time.time() - t0}
        log['epochs'].append(row)
        say(f'  epoch {epoch + 1}/{args.epochs}  step {step:5d}  loss {row["loss"]:.5f}  recon {row["recon"]:.5f}  kl {row["kl"]:.5f}  '
            f'beta {row["beta"]:.4f}  {row["seconds"]:.1f} s')
    log['end_step'] = step

    if rank == 0:
        save(args.out, step)
        say(f'wrote {args.out}: {len(names)} weight tensors, config and metadata carried over, Adam state at step {step}')
        if args.probe:
            write_probe(args.probe, model, x_all, args.beta, torch)
            say(f'wrote {args.probe}: outputs of the first {min(PROBE_WINDOWS, N)} windows (float64)')
        if args.history:
            with open(args.history, 'w') as f:
                json.dump(log, f)
    if distributed:
        dist.barrier()
        dist.destroy_process_group()
    return 0


def write_probe(path, model, x_all, beta, torch):
    """The SPEC forward in float64 of the trained weights on a fixed input (the first windows, a fixed eps)."""
    m = model.double().eval()
    x = x_all[:PROBE_WINDOWS].double()
    B, T, D = x.shape
    Z = m.Z
    e = torch.tensor(probe_eps(B * Z), dtype=torch.float32).double().view(B, Z)  # float32 values, as the package takes
    with torch.no_grad():
        loss, recon, kl, mu, logvar, _ = m(x, e, beta)
        *_, y = m(x, torch.zeros(B, Z, dtype=torch.float64), beta)  # through z = mu
    flat = lambda t: t.reshape(-1).tolist()  # noqa: E731
    with open(path, 'w') as f:
        json.dump({'x': {'shape': [B, T, D], 'data': flat(x)}, 'eps': flat(e), 'beta': beta, 'loss': loss.item(),
                   'recon': recon.item(), 'kl': kl.item(), 'mu': flat(mu), 'logvar': flat(logvar), 'y': flat(y)}, f)
    model.float()


if __name__ == '__main__':
    sys.exit(main())
