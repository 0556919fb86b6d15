"""PyTorch reference of the LSTM-VAE described in /SPEC.md (shared spec of this package).

This module is the ground truth the fixtures in test/fixtures/*.json are generated from
(see scripts/gen-fixtures). It is written to be run in float64
(``torch.set_default_dtype(torch.float64)``) but works in any floating dtype.

The submodule names are chosen so that ``state_dict()`` has exactly the keys of the SPEC's
state-dict table; a file saved from these modules with ``safetensors.torch.save_file`` loads in
the JS package and the other way round.

Models
------
ContinuousVAE(D, H, Z, L, decoder='repeat' | 'autoregressive')
    encoder.lstm      nn.LSTM(D, H, L, batch_first=True)
    encoder.fc_mu     nn.Linear(H, Z)
    encoder.fc_logvar nn.Linear(H, Z)
    decoder.lstm      nn.LSTM(Z, H, L)            ('repeat': input z at every step)
                      nn.LSTM(D + Z, H, L)        ('autoregressive', see below)
    decoder.fc_out    nn.Linear(H, D)

    'autoregressive' (not defined by the SPEC; defined here): the decoder input at step t is
    concat(x_{t-1}, z) -- previous frame first, then z -- with x_{-1} = 0 (teacher forcing),
    zero initial state.

    Optional ``lengths`` [B] (variable-length continuous sequences): the encoder's final state
    is the state after step len_b - 1 (pack_padded_sequence, enforce_sorted=False) and recon sums
    only over t < len_b. The decoder always runs over all T steps (it is causal, so steps
    t >= len_b cannot influence the loss).

TokenVAE(V, E, H, Z, L)
    embedding         nn.Embedding(V, E)          (shared by encoder and decoder, no padding_idx)
    encoder.lstm      nn.LSTM(E, H, L, batch_first=True)
    encoder.fc_mu     nn.Linear(H, Z)
    encoder.fc_logvar nn.Linear(H, Z)
    decoder.fc_init   nn.Linear(Z, 2*L*H)
    decoder.lstm      nn.LSTM(E + Z, H, L, batch_first=True)
    decoder.fc_out    nn.Linear(H, V)

    Token ids: PAD 0, BOS 1, EOS 2, UNK 3. ``lengths[b]`` counts the tokens of sequence b through
    its EOS; positions t >= lengths[b] hold PAD. The ids do NOT start with BOS (BOS is only the
    decoder's x_{-1}).

    Decoder initial state layout (our definition; the SPEC only says "through tanh"):
        s = tanh(fc_init(z))                # [B, 2*L*H]
        s = s.view(B, 2, L, H)
        h0 of layer k = s[:, 0, k, :]       # i.e. flat index  (0*L + k)*H + j
        c0 of layer k = s[:, 1, k, :]       # i.e. flat index  (1*L + k)*H + j
    so fc_init's output rows are [h0 layer 0 | h0 layer 1 | ... | c0 layer 0 | c0 layer 1 | ...],
    H rows each.

    Decoder input at step t: concat(embed(x_{t-1}), z) -- embedding first, then z -- with
    x_{-1} = BOS; logits_t = fc_out(h_t) of the top layer.
    recon = (1/B) sum_b sum_{t < len_b} -log softmax(logits_bt)[x_bt].
    No word dropout in the reference (wordDropout = 0).

Both models' forward(...) return (loss, recon, kl, mu, logvar, y) with
    z     = mu + exp(0.5 * logvar) * eps
    kl    = (1/B) sum_b sum_j -0.5 * (1 + logvar - mu^2 - exp(logvar))
    loss  = recon + beta * kl
and y the decoder output for z ([B, T, D] frames for ContinuousVAE, [B, T, V] logits for
TokenVAE; teacher-forced in the autoregressive decoders).
"""

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

PAD, BOS, EOS, UNK = 0, 1, 2, 3


def _lengths_cpu(lengths):
    return torch.as_tensor(lengths, dtype=torch.int64).cpu()


def _length_mask(lengths, B, T, dtype):
    """[B, T] mask with 1 where t < lengths[b]."""
    if lengths is None:
        return None
    lens = _lengths_cpu(lengths)
    return (torch.arange(T).unsqueeze(0) < lens.unsqueeze(1)).to(dtype)


def kl_divergence(mu, logvar):
    """(1/B) sum_b sum_j -1/2 (1 + logvar - mu^2 - exp(logvar))."""
    B = mu.shape[0]
    return (-0.5 * (1.0 + logvar - mu.pow(2) - logvar.exp())).sum() / B


def lstm_final_state(lstm, x, lengths=None, state=None):
    """Run an nn.LSTM (batch_first) over x; return (out_padded_or_None, h_n, c_n).

    With lengths, the sequence is packed (enforce_sorted=False) so (h_n, c_n) are the states after
    each sequence's last real step, in the original batch order."""
    if lengths is None:
        out, (h, c) = lstm(x, state)
        return out, h, c
    packed = pack_padded_sequence(x, _lengths_cpu(lengths), batch_first=True, enforce_sorted=False)
    _, (h, c) = lstm(packed, state)
    return None, h, c


class Encoder(nn.Module):
    def __init__(self, I, H, Z, L):
        super().__init__()
        self.lstm = nn.LSTM(I, H, L, batch_first=True)
        self.fc_mu = nn.Linear(H, Z)
        self.fc_logvar = nn.Linear(H, Z)

    def forward(self, x, lengths=None):
        """x: [B, T, I] -> (mu, logvar), each [B, Z], from the top layer's final h."""
        _, h, _ = lstm_final_state(self.lstm, x, lengths)
        top = h[-1]
        return self.fc_mu(top), self.fc_logvar(top)


class ContinuousDecoder(nn.Module):
    def __init__(self, D, H, Z, L, kind):
        super().__init__()
        if kind not in ('repeat', 'autoregressive'):
            raise ValueError(f'unknown decoder {kind!r}')
        self.kind = kind
        in_size = Z if kind == 'repeat' else D + Z
        self.lstm = nn.LSTM(in_size, H, L, batch_first=True)
        self.fc_out = nn.Linear(H, D)

    def forward(self, z, T, x=None):
        """z: [B, Z] -> y [B, T, D]. 'autoregressive' needs x [B, T, D] for teacher forcing."""
        B, Z = z.shape
        zs = z.unsqueeze(1).expand(B, T, Z)
        if self.kind == 'repeat':
            inp = zs
        else:
            if x is None:
                raise ValueError('autoregressive decoder needs x (teacher forcing)')
            prev = torch.cat([torch.zeros_like(x[:, :1]), x[:, :-1]], dim=1)  # x_{t-1}, x_{-1} = 0
            inp = torch.cat([prev, zs], dim=2)
        out, _ = self.lstm(inp)
        return self.fc_out(out)


class ContinuousVAE(nn.Module):
    def __init__(self, D, H, Z, L=1, decoder='repeat'):
        super().__init__()
        self.D, self.H, self.Z, self.L, self.decoder_kind = D, H, Z, L, decoder
        self.encoder = Encoder(D, H, Z, L)
        self.decoder = ContinuousDecoder(D, H, Z, L, decoder)

    def forward(self, x, eps, beta=1.0, lengths=None):
        B, T, D = x.shape
        mu, logvar = self.encoder(x, lengths)
        z = mu + torch.exp(0.5 * logvar) * eps
        y = self.decoder(z, T, x)
        sq = (x - y).pow(2).sum(dim=2)  # [B, T]
        mask = _length_mask(lengths, B, T, sq.dtype)
        if mask is not None:
            sq = sq * mask
        recon = sq.sum() / B
        kl = kl_divergence(mu, logvar)
        loss = recon + beta * kl
        return loss, recon, kl, mu, logvar, y


class TokenDecoder(nn.Module):
    def __init__(self, V, E, H, Z, L):
        super().__init__()
        self.H, self.L = H, L
        self.fc_init = nn.Linear(Z, 2 * L * H)
        self.lstm = nn.LSTM(E + Z, H, L, batch_first=True)
        self.fc_out = nn.Linear(H, V)

    def initial_state(self, z):
        """(h0, c0), each [L, B, H] as nn.LSTM wants them; see the module docstring for the layout."""
        B = z.shape[0]
        s = torch.tanh(self.fc_init(z)).view(B, 2, self.L, self.H)
        h0 = s[:, 0].transpose(0, 1).contiguous()
        c0 = s[:, 1].transpose(0, 1).contiguous()
        return h0, c0

    def forward(self, z, prev_emb):
        """z [B, Z], prev_emb [B, T, E] = embed(x_{t-1}) -> logits [B, T, V]."""
        B, T, _ = prev_emb.shape
        zs = z.unsqueeze(1).expand(B, T, z.shape[1])
        inp = torch.cat([prev_emb, zs], dim=2)
        out, _ = self.lstm(inp, self.initial_state(z))
        return self.fc_out(out)


class TokenVAE(nn.Module):
    def __init__(self, V, E, H, Z, L=1):
        super().__init__()
        self.V, self.E, self.H, self.Z, self.L = V, E, H, Z, L
        self.embedding = nn.Embedding(V, E)
        self.encoder = Encoder(E, H, Z, L)
        self.decoder = TokenDecoder(V, E, H, Z, L)

    def forward(self, ids, lengths, eps, beta=1.0):
        """ids [B, T] int64 (padded with PAD), lengths [B] (through EOS), eps [B, Z]."""
        B, T = ids.shape
        emb = self.embedding(ids)
        mu, logvar = self.encoder(emb, lengths)
        z = mu + torch.exp(0.5 * logvar) * eps
        prev = torch.cat([torch.full_like(ids[:, :1], BOS), ids[:, :-1]], dim=1)
        logits = self.decoder(z, self.embedding(prev))
        nll = -torch.log_softmax(logits, dim=2).gather(2, ids.unsqueeze(2)).squeeze(2)  # [B, T]
        nll = nll * _length_mask(lengths, B, T, nll.dtype)
        recon = nll.sum() / B
        kl = kl_divergence(mu, logvar)
        loss = recon + beta * kl
        return loss, recon, kl, mu, logvar, logits


# ----------------------------------------------------------------------------------------------
# The SPEC's state-dict tables, for checks.

def lstm_keys(prefix, I, H, L):
    """[(key, shape)] of an nn.LSTM(I, H, L) under `prefix`, in nn.LSTM's order."""
    out = []
    for k in range(L):
        inp = I if k == 0 else H
        out += [
            (f'{prefix}weight_ih_l{k}', [4 * H, inp]),
            (f'{prefix}weight_hh_l{k}', [4 * H, H]),
            (f'{prefix}bias_ih_l{k}', [4 * H]),
            (f'{prefix}bias_hh_l{k}', [4 * H]),
        ]
    return out


def expected_continuous_keys(D, H, Z, L, decoder='repeat'):
    dec_in = Z if decoder == 'repeat' else D + Z
    return (
        lstm_keys('encoder.lstm.', D, H, L)
        + [('encoder.fc_mu.weight', [Z, H]), ('encoder.fc_mu.bias', [Z]),
           ('encoder.fc_logvar.weight', [Z, H]), ('encoder.fc_logvar.bias', [Z])]
        + lstm_keys('decoder.lstm.', dec_in, H, L)
        + [('decoder.fc_out.weight', [D, H]), ('decoder.fc_out.bias', [D])]
    )


def expected_token_keys(V, E, H, Z, L):
    return (
        [('embedding.weight', [V, E])]
        + lstm_keys('encoder.lstm.', E, H, L)
        + [('encoder.fc_mu.weight', [Z, H]), ('encoder.fc_mu.bias', [Z]),
           ('encoder.fc_logvar.weight', [Z, H]), ('encoder.fc_logvar.bias', [Z]),
           ('decoder.fc_init.weight', [2 * L * H, Z]), ('decoder.fc_init.bias', [2 * L * H])]
        + lstm_keys('decoder.lstm.', E + Z, H, L)
        + [('decoder.fc_out.weight', [V, H]), ('decoder.fc_out.bias', [V])]
    )


def check_state_dict(model, expected):
    """Raise unless model.state_dict() has exactly the expected keys, order and shapes."""
    got = [(k, list(v.shape)) for k, v in model.state_dict().items()]
    if got != expected:
        raise AssertionError(f'state_dict mismatch:\n got      {got}\n expected {expected}')
