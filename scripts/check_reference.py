#!/usr/bin/env python3
"""Self-check of the PyTorch reference (scripts/reference_model.py) and of test/fixtures/*.json.

    python3 scripts/check_reference.py

1. state_dict() keys, order and shapes equal the SPEC's table (continuous repeat/autoregressive, tokens);
2. torch.autograd.gradcheck (float64 finite differences) of every model on tiny cases, w.r.t. the inputs
   and every parameter, with and without lengths;
3. an independent step-by-step implementation (explicit LSTM cell loop with length masks, no nn.LSTM, no
   packing, no nn.Linear) re-evaluated from the parameters stored in the fixtures reproduces every stored
   output and gradient, and hand-written optimizer updates reproduce optim.json.
Exits non-zero on the first failure.
"""

import json
import math
import os
import sys

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import torch  # noqa: E402
from torch.autograd import gradcheck  # noqa: E402
from torch.func import functional_call  # noqa: E402

import reference_model as rm  # noqa: E402

torch.set_default_dtype(torch.float64)
torch.set_num_threads(1)
FIXTURES = os.path.join(os.path.dirname(HERE), 'test', 'fixtures')
TOL = 1e-10


def ok(msg):
    print(f'ok  {msg}')


# ----------------------------------------------------------------------------------------------
# 1. state-dict keys

def check_keys():
    for D, H, Z, L, dec in [(3, 8, 2, 1, 'repeat'), (5, 7, 3, 2, 'repeat'), (2, 6, 3, 1, 'autoregressive'),
                            (4, 5, 3, 3, 'autoregressive')]:
        rm.check_state_dict(rm.ContinuousVAE(D, H, Z, L, dec), rm.expected_continuous_keys(D, H, Z, L, dec))
    for V, E, H, Z, L in [(11, 4, 6, 3, 1), (9, 5, 7, 2, 2)]:
        rm.check_state_dict(rm.TokenVAE(V, E, H, Z, L), rm.expected_token_keys(V, E, H, Z, L))
    # the SPEC's table written out literally for (D,H,Z,L) = (3,8,2,2), repeat
    D, H, Z = 3, 8, 2
    spec = {}
    for part, inp in (('encoder', D), ('decoder', Z)):
        for k in range(2):
            i = inp if k == 0 else H
            spec[f'{part}.lstm.weight_ih_l{k}'] = [4 * H, i]
            spec[f'{part}.lstm.weight_hh_l{k}'] = [4 * H, H]
            spec[f'{part}.lstm.bias_ih_l{k}'] = [4 * H]
            spec[f'{part}.lstm.bias_hh_l{k}'] = [4 * H]
    spec.update({'encoder.fc_mu.weight': [Z, H], 'encoder.fc_mu.bias': [Z],
                 'encoder.fc_logvar.weight': [Z, H], 'encoder.fc_logvar.bias': [Z],
                 'decoder.fc_out.weight': [D, H], 'decoder.fc_out.bias': [D]})
    got = {k: list(v.shape) for k, v in rm.ContinuousVAE(D, H, Z, 2).state_dict().items()}
    assert got == spec, (got, spec)
    ok('state_dict keys/shapes match the SPEC table')


# ----------------------------------------------------------------------------------------------
# 2. gradcheck

def gradcheck_model(model, make_out, inputs, what):
    names = [k for k, _ in model.named_parameters()]
    params = [p.detach().clone().requires_grad_(True) for _, p in model.named_parameters()]

    def fn(*args):
        n_in = len(inputs)
        pd = dict(zip(names, args[n_in:]))
        return make_out(pd, *args[:n_in])

    ins = [t.detach().clone().requires_grad_(True) for t in inputs]
    assert gradcheck(fn, (*ins, *params), eps=1e-6, atol=1e-7, rtol=1e-6)
    ok(f'gradcheck {what}')


def check_gradcheck():
    torch.manual_seed(7)
    # plain LSTM (with initial state, with and without lengths)
    lstm = torch.nn.LSTM(2, 3, 2, batch_first=True)
    x = torch.randn(3, 4, 2)
    h0, c0 = torch.randn(2, 3, 3), torch.randn(2, 3, 3)
    for lengths in (None, [4, 1, 3]):
        def out_fn(pd, x, h0, c0, lengths=lengths):
            class Wrap(torch.nn.Module):
                def __init__(s):
                    super().__init__()
                    s.lstm = lstm

                def forward(s, x, h0, c0):
                    out, h, c = rm.lstm_final_state(s.lstm, x, lengths, (h0, c0))
                    return (h, c) if out is None else (out, h, c)
            return functional_call(Wrap(), {'lstm.' + k: v for k, v in pd.items()}, (x, h0, c0))
        gradcheck_model(lstm, out_fn, [x, h0, c0], f'nn.LSTM L=2 lengths={lengths}')

    for dec, lengths in (('repeat', None), ('autoregressive', None), ('repeat', [3, 1]), ('autoregressive', [2, 3])):
        model = rm.ContinuousVAE(2, 3, 2, 2, dec)
        x = torch.randn(2, 3, 2)
        if lengths is not None:
            x = x * rm._length_mask(lengths, 2, 3, x.dtype).unsqueeze(2)
        eps = torch.randn(2, 2)

        def cont_fn(pd, x, eps, model=model, lengths=lengths):
            return functional_call(model, pd, (x, eps, 0.7, lengths))
        gradcheck_model(model, cont_fn, [x, eps], f'ContinuousVAE decoder={dec} L=2 lengths={lengths}')

    for L in (1, 2):
        model = rm.TokenVAE(7, 3, 3, 2, L)
        ids = torch.tensor([[4, 5, 3, 2], [6, 2, 0, 0], [2, 0, 0, 0]])
        lengths = [4, 2, 1]
        eps = torch.randn(3, 2)

        def tok_fn(pd, eps, model=model):
            return functional_call(model, pd, (ids, lengths, eps, 0.7))
        gradcheck_model(model, tok_fn, [eps], f'TokenVAE L={L}')


# ----------------------------------------------------------------------------------------------
# 3. independent implementation

def sig(a):
    return 1.0 / (1.0 + torch.exp(-a))


def manual_lstm(P, prefix, x, L, H, lengths=None, h0=None, c0=None):
    """Explicit loop. x [B,T,I]; returns out [B,T,H] (zero at padded steps), h_n, c_n [L,B,H]."""
    B, T_, _ = x.shape
    if h0 is None:
        h0 = torch.zeros(L, B, H)
        c0 = torch.zeros(L, B, H)
    hs = [h0[k] for k in range(L)]
    cs = [c0[k] for k in range(L)]
    outs = []
    for t in range(T_):
        m = torch.ones(B, 1) if lengths is None else torch.tensor([[1.0 if t < n else 0.0] for n in lengths])
        inp = x[:, t]
        for k in range(L):
            a = (inp @ P[f'{prefix}weight_ih_l{k}'].T + P[f'{prefix}bias_ih_l{k}']
                 + hs[k] @ P[f'{prefix}weight_hh_l{k}'].T + P[f'{prefix}bias_hh_l{k}'])
            i, f, g, o = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]
            c = sig(f) * cs[k] + sig(i) * torch.tanh(g)
            h = sig(o) * torch.tanh(c)
            hs[k] = m * h + (1 - m) * hs[k]
            cs[k] = m * c + (1 - m) * cs[k]
            inp = h
        outs.append(m * hs[L - 1])
    return torch.stack(outs, 1), torch.stack(hs), torch.stack(cs)


def lin(P, prefix, x):
    return x @ P[prefix + '.weight'].T + P[prefix + '.bias']


def manual_kl(mu, lv):
    return sum(-0.5 * (1 + lv[b, j] - mu[b, j] ** 2 - math.e ** lv[b, j])
               for b in range(mu.shape[0]) for j in range(mu.shape[1])) / mu.shape[0]


def manual_continuous(P, cfg, x, eps, beta, lengths):
    H, L, D = cfg['hidden'], cfg['layers'], cfg['features']
    B, T_, _ = x.shape
    _, h, _ = manual_lstm(P, 'encoder.lstm.', x, L, H, lengths)
    mu, lv = lin(P, 'encoder.fc_mu', h[-1]), lin(P, 'encoder.fc_logvar', h[-1])
    z = mu + torch.exp(0.5 * lv) * eps
    steps = []
    for t in range(T_):
        if cfg['decoder'] == 'repeat':
            steps.append(z)
        else:
            prev = torch.zeros(B, D) if t == 0 else x[:, t - 1]
            steps.append(torch.cat([prev, z], 1))
    out, _, _ = manual_lstm(P, 'decoder.lstm.', torch.stack(steps, 1), L, H)
    y = lin(P, 'decoder.fc_out', out)
    recon = 0.0
    for b in range(B):
        n = T_ if lengths is None else lengths[b]
        recon = recon + ((x[b, :n] - y[b, :n]) ** 2).sum()
    recon = recon / B
    kl = manual_kl(mu, lv)
    return recon + beta * kl, recon, kl, mu, lv, z, y


def manual_tokens(P, cfg, ids, lengths, eps, beta):
    H, L = cfg['hidden'], cfg['layers']
    B, T_ = ids.shape
    Emb = P['embedding.weight']
    _, h, _ = manual_lstm(P, 'encoder.lstm.', Emb[ids], L, H, lengths)
    mu, lv = lin(P, 'encoder.fc_mu', h[-1]), lin(P, 'encoder.fc_logvar', h[-1])
    z = mu + torch.exp(0.5 * lv) * eps
    s = torch.tanh(lin(P, 'decoder.fc_init', z))  # [B, 2LH]: h0 layer 0..L-1, then c0 layer 0..L-1
    h0 = torch.stack([s[:, k * H:(k + 1) * H] for k in range(L)])
    c0 = torch.stack([s[:, (L + k) * H:(L + k + 1) * H] for k in range(L)])
    prev = [[1] + ids[b, :-1].tolist() for b in range(B)]
    inp = torch.cat([Emb[torch.tensor(prev)], z.unsqueeze(1).expand(B, T_, z.shape[1])], 2)
    out, _, _ = manual_lstm(P, 'decoder.lstm.', inp, L, H, None, h0, c0)
    logits = lin(P, 'decoder.fc_out', out)
    recon = 0.0
    for b in range(B):
        for t in range(lengths[b]):
            row = logits[b, t]
            recon = recon - (row[ids[b, t]] - torch.log(torch.exp(row - row.max()).sum()) - row.max())
    recon = recon / B
    kl = manual_kl(mu, lv)
    return recon + beta * kl, recon, kl, mu, lv, z, logits


def tens(a, requires_grad=False):
    shape, flat = a
    return torch.tensor(flat, dtype=torch.float64).reshape(shape).requires_grad_(requires_grad)


def params_of(pm):
    return {k: tens(v, True) for k, v in pm.items()}


def close(a, b, what):
    a = torch.as_tensor(a, dtype=torch.float64)
    b = torch.as_tensor(b, dtype=torch.float64)
    assert a.shape == b.shape, (what, a.shape, b.shape)
    err = (a - b).abs().max().item() if a.numel() else 0.0
    scale = max(1.0, b.abs().max().item() if b.numel() else 0.0)
    assert err <= TOL * scale, f'{what}: max abs err {err}'


def load(name):
    with open(os.path.join(FIXTURES, name), encoding='utf-8') as f:
        data = json.load(f)
    assert data['comment'].startswith('Generated by scripts/gen-fixtures (PyTorch '), data['comment']
    return data


def check_lstm_fixture():
    for c in load('lstm.json')['cases']:
        d = c['dims']
        P = params_of(c['params'])
        x = tens(c['x'], True)
        h0 = tens(c['h0'], True) if 'h0' in c else None
        c0 = tens(c['c0'], True) if 'c0' in c else None
        lengths = c.get('lengths')
        out, h, cc = manual_lstm(P, '', x, d['L'], d['H'], lengths, h0, c0)
        close(out, tens(c['out']), c['name'] + ' out')
        close(h, tens(c['h_n']), c['name'] + ' h_n')
        close(cc, tens(c['c_n']), c['name'] + ' c_n')
        s = (tens(c['dout']) * out).sum() + (tens(c['dh_n']) * h).sum() + (tens(c['dc_n']) * cc).sum()
        s.backward()
        grads = {'x': x.grad, **({'h0': h0.grad, 'c0': c0.grad} if h0 is not None else {}),
                 **{k: p.grad for k, p in P.items()}}
        assert list(grads) == list(c['grads']), (list(grads), list(c['grads']))
        for k, g in grads.items():
            close(g, tens(c['grads'][k]), f"{c['name']} grad {k}")
        ok(f"lstm.json {c['name']} (independent loop)")


def check_continuous_fixture():
    for c in load('vae_continuous.json')['cases']:
        cfg = c['config']
        P = params_of(c['params'])
        rm.check_state_dict(_shape_only(c['params']),
                            rm.expected_continuous_keys(cfg['features'], cfg['hidden'], cfg['latent'],
                                                        cfg['layers'], cfg['decoder']))
        x = tens(c['x'])
        loss, recon, kl, mu, lv, z, y = manual_continuous(P, cfg, x, tens(c['eps']), c['beta'], c.get('lengths'))
        for name, v in (('loss', loss), ('recon', recon), ('kl', kl)):
            close(v.item(), c[name], f"{c['name']} {name}")
        close(mu, tens(c['mu']), c['name'] + ' mu')
        close(lv, tens(c['logvar']), c['name'] + ' logvar')
        close(z, tens(c['z']), c['name'] + ' z')
        close(y, tens(c['y']), c['name'] + ' y')
        loss.backward()
        assert list(c['grads']) == list(P)
        for k, p in P.items():
            close(p.grad, tens(c['grads'][k]), f"{c['name']} grad {k}")
        ok(f"vae_continuous.json {c['name']} (independent loop)")


def check_tokens_fixture():
    for c in load('vae_tokens.json')['cases']:
        cfg = c['config']
        P = params_of(c['params'])
        rm.check_state_dict(_shape_only(c['params']),
                            rm.expected_token_keys(cfg['vocabSize'], cfg['embedding'], cfg['hidden'],
                                                   cfg['latent'], cfg['layers']))
        shape, flat = c['ids']
        ids = torch.tensor(flat, dtype=torch.int64).reshape(shape)
        lengths = c['lengths']
        for b, n in enumerate(lengths):
            assert ids[b, n - 1] == rm.EOS and (ids[b, n:] == rm.PAD).all() and (ids[b, :n - 1] >= rm.UNK).all()
        loss, recon, kl, mu, lv, z, logits = manual_tokens(P, cfg, ids, lengths, tens(c['eps']), c['beta'])
        for name, v in (('loss', loss), ('recon', recon), ('kl', kl)):
            close(v.item(), c[name], f"{c['name']} {name}")
        close(mu, tens(c['mu']), c['name'] + ' mu')
        close(lv, tens(c['logvar']), c['name'] + ' logvar')
        close(z, tens(c['z']), c['name'] + ' z')
        close(logits, tens(c['logits']), c['name'] + ' logits')
        loss.backward()
        assert list(c['grads']) == list(P)
        for k, p in P.items():
            close(p.grad, tens(c['grads'][k]), f"{c['name']} grad {k}")
        ok(f"vae_tokens.json {c['name']} (independent loop)")


def check_optim_fixture():
    data = load('optim.json')
    cont = {c['name']: c for c in load('vae_continuous.json')['cases']}[data['case']]
    assert data['params'] == cont['params'] and data['x'] == cont['x'] and data['config'] == cont['config']
    cfg, x, beta = data['config'], tens(data['x']), data['beta']
    for run in data['optimizers']:
        o = run['options']
        P = {k: tens(v) for k, v in data['params'].items()}
        slots = {k: {} for k in P}
        for step, (eps_a, want_loss) in enumerate(zip(run['epsPerStep'], run['losses']), start=1):
            Pg = {k: v.clone().requires_grad_(True) for k, v in P.items()}
            loss = manual_continuous(Pg, cfg, x, tens(eps_a), beta, None)[0]
            loss.backward()
            close(loss.item(), want_loss, f"{run['id']} loss step {step}")
            for k in P:
                p, g, s = P[k], Pg[k].grad.detach(), slots[k]
                wd = o.get('weightDecay', 0.0)
                if run['name'] in ('adam', 'adamw'):
                    b1, b2 = o['betas']
                    if run['name'] == 'adamw':
                        p = p * (1 - o['lr'] * wd)
                    elif wd:
                        g = g + wd * p
                    s['m'] = b1 * s.get('m', torch.zeros_like(p)) + (1 - b1) * g
                    s['v'] = b2 * s.get('v', torch.zeros_like(p)) + (1 - b2) * g * g
                    denom = s['v'].sqrt() / math.sqrt(1 - b2 ** step) + o['eps']
                    p = p - o['lr'] / (1 - b1 ** step) * s['m'] / denom
                elif run['name'] == 'sgd':
                    g = g + wd * p
                    if o['momentum']:
                        s['buf'] = g.clone() if 'buf' not in s else o['momentum'] * s['buf'] + (1 - o['dampening']) * g
                        g = g + o['momentum'] * s['buf'] if o['nesterov'] else s['buf']
                    p = p - o['lr'] * g
                elif run['name'] == 'rmsprop':
                    assert not o['momentum'] and not o['centered']
                    g = g + wd * p
                    s['v'] = o['alpha'] * s.get('v', torch.zeros_like(p)) + (1 - o['alpha']) * g * g
                    p = p - o['lr'] * g / (s['v'].sqrt() + o['eps'])
                else:
                    raise AssertionError(run['name'])
                P[k] = p
        for k in P:
            close(P[k], tens(run['final'][k]), f"{run['id']} final {k}")
        ok(f"optim.json {run['id']} (hand-written update)")


class _shape_only:
    """Adapter so check_state_dict can check a parameter map read from JSON."""

    def __init__(self, pm):
        self.pm = pm

    def state_dict(self):
        return {k: torch.empty(v[0]) for k, v in self.pm.items()}


def main():
    check_keys()
    check_gradcheck()
    check_lstm_fixture()
    check_continuous_fixture()
    check_tokens_fixture()
    check_optim_fixture()
    print('all reference checks passed')


if __name__ == '__main__':
    main()
