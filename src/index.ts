// Browser entry (the default export condition): fetches the .wasm builds, threads on module Workers.
import { setPlatform } from './backend/platform.js';
import { browserPlatform } from './backend/browser.js';

setPlatform(browserPlatform);
export * from './api.js';
