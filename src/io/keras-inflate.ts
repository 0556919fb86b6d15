/**
 * The one pako function jsfive's HDF5 reader uses (zlib inflate, for the deflate filter of chunked
 * datasets), done by fflate, which the package bundles already for `.keras` zips. tsup.config.ts
 * points jsfive's import of pako here: the bundles then carry one inflate instead of all of pako.
 */
import { unzlibSync } from 'fflate';

export function inflate(data: Uint8Array): Uint8Array {
  const out = unzlibSync(data);
  // jsfive takes `.buffer`: it must hold exactly the output
  return out.byteOffset === 0 && out.byteLength === out.buffer.byteLength ? out : out.slice();
}
