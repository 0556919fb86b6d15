// Report builders (HTML + SVG), used by the CLI and the demo.
export * from './svg.js';
export * from './html.js';
