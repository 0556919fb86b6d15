//! Test helpers: random inputs and finite-difference gradient checks (f64).

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

pub fn rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

pub fn rand_vec(rng: &mut ChaCha8Rng, n: usize, scale: f64) -> Vec<f64> {
    (0..n).map(|_| rng.gen_range(-scale..scale)).collect()
}

pub fn to_f32(v: &[f64]) -> Vec<f32> {
    v.iter().map(|&x| x as f32).collect()
}

/// Compares analytic gradients with central differences (step 1e-6) of `loss` for every
/// element of every parameter. Returns the largest error found, relative to
/// `max(|analytic|, |numeric|, 1e-3)`, and panics above `tol`.
pub fn check_grads(
    what: &str, names: &[&str], params: &[Vec<f64>], grads: &[Vec<f64>], loss: impl Fn(&[Vec<f64>]) -> f64, tol: f64,
) -> f64 {
    assert_eq!(names.len(), params.len());
    assert_eq!(grads.len(), params.len());
    let h = 1e-6;
    let mut worst = 0.0f64;
    let mut q = params.to_vec();
    for p in 0..params.len() {
        assert_eq!(params[p].len(), grads[p].len(), "{what}: gradient of {} has the wrong length", names[p]);
        for k in 0..params[p].len() {
            let v = params[p][k];
            q[p][k] = v + h;
            let lp = loss(&q);
            q[p][k] = v - h;
            let lm = loss(&q);
            q[p][k] = v;
            let num = (lp - lm) / (2.0 * h);
            let ana = grads[p][k];
            let err = (num - ana).abs() / ana.abs().max(num.abs()).max(1e-3);
            assert!(err <= tol, "{what}: d/d{}[{k}]: analytic {ana:e}, numeric {num:e} (rel err {err:e})", names[p]);
            worst = worst.max(err);
        }
    }
    worst
}

/// `Σ r·v`
pub fn dot(r: &[f64], v: &[f64]) -> f64 {
    assert_eq!(r.len(), v.len());
    r.iter().zip(v).map(|(a, b)| a * b).sum()
}

/// Tests that change the global thread count hold this lock.
pub static THREADS_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
