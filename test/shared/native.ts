// Whether the native Node backend is built (dist/native/<platform>-<arch>/): the test files that loop
// over builds add 'native' then. CI sets LSTM_VAE_REQUIRE_NATIVE=1, so there a missing binary fails
// (init({ build: 'native' }) throws) instead of being skipped.
import { existsSync } from 'node:fs';

const file = new URL(`../../dist/native/${process.platform}-${process.arch}/lstm_vae_native.node`, import.meta.url);

export const NATIVE_BUILT = existsSync(file);

/** ['native'] when it is built (or required), [] otherwise: spread into a list of builds. */
export const NATIVE_BUILDS: 'native'[] = NATIVE_BUILT || process.env.LSTM_VAE_REQUIRE_NATIVE === '1' ? ['native'] : [];
