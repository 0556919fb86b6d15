#!/usr/bin/env python3
"""PyTorch (CPU, float32) beside lstm-vae in the benchmark: the same model and step.

    python3 bench/torch_step.py '<job JSON>'

Job: {"configs": ["M", "L"], "modes": ["train", "infer"], "threads": [1, 2],
      "budget": {"M": {"warmup": 1, "budgetMs": 3000, "minSteps": 3}, ...}}
(configuration sizes come in the job too: "sizes": {"M": {"B": 64, "T": 64, "D": 8, "H": 128, "Z": 16}}).

Prints one line per result, `@@bench {json}`, like bench/lib/child.mjs: an `info` line first (or a
`skip` line with the reason when torch cannot be imported), then `result` lines with the fields of
bench/lib/stats.mjs summarize() plus library 'pytorch', backend 'cpu', threads, mode, config.

Model: scripts/reference_model.py ContinuousVAE (the SPEC's continuous model: one-layer LSTM
encoder, heads mu and logvar, repeat decoder, linear output), float32; training = forward with
fresh noise, backward, Adam step (lr 1e-3, the package's default), gradients zeroed with
set_to_none; inference = encode, then decode from mu. torch.set_num_threads(n) before each cell.
"""

import json
import os
import sys
import time


def emit(kind, **data):
    print('@@bench ' + json.dumps({'type': kind, **data}), flush=True)


def quantile(a, q):
    s = sorted(a)
    if not s:
        return float('nan')
    p = (len(s) - 1) * q
    lo, hi = int(p // 1), int(-(-p // 1))
    return s[lo] + (s[hi] - s[lo]) * (p - lo)


def summarize(times, B, cpu):
    med = quantile(times, 0.5)
    q1, q3 = quantile(times, 0.25), quantile(times, 0.75)
    return {
        'seqPerSec': B / (med / 1000),
        'seqPerSecQ1': B / (q3 / 1000),
        'seqPerSecQ3': B / (q1 / 1000),
        'stepMs': {
            'median': med, 'q1': q1, 'q3': q3, 'min': min(times), 'max': max(times), 'n': len(times),
            'all': [round(t, 3) for t in times],
        },
        'cpuMsPerStep': quantile(cpu, 0.5) if cpu else None,
    }


def time_steps(step, warmup=1, budgetMs=3000, minSteps=3, maxSteps=50, steps=None):
    """bench/lib/stats.mjs timeSteps: warm-up, then steps until the budget and minSteps are met."""
    slow = False
    for _ in range(warmup):
        s = time.perf_counter()
        step()
        if (time.perf_counter() - s) * 1000 > budgetMs:
            slow = True
    if slow:
        minSteps = min(minSteps, 2)
    times, cpu = [], []
    t0 = time.perf_counter()
    while True:
        c = time.process_time()
        s = time.perf_counter()
        step()
        times.append((time.perf_counter() - s) * 1000)
        cpu.append((time.process_time() - c) * 1000)
        n = len(times)
        elapsed = (time.perf_counter() - t0) * 1000
        if (n >= steps) if steps else ((n >= minSteps and elapsed >= budgetMs) or n >= maxSteps):
            break
    return times, cpu


def main():
    job = json.loads(sys.argv[-1])
    try:
        import torch
    except Exception as e:  # not installed, or broken
        emit('skip', reason=f'PyTorch not importable by {sys.executable}: {type(e).__name__}: {e}'.strip())
        return 0
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'scripts'))
    from reference_model import ContinuousVAE

    torch.set_default_dtype(torch.float32)
    emit('info', runtime={
        'name': 'pytorch', 'version': torch.__version__, 'engine': f'Python {sys.version.split()[0]}',
        'parallel': torch.__config__.parallel_info().split('\n')[0:6],
        'mkldnn': bool(torch.backends.mkldnn.is_available()),
        'cpuCapability': getattr(torch.backends.cpu, 'get_cpu_capability', lambda: None)(),
    })
    for name in job['configs']:
        cfg = job['sizes'][name]
        B, T, D, H, Z = cfg['B'], cfg['T'], cfg['D'], cfg['H'], cfg['Z']
        for mode in job['modes']:
            for threads in job['threads']:
                try:
                    torch.set_num_threads(threads)
                    torch.manual_seed(1)
                    model = ContinuousVAE(D, H, Z, 1, 'repeat')
                    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
                    i = torch.arange(B * T * D, dtype=torch.float64)
                    x = torch.sin(i * 0.01).to(torch.float32).reshape(B, T, D)
                    if mode == 'train':
                        model.train()

                        def step():
                            eps = torch.randn(B, Z)
                            loss = model(x, eps)[0]
                            opt.zero_grad(set_to_none=True)
                            loss.backward()
                            opt.step()
                    else:
                        model.eval()

                        def step():
                            with torch.inference_mode():
                                mu, _ = model.encoder(x)
                                model.decoder(mu, T)
                    budget = job.get('budget', {}).get(name, {})
                    times, cpu = time_steps(step, **budget)
                    emit('result', result={
                        'library': 'pytorch', 'backend': 'cpu', 'build': 'cpu', 'threads': threads, 'mode': mode,
                        'config': name, 'features': f'torch {torch.__version__}, {torch.get_num_threads()} threads',
                        **summarize(times, B, cpu),
                    })
                except Exception as e:
                    emit('error', what=f'{name} {mode} threads {threads}', error=f'{type(e).__name__}: {e}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
